"""The demo marketplace that `manage.py seed_demo` writes: accounts, shops, products and shows.

Plain data only. Every record carries a natural key (username, shop slug, product slug, SKU, show
title) so the command can tell what already exists and skip it.
"""

from dataclasses import dataclass
from decimal import Decimal

DEMO_URL = "http://127.0.0.1:8000"
PLAYBACK_URL = "https://test-streams.mux.dev/x36xhzz/x36xhzz.m3u8"
REPLAY_URL = "https://test-streams.mux.dev/x36xhzz/x36xhzz.m3u8"


@dataclass(frozen=True)
class AccountSpec:
    username: str
    email: str
    password: str
    role: str
    display_name: str = ""
    is_superuser: bool = False


@dataclass(frozen=True)
class ShopSpec:
    slug: str
    name: str
    owner: str
    currency: str
    description: str
    category: tuple[str, str]  # (parent, child), e.g. ("Music", "Vinyl")
    palette: tuple[str, str]
    motif: str  # how generated images look: "record", "sneaker" or "bottle"
    sku_prefix: str
    blocked_words: tuple[str, ...] = ()  # refused in the shop's show chats


@dataclass(frozen=True)
class VariantSpec:
    code: str  # appended to the product code to make the SKU
    name: str
    options: dict
    price: Decimal
    on_hand: int
    compare_at_price: Decimal | None = None


@dataclass(frozen=True)
class ProductSpec:
    code: str
    title: str
    subtitle: str
    description: str
    variants: tuple[VariantSpec, ...]
    palette: tuple[str, str]
    featured: bool = False
    draft: bool = False
    images: int = 1


ACCOUNTS = (
    AccountSpec("ops", "ops@livemarket.test", "ops-demo-pass", "superuser (ops staff)", "Ops Desk", True),
    AccountSpec(
        "merchant", "merchant@livemarket.test", "merchant-demo-pass", "owner of vinyl-vault", "Vinyl Vault"
    ),
    AccountSpec(
        "merchant2",
        "merchant2@livemarket.test",
        "merchant2-demo-pass",
        "owner of sneaker-sanctum",
        "Sneaker Sanctum",
    ),
    AccountSpec(
        "merchant3", "merchant3@livemarket.test", "merchant3-demo-pass", "owner of glow-lab", "Glow Lab"
    ),
    AccountSpec("shopper", "shopper@livemarket.test", "shopper-demo-pass", "shopper", "Sam Shopper"),
    AccountSpec(
        "bidder", "bidder@livemarket.test", "bidder-demo-pass", "shopper (second bidder)", "Bea Bidder"
    ),
)

# Shoppers seeded ready to bid: a saved test card and a shipping address.
BIDDERS = {
    "shopper": {
        "full_name": "Sam Shopper",
        "line1": "12 Rua das Flores",
        "city": "Lisbon",
        "postal_code": "1200-195",
        "country": "PT",
        "phone": "",
        "line2": "",
    },
    "bidder": {
        "full_name": "Bea Bidder",
        "line1": "5 Canal Street",
        "city": "Amsterdam",
        "postal_code": "1012 AB",
        "country": "NL",
        "phone": "",
        "line2": "",
    },
}
DEMO_CARD = "4242424242424242"

SHOPS = (
    ShopSpec(
        slug="vinyl-vault",
        name="Vinyl Vault",
        owner="merchant",
        currency="USD",
        description=(
            "New pressings, reissues and rare finds, dug out of the crates live every Friday night. "
            "Every record is checked for warps and graded before it ships in a stiff mailer."
        ),
        category=("Music", "Vinyl"),
        palette=("#1d1b4c", "#e8505b"),
        motif="record",
        sku_prefix="VV",
        blocked_words=("spam", "scam", "free followers"),
    ),
    ShopSpec(
        slug="sneaker-sanctum",
        name="Sneaker Sanctum",
        owner="merchant2",
        currency="EUR",
        description=(
            "Runners, court classics and limited drops from independent makers. Authenticity checked, "
            "double-boxed, and released on stream first."
        ),
        category=("Fashion", "Sneakers"),
        palette=("#0f4c5c", "#f4a259"),
        motif="sneaker",
        sku_prefix="SS",
        blocked_words=("spam", "fake", "replica"),
    ),
    ShopSpec(
        slug="glow-lab",
        name="Glow Lab",
        owner="merchant3",
        currency="USD",
        description=(
            "Small-batch skincare formulated for sensitive skin: fragrance-free, cruelty-free, and "
            "demonstrated live so you can see the textures before you buy."
        ),
        category=("Beauty", "Skincare"),
        palette=("#f7c6c7", "#7b5ea7"),
        motif="bottle",
        sku_prefix="GL",
        blocked_words=("spam", "scam"),
    ),
)


