"""Carts, saved addresses, orders with their price-and-title snapshots, and payments."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from catalog.models import Variant
from shops.models import Shop


class Cart(models.Model):
    """One per logged-in user, or one per anonymous session (merged into the user's cart on login)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="cart"
    )
    # Anonymous carts are found through this token kept in the session (it survives the session-key
    # rotation at login, so the cart can be merged into the user's).
    token = models.UUIDField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(token__isnull=False), name="cart_has_owner"
            )
        ]

    def __str__(self):
        return f"Cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # The live show it was bought from, if any (a plain id: orders sit below shows).
    show_id = models.BigIntegerField(null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="uniq_cartline_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cartline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × variant {self.variant_id}"


class AddressFields(models.Model):
    full_name = models.CharField(max_length=120)
    line1 = models.CharField("Address line 1", max_length=200)
    line2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, help_text="Two-letter country code, e.g. US.")
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        abstract = True

    def address_lines(self) -> list[str]:
        city_line = f"{self.postal_code} {self.city}".strip()
        return [x for x in (self.full_name, self.line1, self.line2, city_line, self.country) if x]


ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")


class Address(AddressFields):
    """A shopper's saved shipping address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "addresses"

    def __str__(self):
        return ", ".join(self.address_lines())


class PaymentMethod(models.Model):
    """A card saved with the gateway (we keep its token, never the number): bids are charged to it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_methods"
    )
    gateway = models.CharField(max_length=40)
    token = models.CharField(max_length=120)
    card_last4 = models.CharField(max_length=4)
    is_default = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="one_default_payment_method"
            )
        ]

    def __str__(self):
        return f"card •••• {self.card_last4}"


def new_order_number() -> str:
    return "LM" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))


class ShippingMethod(models.Model):
    """How a shop ships; the shopper picks one per shop at checkout."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="shipping_methods")
    name = models.CharField(max_length=80)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    min_days = models.PositiveSmallIntegerField(default=2)
    max_days = models.PositiveSmallIntegerField(default=5)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "price", "id"]
        constraints = [models.CheckConstraint(condition=Q(price__gte=0), name="shipping_price_non_negative")]

    def __str__(self):
        return f"{self.name} ({self.price} {self.shop.currency})"


class Shipment(models.Model):
    """One parcel: every order a shopper placed with one shop during one show ships together."""

    class Status(models.TextChoices):
        PACKING = "packing", "Packing"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="shipments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shipments")
    show_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PACKING)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=80, blank=True)
    packing_slip = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "shop", "show_id", "status"])]

    def __str__(self):
        return f"Shipment {self.pk} ({self.get_status_display()})"


class Order(AddressFields):
    """One shop's part of a checkout. Lines keep the title and price the shopper saw.

    Status moves only through orders.lifecycle, which checks each transition and records it.
    """

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Awaiting payment"
        PAID = "paid", "Paid"
        FULFILLING = "fulfilling", "Being packed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    class Channel(models.TextChoices):
        CHECKOUT = "checkout", "Checkout"
        ONE_TAP = "one_tap", "1-tap in a show"
        AUCTION = "auction", "Won auction lot"
        GIVEAWAY = "giveaway", "Giveaway prize"

    number = models.CharField(max_length=12, unique=True, default=new_order_number, editable=False)
    channel = models.CharField(
        max_length=12, choices=Channel.choices, default=Channel.CHECKOUT, help_text="How it was placed."
    )
    checkout_key = models.UUIDField(
        db_index=True, help_text="Idempotency key of the checkout that placed it."
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    show_id = models.BigIntegerField(null=True, blank=True, help_text="The live show it was bought in.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True
    )
    email = models.EmailField()
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_method_name = models.CharField(max_length=80, blank=True)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["checkout_key", "shop"], name="uniq_order_per_checkout_and_shop"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(
                condition=Q(refunded_total__gte=0) & Q(refunded_total__lte=F("total")),
                name="order_refund_within_total",
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("order_detail", kwargs={"number": self.number})

    @property
    def can_be_cancelled_by_shopper(self) -> bool:
        return self.status in (self.Status.PENDING_PAYMENT, self.Status.PAID, self.Status.FULFILLING)


class OrderEvent(models.Model):
    """The order's timeline: every transition, payment, refund and note, with who did it."""

    class Kind(models.TextChoices):
        STATUS = "status", "Status change"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        EMAIL = "email", "E-mail"
        NOTE = "note", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATUS)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(max_length=40, default="system")
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status}->{self.to_status} {self.message}"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(Variant, null=True, on_delete=models.SET_NULL, related_name="+")
    product_title = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=120, blank=True)
    sku = models.CharField(max_length=64)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="orderline_quantity_positive")
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product_title}"


