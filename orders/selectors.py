"""Reads for carts and orders."""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from catalog.models import ProductImage

from .models import Address, Cart, CartLine, Order, OrderLine, PaymentMethod, Reservation, Review
from .pricing import line_price_groups


@dataclass
class CartShopGroup:
    shop: object
    lines: list = field(default_factory=list)
    subtotal: Decimal = Decimal("0.00")


@dataclass
class CartView:
    cart: Cart | None
    groups: list[CartShopGroup]
    item_count: int

    @property
    def is_empty(self) -> bool:
        return not self.groups


def cart_lines(*, cart: Cart) -> list[CartLine]:
    return list(
        cart.lines.select_related("variant__product__shop", "variant__stock").prefetch_related(
            Prefetch("variant__product__images", queryset=ProductImage.objects.order_by("position", "id"))
        )
    )


def cart_view(*, cart: Cart | None, holds: list[Reservation] | None = None) -> CartView:
    """The cart grouped by shop, with subtotals per shop (each shop has its own currency). With the
    shopper's `holds`, units held at a show price are priced as checkout will charge them."""
    if cart is None:
        return CartView(cart=None, groups=[], item_count=0)
    groups: dict[int, CartShopGroup] = {}
    count = 0
    for line in cart_lines(cart=cart):
        shop = line.variant.product.shop
        group = groups.setdefault(shop.pk, CartShopGroup(shop=shop))
        prices = line_price_groups(
            variant_id=line.variant_id,
            quantity=line.quantity,
            list_price=line.variant.price,
            holds=holds or [],
        )
        line.line_total = sum((price * units for price, units in prices), Decimal("0.00"))
        line.show_priced = any(price != line.variant.price for price, _ in prices)
        line.available = line.variant.stock.available
        group.lines.append(line)
        group.subtotal += line.line_total
        count += line.quantity
    return CartView(cart=cart, groups=list(groups.values()), item_count=count)


def cart_find(*, user=None, token=None) -> Cart | None:
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    if token:
        return Cart.objects.filter(token=token, user__isnull=True).first()
    return None


def cart_item_count(*, user=None, token=None) -> int:
    """Units in the visitor's cart, in one aggregate query (the header badge on every page)."""
    if user is not None and user.is_authenticated:
        lines = CartLine.objects.filter(cart__user=user)
    elif token:
        lines = CartLine.objects.filter(cart__token=token, cart__user__isnull=True)
    else:
        return 0
    return lines.aggregate(units=Sum("quantity"))["units"] or 0


# Cancel reasons of orders the shopper never placed as such (orders/checkout.py): a checkout whose card
# was declined, and one a newer checkout replaced. My orders leaves them out; the admin keeps them.
NOT_PLACED_REASONS = ("Payment declined", "Replaced by a newer checkout")


def orders_for_user(*, user) -> QuerySet[Order]:
    """The shopper's orders, newest first, with `units` (items bought, summed over the lines)."""
    return (
        Order.objects.filter(user=user)
        .select_related("shop")
        .annotate(units=Coalesce(Sum("lines__quantity"), 0))
        .order_by("-created_at", "-id")
    )


def orders_placed_for_user(*, user) -> QuerySet[Order]:
    """My orders: the shopper's orders without those they never placed (NOT_PLACED_REASONS)."""
    return orders_for_user(user=user).exclude(
        status=Order.Status.CANCELLED, cancel_reason__in=NOT_PLACED_REASONS
    )


def order_get_for_user(*, user, number: str) -> Order:
    """The shopper's own order, or 404 (another shopper's order does not exist for them)."""
    order = (
        Order.objects.filter(user=user, number=number)
        .select_related("shop", "shipment", "review")
        .prefetch_related("lines", "payments", "events", "refunds")
        .first()
    )
    if order is None:
        raise Http404("No such order")
    return order


def addresses_for_user(*, user) -> list[Address]:
    return list(Address.objects.filter(user=user)[:5])


def reservations_active_for_user(*, user) -> list[Reservation]:
    """The shopper's live holds, soonest to expire first, for the checkout countdown."""
    return list(
        Reservation.objects.filter(user=user, status=Reservation.Status.ACTIVE, expires_at__gt=timezone.now())
        .select_related("variant__product")
        .order_by("expires_at")
    )


def address_latest(*, user) -> Address | None:
    return Address.objects.filter(user=user).order_by("-created_at").first()


def payment_method_default(*, user) -> PaymentMethod | None:
    if not user.is_authenticated:
        return None
    return PaymentMethod.objects.filter(user=user, is_default=True).first()


def bidding_ready(*, user) -> bool:
    """Bidders need a saved card and a shipping address, so a won lot can be charged and shipped."""
    if not user.is_authenticated:
        return False
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(
            Exists(PaymentMethod.objects.filter(user=OuterRef("pk"))),
            Exists(Address.objects.filter(user=OuterRef("pk"))),
        )
        .exists()
    )


