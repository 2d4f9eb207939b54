"""Live shows and what happens in their rooms."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from catalog.models import Product
from shops.images import validate_image_upload
from shops.models import Shop


def new_stream_key() -> str:
    return secrets.token_urlsafe(24)


def stream_key_digest(key: str) -> str:
    """What is stored of a stream key: SHA-256, enough for 192 random bits and cheap per callback."""
    return hashlib.sha256(key.encode()).hexdigest()


def unknown_stream_key_digest() -> str:
    """A show made outside show_create gets a key nobody knows, until the shop makes a new one."""
    return stream_key_digest(new_stream_key())


class Show(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shows")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to="shows/covers/", blank=True, validators=[validate_image_upload])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    scheduled_start = models.DateTimeField(db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    playback_url = models.URLField(blank=True, help_text="HLS playback URL (.m3u8) from your media server.")
    replay_url = models.URLField(blank=True, help_text="HLS or MP4 recording, played back after the show.")
    peak_viewers = models.PositiveIntegerField(default=0, editable=False)
    products = models.ManyToManyField(
        Product, through="LineupItem", blank=True, related_name="shows", help_text="The lineup."
    )
    # The key itself is shown once, when made (show_create, show_stream_key_rotate); only its hash and
    # its last four characters (to tell keys apart) are kept.
    stream_key_hash = models.CharField(
        max_length=64, unique=True, default=unknown_stream_key_digest, editable=False
    )
    stream_key_hint = models.CharField(max_length=4, blank=True, editable=False)
    pinned_product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="pinned_in_shows"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scheduled_start", "id"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("show_detail", kwargs={"show_id": self.pk})

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE


class ChatMessage(models.Model):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500)
    is_deleted = models.BooleanField(default=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["show", "-created_at"])]

    def __str__(self):
        return self.text[:50]


class LineupItem(models.Model):
    """The products a show presents, in order."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="lineup_items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="lineup_items")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["show", "product"], name="uniq_lineup_product")]

    def __str__(self):
        return f"{self.position}. {self.product}"


class PinEvent(models.Model):
    """Every pin, with its offset into the show: the replay's product chapters."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="pins")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    pinned_at = models.DateTimeField(auto_now_add=True)
    offset_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pinned_at", "id"]

    def __str__(self):
        return f"{self.product} at {self.offset_seconds}s"


class ShowRole(models.Model):
    """Rights in one show for someone outside (or inside) the shop: co-host or moderator."""

    class Role(models.TextChoices):
        COHOST = "cohost", "Co-host (pin, deals, giveaways, moderation)"
        MODERATOR = "moderator", "Moderator (moderation only)"

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="roles")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="show_roles")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "user"], name="uniq_show_role")]

    def __str__(self):
        return f"{self.user} is {self.role} of {self.show}"


class ShowMute(models.Model):
    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="mutes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "user"], name="uniq_show_mute")]

    def __str__(self):
        return f"{self.user} muted in {self.show}"


class ShopBan(models.Model):
    """Banned from all of a shop's shows: no chat, reactions, bids or buy now there."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "user"], name="uniq_shop_ban")]

    def __str__(self):
        return f"{self.user} banned from {self.shop}"


class BlockedWord(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="blocked_words")
    word = models.CharField(max_length=60)

    class Meta:
        ordering = ["word"]
        constraints = [models.UniqueConstraint(fields=["shop", "word"], name="uniq_blocked_word")]

    def __str__(self):
        return self.word


class FlashDeal(models.Model):
    """A show price on one variant for a few minutes, for a limited number of units."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Running"
        ENDED = "ended", "Ended"

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="deals")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    units_total = models.PositiveIntegerField()
    per_buyer_limit = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    starts_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="deal_price_non_negative"),
            models.CheckConstraint(condition=models.Q(units_total__gte=1), name="deal_units_positive"),
            models.CheckConstraint(condition=models.Q(per_buyer_limit__gte=1), name="deal_limit_positive"),
            # One running deal per show at a time.
            models.UniqueConstraint(
                fields=["show"], condition=models.Q(status="active"), name="one_active_deal"
            ),
        ]

    def __str__(self):
        return f"{self.variant} at {self.price} ({self.status})"


class DealClaim(models.Model):
    """Units of a deal held for a buyer. Claims whose hold expired no longer count."""

    deal = models.ForeignKey(FlashDeal, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reservation = models.ForeignKey("orders.Reservation", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} claimed {self.quantity} of deal {self.deal_id}"


class Giveaway(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open for entries"
        DRAWN = "drawn", "Winner drawn"
        CANCELLED = "cancelled", "Cancelled"

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="giveaways")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="+")
    followers_only = models.BooleanField(default=False)
    opens_at = models.DateTimeField(auto_now_add=True)
    closes_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    winner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    prize_order_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opens_at"]

    def __str__(self):
        return f"Giveaway of {self.variant} ({self.status})"


class GiveawayEntry(models.Model):
    giveaway = models.ForeignKey(Giveaway, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "giveaway entries"
        constraints = [models.UniqueConstraint(fields=["giveaway", "user"], name="uniq_giveaway_entry")]

    def __str__(self):
        return f"{self.user} entered {self.giveaway_id}"


class ShowReminder(models.Model):
    """'Remind me' on a scheduled show."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="reminders")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="show_reminders"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "user"], name="uniq_show_reminder")]

    def __str__(self):
        return f"remind {self.user} of {self.show}"


