"""Users, shops, who works for a shop, and who follows it."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse

from .images import validate_image_upload


class User(AbstractUser):
    """A Livemarket account; shoppers, merchants and ops are all users."""

    display_name = models.CharField(max_length=60, blank=True)

    def __str__(self):
        return self.public_name

    @property
    def public_name(self) -> str:
        """What other people see in chat and bids: never the e-mail address."""
        return self.display_name or self.username


class Currency(models.TextChoices):
    USD = "USD", "US dollar"
    EUR = "EUR", "Euro"
    GBP = "GBP", "Pound sterling"
    CAD = "CAD", "Canadian dollar"
    AUD = "AUD", "Australian dollar"


class Shop(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    logo = models.ImageField(upload_to="shops/logos/", blank=True, validators=[validate_image_upload])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.USD)
    show_shipping_cap = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Most a shopper pays for shipping on everything bought in one show (blank: one shipping fee).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("shop_detail", kwargs={"shop_slug": self.slug})

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class ShopMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="uniq_membership_user_shop")]

    def __str__(self):
        return f"{self.user} @ {self.shop} ({self.role})"


class Follow(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "shop"], name="uniq_follow_user_shop")]

    def __str__(self):
        return f"{self.user} follows {self.shop}"


# --- The REST API: keys, idempotency, webhooks out ----------------------------------------------


class ApiKey(models.Model):
    """A shop's key for its own tools. Only a SHA-256 of the secret is kept; the full key
    (`lm_<prefix>_<secret>`) is shown once, when it is made. A key acts as the person who made it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80, help_text="What uses this key, e.g. 'Warehouse sync'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} (lm_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` per caller: the first request's fingerprint and, once done, its response."""

    class State(models.TextChoices):
        STARTED = "started", "In progress"
        DONE = "done", "Done"

    principal = models.CharField(max_length=40, help_text="key:<id> or user:<id>")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    request_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.STARTED)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal", "key"], name="uniq_idempotency_key")]

    def __str__(self):
        return f"{self.principal} {self.key}"


class WebhookEvent(models.TextChoices):
    ORDER_PAID = "order.paid", "order.paid"
    ORDER_SHIPPED = "order.shipped", "order.shipped"
    SHOW_LIVE = "show.live", "show.live"
    SHOW_ENDED = "show.ended", "show.ended"


class WebhookEndpoint(models.Model):
    """Where a shop wants to hear about its events; bodies are signed with `secret` (HMAC-SHA256)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500, help_text="HTTPS address that receives POSTed events.")
    events = models.JSONField(default=list, help_text="Event names to send, e.g. ['order.paid'].")
    secret = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, with every attempt logged; retried with backoff until it succeeds
    or runs out of attempts, and replayable from the admin."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Gave up"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(editable=False)
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    attempt_log = models.JSONField(default=list, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.event} -> {self.endpoint_id} ({self.status})"