class Payment(models.Model):
    """One attempt to take an order's money. It is written (`pending`) before the gateway is called,
    with the idempotency key the gateway gets, so a crash at any point leaves a row a recovery job can
    settle by asking the gateway (orders.payments.attempts)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the gateway"
        FAILED = "failed", "Not completed"
        AUTHORIZED = "authorized", "Authorised"
        CAPTURED = "captured", "Captured"
        DECLINED = "declined", "Declined"
        VOIDED = "voided", "Voided"
        REFUNDED = "refunded", "Refunded"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(max_length=40)
    reference = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    card_last4 = models.CharField(max_length=4, blank=True)
    message = models.CharField(max_length=200, blank=True)
    attempt = models.PositiveSmallIntegerField(default=1)
    idempotency_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one attempt talking to the gateway, and at most one capture, per order: a
            # double submit can't charge twice, whatever the code above it does.
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="pending"), name="one_open_payment_attempt_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="captured"), name="one_captured_payment_per_order"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created")]

    def __str__(self):
        return f"{self.gateway} {self.reference} {self.status}"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The submit that asked for it (a form's or API call's key): the same key twice is one refund.
    request_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"Refund {self.amount} on {self.order_id}"


class PaymentWebhookEvent(models.Model):
    """Every gateway webhook seen, once: a second delivery of the same event id changes nothing."""

    gateway = models.CharField(max_length=40)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=80)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="uniq_webhook_event")]

    def __str__(self):
        return f"{self.gateway}:{self.event_id}"


class Reservation(models.Model):
    """Units held for one shopper for a few minutes ("buy now" in a show, or a waitlist offer).

    A held unit is counted in Stock.allocated; it is released when the hold expires, or becomes the
    order's allocation at checkout.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Held"
        CONVERTED = "converted", "Bought"
        RELEASED = "released", "Released"
        EXPIRED = "expired", "Expired"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reservations")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="reservations")
    quantity = models.PositiveIntegerField()
    show_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    from_waitlist = models.BooleanField(default=False)
    # A show price (a flash deal) the held units are sold at; empty means the variant's price.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_at", "id"]
        indexes = [models.Index(fields=["status", "expires_at"]), models.Index(fields=["user", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="reservation_quantity_positive")
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant_id} for {self.user_id} ({self.status})"


class WaitlistEntry(models.Model):
    """A shopper in line for a sold-out variant; freed units are offered in turn."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        CLAIMED = "claimed", "Claimed"
        LAPSED = "lapsed", "Offer lapsed"
        LEFT = "left", "Left the line"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="waitlist_entries")
    show_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "variant"],
                condition=Q(status__in=["waiting", "offered"]),
                name="uniq_open_waitlist_entry",
            )
        ]

    def __str__(self):
        return f"{self.user_id} waits for {self.variant_id} ({self.status})"


class Review(models.Model):
    """A buyer's review of the shop, one per order, once it has shipped. Shop staff (or ops) may hide
    it from the shop page in the admin; the rating and text stay the buyer's."""

    MAX_TEXT = 2000

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="review")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=MAX_TEXT, blank=True)
    hidden = models.BooleanField(default=False, help_text="Hidden reviews are not shown on the shop page.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "hidden", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5")
        ]

    def __str__(self):
        return f"{self.rating}★ for {self.shop_id} (order {self.order_id})"