def _d(value: str) -> Decimal:
    return Decimal(value)


def _vinyl(
    price: str,
    std: int,
    colour: int | None = None,
    deluxe: int | None = None,
    colour_name: str = "Transparent red",
    compare: str | None = None,
) -> tuple[VariantSpec, ...]:
    """A record's editions: standard black, optionally a coloured pressing and a deluxe 2LP."""
    base = _d(price)
    variants = [
        VariantSpec(
            "STD",
            "Standard black vinyl",
            {"format": "LP", "edition": "Standard"},
            base,
            std,
            _d(compare) if compare else None,
        ),
    ]
    if colour is not None:
        variants.append(
            VariantSpec(
                "COL",
                f"{colour_name} vinyl (limited)",
                {"format": "LP", "edition": colour_name},
                base + 6,
                colour,
            )
        )
    if deluxe is not None:
        variants.append(
            VariantSpec(
                "DLX", "Deluxe 2LP gatefold", {"format": "2LP", "edition": "Deluxe"}, base + 14, deluxe
            )
        )
    return tuple(variants)


def _sizes(price: str, stock: dict[str, int], compare: str | None = None) -> tuple[VariantSpec, ...]:
    """Sneaker sizes (EU) with a unit count each."""
    return tuple(
        VariantSpec(
            f"EU{size}",
            f"EU {size}",
            {"size": f"EU {size}"},
            _d(price),
            on_hand,
            _d(compare) if compare else None,
        )
        for size, on_hand in stock.items()
    )


def _ml(
    options: dict[str, tuple[str, int]], compare: dict[str, str] | None = None
) -> tuple[VariantSpec, ...]:
    """Skincare sizes: {"30 ml": ("24.00", 40)}."""
    compare = compare or {}
    return tuple(
        VariantSpec(
            size.replace(" ", "").upper(),
            size,
            {"size": size},
            _d(price),
            on_hand,
            _d(compare[size]) if size in compare else None,
        )
        for size, (price, on_hand) in options.items()
    )


