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