class ShowNotification(models.Model):
    """One 'we're live' e-mail per person per show, whatever the number of runs or reasons."""

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["show", "user"], name="uniq_show_notification")]

    def __str__(self):
        return f"{self.show_id} -> {self.user_id}"


class ShowSummary(models.Model):
    """The seller's numbers for one show, written when it ends."""

    show = models.OneToOneField(Show, on_delete=models.CASCADE, primary_key=True, related_name="summary")
    peak_viewers = models.PositiveIntegerField(default=0)
    chat_messages = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    units_sold = models.PositiveIntegerField(default=0)
    sales_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "show summaries"

    def __str__(self):
        return f"Summary of {self.show}"


class Lot(models.Model):
    """Units of one variant auctioned in a live show. The units are allocated while the lot is open
    (so "buy now" can't sell them) and until the winner's order takes them or they go back to stock."""

    class Mode(models.TextChoices):
        EXTEND = "extend", "Timer extension (anti-sniping)"
        SUDDEN = "sudden", "Sudden death"

    class Status(models.TextChoices):
        OPEN = "open", "Open for bids"
        AWAITING_PAYMENT = "awaiting_payment", "Won, awaiting payment"
        PAID = "paid", "Sold and paid"
        PAYMENT_FAILED = "payment_failed", "Payment failed"
        UNSOLD = "unsold", "No bids"
        RELISTED = "relisted", "Relisted"
        RELEASED = "released", "Units returned to stock"

    # Statuses in which the lot still holds its units allocated.
    HOLDING = (Status.OPEN, Status.PAYMENT_FAILED)

    show = models.ForeignKey(Show, on_delete=models.CASCADE, related_name="lots")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1, help_text="Units sold together to the winner.")
    title = models.CharField(max_length=200, help_text="Copied from the product when the lot starts.")
    currency = models.CharField(max_length=3)
    starting_price = models.DecimalField(max_digits=12, decimal_places=2)
    increment = models.DecimalField(max_digits=12, decimal_places=2, default=1)
    increment_table = models.JSONField(
        default=list,
        blank=True,
        help_text='Optional steps [["0", "1"], ["50", "5"]]: from each price on, that increment.',
    )
    bid_ceiling = models.DecimalField(
        "ceiling",
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Optional: no bid and no maximum bid above this amount is accepted.",
    )
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.EXTEND)
    duration_seconds = models.PositiveIntegerField(default=30)
    extend_seconds = models.PositiveIntegerField(default=10, help_text="Anti-sniping window N.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    ends_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    current_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leader_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True, editable=False)
    bid_count = models.PositiveIntegerField(default=0)
    winner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="lots_won"
    )
    winning_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True, help_text="The winner's order.")
    passed_over = models.JSONField(
        default=list, blank=True, editable=False, help_text="Winners whose payment failed."
    )
    relisted_as = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="relisted_from"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(starting_price__gt=0), name="lot_start_positive"),
            models.CheckConstraint(condition=models.Q(increment__gt=0), name="lot_increment_positive"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="lot_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(bid_ceiling__isnull=True)
                | models.Q(bid_ceiling__gte=models.F("starting_price")),
                name="lot_ceiling_not_below_start",
            ),
            models.UniqueConstraint(fields=["show"], condition=models.Q(status="open"), name="one_open_lot"),
        ]

    def __str__(self):
        return f"Lot {self.pk}: {self.title} ({self.get_status_display()})"


class Bid(models.Model):
    """One accepted bid. `is_auto` marks a bid the system placed for someone's maximum (proxy bid)."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="bids")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bids")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    max_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    is_auto = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["lot", "-amount"])]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="bid_amount_positive")]

    def __str__(self):
        return f"{self.amount} by {self.user_id} on lot {self.lot_id}"