def show_sales(*, show_id: int) -> dict:
    """Orders, units and sales for one show (cancelled orders left out), for the host and the summary."""
    orders = Order.objects.filter(show_id=show_id).exclude(status=Order.Status.CANCELLED)
    totals = orders.aggregate(orders=Count("pk"), sales=Sum("total"))
    units = OrderLine.objects.filter(order__in=orders).aggregate(units=Sum("quantity"))["units"] or 0
    return {"orders": totals["orders"] or 0, "units": units, "sales": totals["sales"] or Decimal("0.00")}


def orders_for_merchant() -> QuerySet[Order]:
    """Orders with lines and parcel, for the merchant API (scope it to the caller's shops)."""
    return Order.objects.select_related("shop", "shipment").prefetch_related("lines")


def order_detail_prefetch(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related("events", "refunds")


def orders_for_user_api(*, user) -> QuerySet[Order]:
    return Order.objects.filter(user=user).select_related("shop", "shipment").prefetch_related("lines")


def cart_lines_for_user(*, user) -> QuerySet[CartLine]:
    return CartLine.objects.filter(cart__user=user).select_related("variant__product__shop", "variant__stock")


def orders_stuck_paid(*, older_than_seconds: int) -> list[int]:
    """Ids of orders paid at least this long ago and still not packed (their fulfilment job was lost)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        Order.objects.filter(status=Order.Status.PAID, paid_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# Which status change each order e-mail follows, and the timestamp that says when.
EMAIL_AFTER = {
    "confirmation": (
        "paid_at",
        (Order.Status.PAID, Order.Status.FULFILLING, Order.Status.SHIPPED, Order.Status.DELIVERED),
    ),
    "shipped": ("shipped_at", (Order.Status.SHIPPED, Order.Status.DELIVERED)),
    "cancelled": ("cancelled_at", (Order.Status.CANCELLED,)),
}


def orders_missing_email(*, kind: str, older_than_seconds: int, within_hours: int = 48) -> list[int]:
    """Ids of orders whose `kind` e-mail is due (its status change is older than the given age, and
    younger than `within_hours`) and was never recorded as sent: its job was lost."""
    from .models import OrderEvent

    stamp, statuses = EMAIL_AFTER[kind]
    now = timezone.now()
    sent = OrderEvent.objects.filter(
        order=OuterRef("pk"), kind=OrderEvent.Kind.EMAIL, message=f"E-mail sent: {kind}"
    )
    return list(
        Order.objects.filter(
            status__in=statuses,
            **{
                f"{stamp}__lte": now - timedelta(seconds=older_than_seconds),
                f"{stamp}__gte": now - timedelta(hours=within_hours),
            },
        )
        .filter(~Exists(sent))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- what holds allocated stock (reconcile_stock) ---------------------------------------------------
# Each returns {variant_id: units} for the variants given (all when None).


def units_held_by_open_orders(*, variant_ids: list[int] | None = None) -> dict[int, int]:
    """Orders not yet shipped hold their lines' units."""
    lines = OrderLine.objects.filter(
        order__status__in=[Order.Status.PENDING_PAYMENT, Order.Status.PAID, Order.Status.FULFILLING],
        variant__isnull=False,
    )
    if variant_ids is not None:
        lines = lines.filter(variant_id__in=variant_ids)
    return dict(lines.values("variant_id").annotate(units=Sum("quantity")).values_list("variant_id", "units"))


def units_held_by_holds(*, variant_ids: list[int] | None = None) -> dict[int, int]:
    """Active holds (including expired ones the sweeper has not released yet) hold their units."""
    holds = Reservation.objects.filter(status=Reservation.Status.ACTIVE)
    if variant_ids is not None:
        holds = holds.filter(variant_id__in=variant_ids)
    return dict(holds.values("variant_id").annotate(units=Sum("quantity")).values_list("variant_id", "units"))


# --- Shop reviews --------------------------------------------------------------------------------


def reviews_for_shop(*, shop, limit: int = 20) -> list[Review]:
    """The shop's visible reviews, newest first, with their reviewers (one query)."""
    return list(
        Review.objects.filter(shop=shop, hidden=False)
        .select_related("user")
        .order_by("-created_at", "-id")[:limit]
    )


def shop_rating(*, shop) -> tuple[Decimal | None, int]:
    """(average rating of the visible reviews rounded to 0.1, or None when there are none; count)."""
    totals = Review.objects.filter(shop=shop, hidden=False).aggregate(
        average=Avg("rating"), count=Count("pk")
    )
    if not totals["count"]:
        return None, 0
    average = Decimal(str(totals["average"])).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return average, totals["count"]