PRODUCTS: dict[str, tuple[ProductSpec, ...]] = {
    "vinyl-vault": (
        ProductSpec(
            "NTIDE",
            "Neon Tides",
            "Midnight Arcade",
            "The synth-pop debut that soundtracked a summer: ten tracks of chorus-drenched guitars and "
            "drum machines, remastered from the original tapes. Includes a printed lyric sheet.",
            _vinyl("29.00", 24, colour=3, deluxe=8, colour_name="Sea-glass green"),
            ("#12355b", "#33c3c0"),
            featured=True,
            images=2,
        ),
        ProductSpec(
            "LOWSUN",
            "Low Sun Over Lisbon",
            "Marta Quental Quartet",
            "A late-night jazz session recorded live to two-track in a single evening. Warm upright "
            "bass, brushed drums and Quental's unhurried piano. 180g pressing.",
            _vinyl("34.00", 12, deluxe=2),
            ("#3b1f2b", "#db9d47"),
            featured=True,
            images=2,
        ),
        ProductSpec(
            "CONCR",
            "Concrete Garden",
            "The Hollow Pines",
            "Fuzzed-out garage rock with hooks for days. Mastered loud, cut loud. Black vinyl with a "
            "download card.",
            _vinyl("24.00", 30, colour=10, colour_name="Splatter"),
            ("#2d3a3a", "#9bc53d"),
        ),
        ProductSpec(
            "STAT",
            "Static Bloom",
            "Ivy Calder",
            "Dream-pop songs built on tape loops and field recordings. Hand-numbered sleeve; once "
            "this pressing is gone it is gone.",
            _vinyl("27.00", 0, colour=0, colour_name="Clear"),
            ("#4b3f72", "#ffc857"),
        ),
        ProductSpec(
            "MOTOR",
            "Motorik Hours",
            "Autobahn Kids",
            "Eight hypnotic krautrock grooves at a steady 130 bpm. Perfect for long drives and longer "
            "afternoons.",
            _vinyl("26.00", 18),
            ("#1b263b", "#e0e1dd"),
        ),
        ProductSpec(
            "FIRST",
            "First Light Sessions",
            "Various Artists",
            "A compilation of dawn-themed ambient pieces from twelve independent producers. Double LP "
            "in a matte gatefold.",
            _vinyl("38.00", 2, deluxe=1),
            ("#ff9a8b", "#355c7d"),
            images=2,
        ),
        ProductSpec(
            "BRASS",
            "Brass Knuckle Soul",
            "The Delmonicos",
            "Horn-driven northern soul stompers with a rough-edged 1960s sound. Recorded on vintage "
            "gear to sound like a lost 45 collection.",
            _vinyl("25.00", 16, colour=6, colour_name="Gold"),
            ("#5f0f40", "#fb8b24"),
            featured=True,
        ),
        ProductSpec(
            "QUIET",
            "Quiet Machines",
            "Lumen Array",
            "Minimal electronica for headphones and small rooms. Cut at 45 rpm for extra dynamic range.",
            _vinyl("31.00", 9),
            ("#0b132b", "#5bc0be"),
        ),
        ProductSpec(
            "DUST",
            "Dust Road Ballads",
            "Jolene Harte",
            "Alt-country songs about leaving and coming home, with pedal steel and close harmonies.",
            _vinyl("23.00", 21, colour=4, colour_name="Whiskey brown"),
            ("#7f5539", "#ede0d4"),
        ),
        ProductSpec(
            "ORBIT",
            "Orbit Decay",
            "Saturn Sleeps",
            "Heavy psych epics, two sides, four songs. Comes with a fold-out poster.",
            _vinyl("28.00", 7, deluxe=3),
            ("#240046", "#ff6d00"),
        ),
        ProductSpec(
            "BOSSA",
            "Bossa for Rainy Days",
            "Cláudia Ribeiro",
            "Gentle bossa nova standards and originals for guitar, voice and a little flute.",
            _vinyl("26.00", 14, compare="32.00"),
            ("#386641", "#f2e8cf"),
        ),
        ProductSpec(
            "TEST",
            "Test Pressing Mystery Box",
            "Vinyl Vault",
            "Three surprise test pressings picked by the crew. Sold only during live shows; coming "
            "back soon.",
            _vinyl("45.00", 5),
            ("#222222", "#bbbbbb"),
            draft=True,
        ),
        ProductSpec(
            "CARE",
            "Record Care Kit",
            "Vinyl Vault",
            "Carbon-fibre brush, anti-static cloth, stylus cleaner and 25 inner sleeves: everything "
            "your collection needs.",
            (VariantSpec("KIT", "Complete kit", {"format": "Kit"}, _d("19.00"), 40),),
            ("#264653", "#e9c46a"),
        ),
    ),
    "sneaker-sanctum": (
        ProductSpec(
            "RUN90",
            "Stride Runner 90",
            "Stride Co.",
            "A retro runner with a suede-and-mesh upper, foam midsole and gum outsole. Runs true to size.",
            _sizes("119.00", {"40": 6, "41": 9, "42": 12, "43": 5}),
            ("#0f4c5c", "#f4a259"),
            featured=True,
            images=2,
        ),
        ProductSpec(
            "COURT",
            "Courtside Low Leather",
            "Baseline Athletic",
            "A clean white leather court shoe with a padded collar and stitched cupsole. Goes with "
            "everything.",
            _sizes("95.00", {"39": 4, "41": 10, "43": 8, "45": 3}),
            ("#f1faee", "#457b9d"),
            featured=True,
        ),
        ProductSpec(
            "TRAIL",
            "Ridgeback Trail GTX",
            "Summit Foot",
            "Waterproof trail shoe with a rock plate and 5 mm lugs for wet, rough ground.",
            _sizes("149.00", {"41": 3, "42": 2, "44": 1}),
            ("#344e41", "#a3b18a"),
        ),
        ProductSpec(
            "HIGH",
            "Atlas High-Top Canvas",
            "Forge & Fold",
            "Heavy-duty canvas high-top with a vulcanised sole. Breaks in beautifully.",
            _sizes("79.00", {"38": 7, "40": 11, "42": 9}),
            ("#9d0208", "#ffba08"),
        ),
        ProductSpec(
            "KNIT",
            "Aero Knit Trainer",
            "Stride Co.",
            "One-piece knit upper, sock-like fit, super light at 230 g a shoe.",
            _sizes("109.00", {"40": 10, "42": 14, "44": 6}, compare="129.00"),
            ("#3a0ca3", "#4cc9f0"),
        ),
        ProductSpec(
            "SUEDE",
            "Terrace Suede OG",
            "Baseline Athletic",
            "The terrace classic in sand suede with a contrasting three-stripe panel and gum sole.",
            _sizes("99.00", {"41": 0, "42": 0, "43": 0}),
            ("#c9ada7", "#4a4e69"),
        ),
        ProductSpec(
            "GLOW",
            "Night Shift Reflective",
            "Lumen Feet",
            "A 3M reflective upper that lights up under flash. Limited run of 200 pairs.",
            _sizes("139.00", {"42": 2, "43": 1}),
            ("#111111", "#c0fdff"),
            featured=True,
        ),
        ProductSpec(
            "SLIDE",
            "Cloud Slide",
            "Forge & Fold",
            "Moulded recovery slide with a cushioned footbed. For after the run, or instead of it.",
            _sizes("35.00", {"39": 20, "42": 25, "45": 15}),
            ("#ffafcc", "#bde0fe"),
        ),
        ProductSpec(
            "HOOP",
            "Hangtime Mid",
            "Baseline Athletic",
            "A basketball mid with an ankle strap, herringbone traction and a leather upper.",
            _sizes("129.00", {"42": 5, "43": 7, "44": 4, "46": 2}),
            ("#e63946", "#1d3557"),
            images=2,
        ),
        ProductSpec(
            "VEGAN",
            "Field Vegan Runner",
            "Greenstep",
            "Made from recycled PET and cactus leather. Light, breathable and fully vegan.",
            _sizes("115.00", {"38": 6, "40": 8, "42": 8}),
            ("#588157", "#dad7cd"),
        ),
        ProductSpec(
            "SKATE",
            "Kickflip Pro Low",
            "Deckside",
            "A skate shoe with a reinforced ollie area and a grippy waffle sole.",
            _sizes("72.00", {"40": 9, "41": 12, "43": 10, "44": 6}),
            ("#ff006e", "#fb5607"),
        ),
        ProductSpec(
            "LACE",
            "Waxed Laces (3 pairs)",
            "Sneaker Sanctum",
            "Flat waxed cotton laces in black, white and tan. 120 cm fits most low and mid tops.",
            (
                VariantSpec("120", "120 cm", {"length": "120 cm"}, _d("12.00"), 60),
                VariantSpec("140", "140 cm", {"length": "140 cm"}, _d("12.00"), 40),
            ),
            ("#6d6875", "#ffcdb2"),
        ),
        ProductSpec(
            "CLEAN",
            "Sneaker Cleaning Kit",
            "Sneaker Sanctum",
            "Foaming cleaner, stiff and soft brushes, and a microfibre towel.",
            (VariantSpec("KIT", "Kit", {"format": "Kit"}, _d("24.00"), 30),),
            ("#2a9d8f", "#e76f51"),
        ),
    ),
    "glow-lab": (
        ProductSpec(
            "DEW",
            "Morning Dew Hyaluronic Serum",
            "Glow Lab",
            "Three weights of hyaluronic acid plus panthenol for bouncy, hydrated skin. Fragrance-free.",
            _ml({"15 ml": ("16.00", 30), "30 ml": ("26.00", 45)}),
            ("#a0c4ff", "#caffbf"),
            featured=True,
            images=2,
        ),
        ProductSpec(
            "BARR",
            "Barrier Repair Cream",
            "Glow Lab",
            "Ceramides, cholesterol and fatty acids in a 3:1:1 ratio to rebuild a stressed skin barrier.",
            _ml({"50 ml": ("32.00", 25), "100 ml": ("54.00", 12)}),
            ("#ffd6a5", "#fdffb6"),
            featured=True,
        ),
        ProductSpec(
            "VITC",
            "Bright Start Vitamin C 15%",
            "Glow Lab",
            "Stable ascorbyl glucoside serum with ferulic acid. Evens tone without the sting.",
            _ml({"30 ml": ("29.00", 3)}),
            ("#ffadad", "#ffd6a5"),
        ),
        ProductSpec(
            "SPF",
            "Daily Veil SPF 50",
            "Glow Lab",
            "A weightless, no-white-cast sunscreen that sits well under make-up.",
            _ml({"50 ml": ("22.00", 60)}),
            ("#fdffb6", "#9bf6ff"),
            featured=True,
        ),
        ProductSpec(
            "CLNS",
            "Cloud Gel Cleanser",
            "Glow Lab",
            "A low-pH gel cleanser that removes sunscreen without stripping.",
            _ml({"150 ml": ("18.00", 40), "300 ml": ("28.00", 20)}),
            ("#bdb2ff", "#ffc6ff"),
        ),
        ProductSpec(
            "RETI",
            "Night Shift Retinal 0.05%",
            "Glow Lab",
            "Encapsulated retinaldehyde for smoother texture, gentle enough for beginners.",
            _ml({"30 ml": ("38.00", 0)}),
            ("#6a4c93", "#ffca3a"),
        ),
        ProductSpec(
            "TONER",
            "Rice Water Essence Toner",
            "Glow Lab",
            "Fermented rice water and niacinamide to soften and brighten.",
            _ml({"100 ml": ("20.00", 35), "200 ml": ("32.00", 15)}, compare={"200 ml": "40.00"}),
            ("#f1e3d3", "#99c1b9"),
        ),
        ProductSpec(
            "MASK",
            "Overnight Oat Mask",
            "Glow Lab",
            "Colloidal oatmeal sleeping mask that calms redness while you sleep.",
            _ml({"75 ml": ("24.00", 2)}),
            ("#e9edc9", "#d4a373"),
        ),
        ProductSpec(
            "LIP",
            "Peptide Lip Treatment",
            "Glow Lab",
            "A cushiony balm with peptides and shea in four sheer tints.",
            tuple(
                VariantSpec(code, name, {"shade": name}, _d("14.00"), on_hand)
                for code, name, on_hand in (
                    ("CLR", "Clear", 50),
                    ("ROSE", "Rose", 30),
                    ("BERRY", "Berry", 18),
                    ("COCOA", "Cocoa", 9),
                )
            ),
            ("#ff8fab", "#fb6f92"),
            images=2,
        ),
        ProductSpec(
            "EYE",
            "Depuff Eye Gel",
            "Glow Lab",
            "Caffeine and green-tea eye gel with a cooling metal applicator.",
            _ml({"15 ml": ("19.00", 28)}),
            ("#cdeac0", "#86a873"),
        ),
        ProductSpec(
            "OIL",
            "Squalane Facial Oil",
            "Glow Lab",
            "Plant-derived squalane, 100% pure, for dry patches and glossy cheekbones.",
            _ml({"30 ml": ("17.00", 33), "60 ml": ("28.00", 14)}),
            ("#ffe5b4", "#ffb347"),
        ),
        ProductSpec(
            "SET",
            "Glass Skin Starter Set",
            "Glow Lab",
            "Cleanser, essence, serum and SPF in travel sizes: the routine we build on stream.",
            (VariantSpec("SET", "Starter set", {"format": "Set"}, _d("49.00"), 12, _d("62.00")),),
            ("#ffc8dd", "#a2d2ff"),
            featured=True,
        ),
        ProductSpec(
            "PATCH",
            "Clear Skin Spot Patches",
            "Glow Lab",
            "Hydrocolloid patches in two sizes, 36 per pack.",
            _ml({"36 pack": ("9.00", 80)}),
            ("#e2ece9", "#bee1e6"),
        ),
        ProductSpec(
            "MIST",
            "Rose Hydrating Mist",
            "Glow Lab",
            "A fine mist of rose water and glycerin for a mid-afternoon refresh.",
            _ml({"100 ml": ("15.00", 22)}),
            ("#ffe5ec", "#ffb3c6"),
        ),
    ),
}


