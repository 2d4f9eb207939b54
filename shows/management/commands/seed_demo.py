"""Seed the demo marketplace: accounts, shops, products with generated images, and shows.

Idempotent: records are looked up by natural key (username, shop slug, product slug, SKU, show
title) and skipped when they exist, so a rerun creates nothing and leaves stock and passwords alone.
"""

import io
import textwrap
from collections import Counter
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw, ImageFont

from catalog.models import Category, InventorySyncRun, Product, Stock, StockFeed, Variant
from catalog.services import category_get_or_create, product_create, product_image_add, variant_create
from catalog.sync.services import inventory_sync_now
from config.opscommand import OpsCommand
from orders import selectors as order_selectors
from orders.services import address_save, payment_method_save, shipping_method_create, shipping_methods_for
from shops.models import Shop, User
from shops.services import (
    shop_create,
    shop_follow,
    shop_set_logo,
    shop_set_show_shipping_cap,
    user_create,
    user_email_verified_ensure,
)
from shows import demo_data
from shows.exceptions import ShowError
from shows.models import BlockedWord, Show, ShowReminder, ShowRole
from shows.services import (
    chat_post,
    show_create,
    show_end,
    show_go_live,
    show_pin_product,
    show_remind,
    show_summary_compute,
)

IMAGE_SIZE = 800
LOGO_SIZE = 400


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: fall back to the bitmap font
        return ImageFont.load_default()


