"""Categories, products, their variants, images and stock."""

from decimal import Decimal

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