@dataclass(frozen=True)
class ShowSpec:
    shop: str
    title: str
    description: str
    start_in_hours: float  # relative to now; negative for the show that is already live
    lineup: tuple[str, ...]  # product codes
    live: bool = False
    pinned: str = ""  # product code
    chat: tuple[tuple[str, str], ...] = ()  # (username, text)
    ended: bool = False  # went live and ended when seeded, with `pins` as its replay chapters
    pins: tuple[str, ...] = ()  # product codes pinned in turn while the ended show was live
    replay_url: str = ""
    cohosts: tuple[str, ...] = ()  # usernames given the co-host role in this show
    reminders: tuple[str, ...] = ()  # usernames who asked to be reminded (scheduled shows)


SHOWS = (
    ShowSpec(
        shop="vinyl-vault",
        title="Friday Night Crate Digging",
        description="We open this week's boxes live: new pressings, colour variants and a few rarities.",
        start_in_hours=-0.25,
        lineup=("NTIDE", "LOWSUN", "BRASS", "FIRST", "ORBIT", "CARE"),
        live=True,
        pinned="NTIDE",
        cohosts=("merchant2",),
        chat=(
            ("shopper", "Hi from Lisbon! Is the sea-glass green pressing still available?"),
            ("merchant", "It is, only a few left. Pinned it for you above."),
            ("merchant2", "That Neon Tides sleeve is gorgeous."),
            ("shopper", "Just grabbed one. Can you play a bit of Low Sun Over Lisbon next?"),
            ("merchant", "Needle drop coming up after this one!"),
        ),
    ),
    ShowSpec(
        shop="sneaker-sanctum",
        title="Spring Heat Sneaker Drop",
        description=(
            "The Night Shift Reflective release, plus restocks of the Stride Runner 90 and Hangtime Mid."
        ),
        start_in_hours=24,
        lineup=("GLOW", "RUN90", "HOOP", "KNIT", "COURT"),
        reminders=("shopper",),
    ),
    ShowSpec(
        shop="glow-lab",
        title="Glass Skin Sunday: Build a Routine Live",
        description="A four-step routine for sensitive skin, with textures up close and live Q&A.",
        start_in_hours=72,
        lineup=("SET", "CLNS", "TONER", "DEW", "SPF"),
    ),
    ShowSpec(
        shop="vinyl-vault",
        title="Jazz & Soul Listening Party",
        description="Last week's show: soul stompers, bossa and a test-pressing giveaway. Watch the replay.",
        start_in_hours=-1,
        lineup=("BRASS", "BOSSA", "DUST", "QUIET"),
        ended=True,
        pins=("BRASS", "BOSSA", "QUIET"),
        replay_url=REPLAY_URL,
        chat=(
            ("shopper", "The Delmonicos record sounds amazing."),
            ("merchant", "Thanks for listening, everyone! The replay is up."),
        ),
    ),
)
