"""Categories, products, their variants, images and stock."""

from decimal import Decimal

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from shops.images import validate_image_upload
from shops.models import Shop


class Category(models.Model):
    """A simple tree: each category has at most one parent."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="products"
    )
    is_featured = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["shop", "slug"], name="uniq_product_slug_per_shop")]
        indexes = [models.Index(fields=["shop", "status"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("product_detail", kwargs={"shop_slug": self.shop.slug, "product_slug": self.slug})


class Variant(models.Model):
    """A buyable version of a product. `shop` is copied from the product so SKUs can be unique per shop."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="variants", editable=False)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=120, blank=True, help_text="Shown to shoppers, e.g. 'Red / M'.")
    options = models.JSONField(default=dict, blank=True, help_text='Option values, e.g. {"size": "M"}.')
    price = models.DecimalField(max_digits=12, decimal_places=2)
    compare_at_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    weight_grams = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "sku"], name="uniq_variant_sku_per_shop"),
            models.CheckConstraint(condition=Q(price__gte=Decimal("0")), name="variant_price_non_negative"),
        ]

    def __str__(self):
        return f"{self.product.title} — {self.name}" if self.name else self.product.title

    @property
    def currency(self) -> str:
        return self.shop.currency

    @property
    def label(self) -> str:
        return self.name or self.sku


class Stock(models.Model):
    """Units of one variant. Available to sell is `on_hand - allocated`.

    Changed only by catalog.stock, under row locks or conditional updates.
    """

    variant = models.OneToOneField(Variant, on_delete=models.CASCADE, primary_key=True, related_name="stock")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)

    class Meta:
        verbose_name_plural = "stock"
        constraints = [
            models.CheckConstraint(condition=Q(allocated__gte=0), name="stock_allocated_non_negative"),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")), name="stock_allocated_le_on_hand"
            ),
        ]

    def __str__(self):
        return f"{self.variant}: {self.available} available"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class ProductImage(models.Model):
    """An uploaded product photo plus its renditions, which a Celery task makes after upload."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to="products/%Y/%m/", validators=[validate_image_upload])
    alt_text = models.CharField(
        max_length=200, blank=True, help_text="Describe the photo for screen readers."
    )
    position = models.PositiveIntegerField(default=0)
    thumbnail = models.ImageField(upload_to="products/renditions/", blank=True, editable=False)
    card = models.ImageField(upload_to="products/renditions/", blank=True, editable=False)
    full = models.ImageField(upload_to="products/renditions/", blank=True, editable=False)
    # The source the renditions were made from: a replaced upload makes them stale.
    renditions_source = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.alt_text or self.image.name

    def _url(self, rendition: str) -> str:
        field = getattr(self, rendition)
        return field.url if field and self.renditions_source == self.image.name else self.image.url

    @property
    def thumbnail_url(self) -> str:
        return self._url("thumbnail")

    @property
    def card_url(self) -> str:
        return self._url("card")

    @property
    def full_url(self) -> str:
        return self._url("full")


def private_storage():
    """Where stock feeds are kept: not under MEDIA_ROOT, so no URL serves a shop's supplier data."""
    return storages["private"]


class StockFeed(models.Model):
    """A shop's supplier feed: on-hand units per SKU, as CSV or JSON, uploaded or fetched from a URL.

    Synced on its own interval by the beat job, on demand from the admin, or by `manage.py
    sync_inventory`. One feed per shop.
    """

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        URL = "url", "HTTP(S) URL"

    class Format(models.TextChoices):
        CSV = "csv", "CSV (columns sku and quantity)"
        JSON = "json", 'JSON (a list of {"sku": ..., "quantity": ...})'

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="stock_feeds")
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.UPLOAD)
    file = models.FileField(upload_to="stock-feeds/%Y/%m/", blank=True, storage=private_storage)
    url = models.URLField(max_length=500, blank=True, help_text="Fetched on every scheduled sync.")
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.CSV)
    skip_invalid_rows = models.BooleanField(
        default=False,
        help_text="Apply the valid rows and report the bad ones. Unticked, one bad row stops the whole sync.",
    )
    enabled = models.BooleanField(default=True, help_text="Synced on its schedule (URL feeds only).")
    interval_minutes = models.PositiveIntegerField(
        default=60, help_text="Scheduled sync: at most once per this many minutes."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop"], name="uniq_stock_feed_per_shop"),
            models.CheckConstraint(
                condition=~Q(source="url") | ~Q(url=""), name="stock_feed_url_source_has_url"
            ),
            models.CheckConstraint(condition=Q(interval_minutes__gte=5), name="stock_feed_interval_min_5"),
        ]

    def __str__(self):
        return f"{self.shop} stock feed ({self.get_source_display()}, {self.format.upper()})"


class InventorySyncRun(models.Model):
    """One sync of a shop's stock from a feed: who or what started it, what it changed, what went wrong."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        ADMIN = "admin", "Admin action"
        COMMAND = "command", "Management command"
        API = "api", "API"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="inventory_sync_runs")
    feed = models.ForeignKey(StockFeed, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    source_label = models.CharField(max_length=500, blank=True, help_text="The file or URL read.")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    unknown_sku = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True, help_text="Why the run failed, if it did.")
    errors = models.JSONField(
        default=list, blank=True, help_text='The first problems, as [{"line": 12, "message": "..."}].'
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "-created_at"])]

    def __str__(self):
        return f"{self.shop} sync #{self.pk} ({self.get_status_display().lower()})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None