def _hex(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return tuple(int(colour[i : i + 2], 16) for i in (0, 2, 4))  # type: ignore[return-value]


def _gradient(size: int, start: str, end: str, angle: int) -> Image.Image:
    rotated = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    # the middle of the rotated square lies wholly inside the gradient, without the empty corners
    w, h = rotated.size
    half = 90  # 256 / (2 * sqrt 2), rounded down
    mask = rotated.crop((w // 2 - half, h // 2 - half, w // 2 + half, h // 2 + half)).resize(
        (size, size), Image.Resampling.BICUBIC
    )
    return Image.composite(
        Image.new("RGB", (size, size), _hex(end)), Image.new("RGB", (size, size), _hex(start)), mask
    )


def _draw_motif(draw: ImageDraw.ImageDraw, motif: str, accent: tuple[int, int, int], variant: int) -> None:
    c = IMAGE_SIZE // 2
    cy = 330
    if motif == "record":
        draw.ellipse((c - 250, cy - 250, c + 250, cy + 250), fill=(18, 18, 18))
        for r in range(235, 95, -14):
            draw.ellipse((c - r, cy - r, c + r, cy + r), outline=(48, 48, 48), width=2)
        draw.ellipse((c - 85, cy - 85, c + 85, cy + 85), fill=accent)
        draw.ellipse((c - 9, cy - 9, c + 9, cy + 9), fill=(240, 240, 240))
        if variant:
            draw.arc((c - 200, cy - 200, c + 200, cy + 200), 200, 250, fill=(200, 200, 200), width=6)
    elif motif == "sneaker":
        for i in range(-IMAGE_SIZE, IMAGE_SIZE, 70):
            draw.line((i, 0, i + IMAGE_SIZE, IMAGE_SIZE), fill=(255, 255, 255, 28), width=18)
        sole_top = cy + 90
        # upper, toe cap and sole of a side-on sneaker
        draw.polygon(
            [
                (150, sole_top),
                (170, cy - 60),
                (330, cy - 110),
                (420, cy - 30),
                (600, cy + 10),
                (660, sole_top),
            ],
            fill=accent,
        )
        draw.rounded_rectangle((130, sole_top - 5, 680, sole_top + 45), radius=22, fill=(245, 245, 245))
        draw.line((140, sole_top + 32, 670, sole_top + 32), fill=(60, 60, 60), width=4)
        for k in range(4):
            x = 330 + k * 45
            draw.line((x, cy - 70 + k * 22, x + 30, cy - 40 + k * 22), fill=(255, 255, 255), width=7)
        if variant:
            draw.arc((380, cy - 40, 600, cy + 120), 190, 330, fill=(255, 255, 255), width=10)
    else:  # bottle
        body = (
            (c - 130, cy - 130, c + 130, cy + 220) if not variant else (c - 170, cy - 40, c + 170, cy + 200)
        )
        neck_w = 45 if not variant else 110
        draw.rounded_rectangle(body, radius=40, fill=(255, 255, 255, 220))
        draw.rectangle((c - neck_w, body[1] - 70, c + neck_w, body[1] + 5), fill=accent)
        draw.rounded_rectangle((c - 100, body[1] + 60, c + 100, body[1] + 170), radius=14, fill=accent)
        for dx, dy, r in ((-250, -230, 26), (240, -190, 18), (-220, 150, 14), (260, 120, 30)):
            draw.ellipse((c + dx - r, cy + dy - r, c + dx + r, cy + dy + r), outline=(255, 255, 255), width=4)


def render_product_image(
    *, title: str, subtitle: str, palette: tuple[str, str], motif: str, variant: int
) -> bytes:
    """An 800x800 JPEG: a gradient, the shop's motif, and the product title on a band."""
    image = _gradient(IMAGE_SIZE, palette[0], palette[1], angle=45 + variant * 90)
    draw = ImageDraw.Draw(image, "RGBA")
    _draw_motif(draw, motif, _hex(palette[1] if variant else palette[0]), variant)
    draw.rectangle((0, 610, IMAGE_SIZE, IMAGE_SIZE), fill=(0, 0, 0, 150))
    lines = textwrap.wrap(title, width=26)[:2]
    y = 630 if len(lines) > 1 else 650
    for line in lines:
        draw.text((IMAGE_SIZE // 2, y), line, font=_font(48), fill=(255, 255, 255), anchor="mt")
        y += 56
    draw.text((IMAGE_SIZE // 2, y + 8), subtitle, font=_font(28), fill=(225, 225, 225), anchor="mt")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()


def render_logo(*, name: str, palette: tuple[str, str]) -> bytes:
    """A 400x400 PNG badge with the shop's initials."""
    image = _gradient(LOGO_SIZE, palette[0], palette[1], angle=135)
    draw = ImageDraw.Draw(image, "RGBA")
    draw.ellipse(
        (40, 40, LOGO_SIZE - 40, LOGO_SIZE - 40), fill=(255, 255, 255, 60), outline=(255, 255, 255), width=8
    )
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    draw.text((LOGO_SIZE // 2, LOGO_SIZE // 2), initials, font=_font(150), fill=(255, 255, 255), anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class Command(OpsCommand):
    help = (
        "Seed the demo marketplace: the demo accounts (ops, merchant, merchant2, merchant3, shopper, bidder; "
        "shopper and bidder have a saved test card and address, so they can bid at once), "
        "three shops with about 40 products, generated images and stock, blocked chat words, one live "
        "show (with merchant2 as co-host), two scheduled ones (shopper asked for a reminder of one) and "
        "an ended one with a replay and product chapters. Safe to run again: anything that already "
        "exists is left untouched."
    )

    def handle(self, *args, **options):
        self.created: Counter[str] = Counter()
        started = timezone.now()
        with transaction.atomic():
            users = self._seed_accounts()
            shops = self._seed_shops(users)
            self._seed_shipping(shops)
            products = self._seed_catalog(shops)
            self._seed_stock_feed(shops["vinyl-vault"], users["merchant"])
            self._seed_blocked_words(shops)
            self._seed_shows(shops, users, products)
            for slug in ("vinyl-vault", "sneaker-sanctum"):
                shop_follow(user=users["shopper"], shop=shops[slug])
            self._seed_bidding(users)

        elapsed = (timezone.now() - started).total_seconds()
        if self.created:
            summary = ", ".join(f"{n} {kind}" for kind, n in self.created.items())
            self.summary(f"Demo data seeded in {elapsed:.1f}s: created {summary}.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data already present; nothing created ({elapsed:.1f}s).")
            )
        self._print_accounts()

    # --- accounts and shops ------------------------------------------------------------------

    def _seed_accounts(self) -> dict[str, User]:
        self.stdout.write(self.style.MIGRATE_HEADING("Accounts"))
        users: dict[str, User] = {}
        for spec in demo_data.ACCOUNTS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = user_create(
                    username=spec.username,
                    email=spec.email,
                    password=spec.password,
                    display_name=spec.display_name,
                    is_superuser=spec.is_superuser,
                )
                self._note("users", f"created {spec.username}")
            else:
                self.stdout.write(f"  {spec.username} exists, skipped")
            user_email_verified_ensure(user=user)
            users[spec.username] = user
        return users

    def _seed_bidding(self, users: dict[str, User]) -> None:
        """Shopper and bidder can bid at once: a saved test card and an address each."""
        for username, address in demo_data.BIDDERS.items():
            user = users[username]
            if not order_selectors.addresses_for_user(user=user):
                address_save(user=user, data=address)
            if order_selectors.payment_method_default(user=user) is None:
                payment_method_save(user=user, card_number=demo_data.DEMO_CARD)
                self._note("saved cards", f"saved a test card for {username}")

    def _seed_shops(self, users: dict[str, User]) -> dict[str, Shop]:
        self.stdout.write(self.style.MIGRATE_HEADING("Shops"))
        shops: dict[str, Shop] = {}
        for spec in demo_data.SHOPS:
            shop = Shop.objects.filter(slug=spec.slug).first()
            if shop is None:
                shop = shop_create(
                    owner=users[spec.owner],
                    name=spec.name,
                    slug=spec.slug,
                    currency=spec.currency,
                    description=spec.description,
                )
                self._note("shops", f"created {spec.slug} (owner {spec.owner})")
            else:
                self.stdout.write(f"  {spec.slug} exists, skipped")
            if not shop.logo:
                shop_set_logo(
                    shop=shop,
                    image=ContentFile(
                        render_logo(name=spec.name, palette=spec.palette), name=f"{spec.slug}.png"
                    ),
                )
                self.created["logos"] += 1
            shops[spec.slug] = shop
        return shops

    # --- catalog -----------------------------------------------------------------------------

    def _category(self, path: tuple[str, str]) -> Category:
        parent = category_get_or_create(name=path[0])
        return category_get_or_create(name=path[1], parent=parent)

    def _seed_shipping(self, shops: dict[str, Shop]) -> None:
        """Two methods per shop; within one show a shopper pays standard shipping once."""
        for shop in shops.values():
            if shipping_methods_for(shop_ids=[shop.pk]).get(shop.pk):
                continue
            standard = shipping_method_create(
                shop=shop, name="Standard", price=Decimal("4.90"), min_days=3, max_days=6
            )
            shipping_method_create(
                shop=shop, name="Express", price=Decimal("12.00"), min_days=1, max_days=2, position=1
            )
            shop_set_show_shipping_cap(shop=shop, cap=standard.price)
            self.created["shipping methods"] += 2

    def _seed_catalog(self, shops: dict[str, Shop]) -> dict[tuple[str, str], Product]:
        """Returns every demo product keyed by (shop slug, product code)."""
        products: dict[tuple[str, str], Product] = {}
        for shop_spec in demo_data.SHOPS:
            shop = shops[shop_spec.slug]
            self.stdout.write(self.style.MIGRATE_HEADING(f"Products for {shop_spec.slug}"))
            category = self._category(shop_spec.category)
            existing = {p.slug: p for p in Product.objects.filter(shop=shop).prefetch_related("images")}
            skus = set(Variant.objects.filter(shop=shop).values_list("sku", flat=True))
            specs = demo_data.PRODUCTS[shop_spec.slug]
            for spec in self.progress(specs, desc=f"{shop_spec.slug} products", unit="product"):
                slug = slugify(spec.title)
                product = existing.get(slug)
                if product is None:
                    product = product_create(
                        shop=shop,
                        title=spec.title,
                        slug=slug,
                        description=spec.description,
                        category=category,
                        status=Product.Status.DRAFT if spec.draft else Product.Status.ACTIVE,
                        is_featured=spec.featured,
                    )
                    self._note("products", f"created {spec.title}")
                    has_images = False
                else:
                    has_images = bool(product.images.all())
                for position, variant in enumerate(spec.variants):
                    sku = f"{shop_spec.sku_prefix}-{spec.code}-{variant.code}"
                    if sku in skus:
                        continue
                    variant_create(
                        product=product,
                        sku=sku,
                        price=variant.price,
                        name=variant.name,
                        options=variant.options,
                        compare_at_price=variant.compare_at_price,
                        on_hand=variant.on_hand,
                        position=position,
                    )
                    self.created["variants"] += 1
                if not has_images:
                    for n in range(spec.images):
                        data = render_product_image(
                            title=spec.title,
                            subtitle=spec.subtitle,
                            palette=spec.palette,
                            motif=shop_spec.motif,
                            variant=n,
                        )
                        product_image_add(
                            product=product,
                            image=ContentFile(data, name=f"{slug}-{n + 1}.jpg"),
                            alt_text=spec.title if n == 0 else f"{spec.title} (detail)",
                            position=n,
                        )
                        self.created["images"] += 1
                products[(shop_spec.slug, spec.code)] = product
            self.stdout.write(f"  {len(demo_data.PRODUCTS[shop_spec.slug])} products ready")
        return products

    # --- shows -------------------------------------------------------------------------------

    def _seed_stock_feed(self, shop: Shop, merchant: User) -> None:
        """vinyl-vault's supplier feed (its current counts plus one SKU it no longer sells) and one
        recorded sync of it, so Catalog > Stock feeds and Inventory sync runs have something to show."""
        if StockFeed.objects.filter(shop=shop).exists():
            return
        rows = Stock.objects.filter(variant__shop=shop).order_by("variant__sku")
        lines = [
            "sku,quantity",
            *(f"{sku},{on_hand}" for sku, on_hand in rows.values_list("variant__sku", "on_hand")),
        ]
        lines.append("VV-RETIRED-1,4")
        # No service writes feeds (merchants add them in the admin): written directly.
        StockFeed.objects.create(
            shop=shop,
            file=ContentFile("\n".join(lines).encode(), name="vinyl-vault-supplier.csv"),
            interval_minutes=60,
        )
        run = inventory_sync_now(shop=shop, trigger=InventorySyncRun.Trigger.ADMIN, started_by=merchant)
        self._note(
            "stock feeds",
            f"vinyl-vault stock feed added and synced ({run.unchanged} unchanged, 1 unknown SKU)",
        )

    def _seed_blocked_words(self, shops: dict[str, Shop]) -> None:
        # No service writes blocked words yet (merchants add them in the admin): written directly.
        for spec in demo_data.SHOPS:
            for word in spec.blocked_words:
                _, created = BlockedWord.objects.get_or_create(shop=shops[spec.slug], word=word)
                if created:
                    self.created["blocked words"] += 1

    def _seed_shows(
        self, shops: dict[str, Shop], users: dict[str, User], products: dict[tuple[str, str], Product]
    ) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING("Shows"))
        owners = {spec.slug: users[spec.owner] for spec in demo_data.SHOPS}
        for spec in demo_data.SHOWS:
            shop = shops[spec.shop]
            show = Show.objects.filter(shop=shop, title=spec.title).first()
            if show is None:
                show = self._show_create(
                    spec, shop=shop, host=owners[spec.shop], users=users, products=products
                )
            else:
                self.stdout.write(f"  {spec.title!r} exists, skipped")
            self._show_people(spec, show=show, users=users)

    def _show_create(
        self,
        spec: demo_data.ShowSpec,
        *,
        shop: Shop,
        host: User,
        users: dict[str, User],
        products: dict[tuple[str, str], Product],
    ) -> Show:
        start = timezone.now() + timedelta(hours=spec.start_in_hours)
        if not (spec.live or spec.ended):
            start = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        show = show_create(
            shop=shop,
            title=spec.title,
            scheduled_start=start,
            description=spec.description,
            playback_url=demo_data.PLAYBACK_URL,
            products=[products[(spec.shop, code)] for code in spec.lineup],
        )
        if spec.live:
            when = "live now"
        elif spec.ended:
            when = f"ended, {len(spec.pins)} replay chapters"
        else:
            when = f"starts {timezone.localtime(start):%Y-%m-%d %H:%M}"
        self._note("shows", f"created {spec.title!r} ({when})")
        if not (spec.live or spec.ended):
            return show
        show = show_go_live(show=show, user=host)
        pins = (spec.pinned,) if spec.live and spec.pinned else spec.pins
        for code in pins:
            show_pin_product(show=show, user=host, product_id=products[(spec.shop, code)].pk)
        for username, text in spec.chat:
            chat_post(show=show, user=users[username], text=text)
            self.created["chat messages"] += 1
        if spec.ended:
            show_pin_product(show=show, user=host, product_id=None)
            show = show_end(show=show, user=host)
            if spec.replay_url:
                # No service sets a replay URL yet (the admin form does): written directly.
                Show.objects.filter(pk=show.pk).update(replay_url=spec.replay_url)
            # The summary task also runs after commit; computing it here makes the demo complete
            # without a worker (the service is idempotent).
            show_summary_compute(show_id=show.pk)
        return show

    def _show_people(self, spec: demo_data.ShowSpec, *, show: Show, users: dict[str, User]) -> None:
        """Co-hosts and reminders; also added to a show left from an earlier seed."""
        for username in spec.cohosts:
            # No service grants show roles yet (merchants do it in the admin): written directly.
            _, created = ShowRole.objects.get_or_create(
                show=show, user=users[username], defaults={"role": ShowRole.Role.COHOST}
            )
            if created:
                self._note("co-hosts", f"{username} co-hosts {spec.title!r}")
        for username in spec.reminders:
            if ShowReminder.objects.filter(show=show, user=users[username]).exists():
                continue
            try:
                show_remind(show=show, user=users[username])
            except ShowError as exc:  # the show has started since the first seed
                self.stdout.write(f"  no reminder for {username}: {exc.message}")
                continue
            self._note("reminders", f"{username} will be reminded of {spec.title!r}")

    # --- output ------------------------------------------------------------------------------

    def _note(self, kind: str, message: str) -> None:
        self.created[kind] += 1
        self.stdout.write(f"  {message}")

    def _print_accounts(self) -> None:
        rows = [("username", "email", "password", "role")]
        rows += [(a.username, a.email, a.password, a.role) for a in demo_data.ACCOUNTS]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        rule = "  ".join("-" * w for w in widths)
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING("Demo accounts"))
        for i, row in enumerate(rows):
            line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            self.stdout.write(self.style.HTTP_INFO(line) if i == 0 else line)
            if i == 0:
                self.stdout.write(rule)
        self.stdout.write("")
        self.stdout.write(f"Open {self.style.SUCCESS(demo_data.DEMO_URL)} and log in with any account above.")
