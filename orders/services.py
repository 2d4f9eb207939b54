"""Writes for carts and orders.

The cart and addresses live here; placing orders (`checkout_complete`), the order lifecycle
(cancel, refund, ship, deliver), holds and the waitlist, and fulfilment each have a module of their
own, re-exported below so callers import every order service from one place.
"""

import logging
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from catalog.selectors import variants_for_cart

from .exceptions import InsufficientStock, PaymentDeclined, VariantUnavailable
from .models import ADDRESS_FIELDS, Address, Cart, CartLine, PaymentMethod, ShippingMethod
from .payments import get_gateway

logger = logging.getLogger(__name__)

MAX_LINE_QUANTITY = 99


# --- Cart ------------------------------------------------------------------------------------


def cart_get_or_create(*, user=None, token: uuid.UUID | None = None) -> Cart:
    """The user's cart, or the anonymous cart for `token` (created when missing)."""
    if user is not None and user.is_authenticated:
        cart, _ = Cart.objects.get_or_create(user=user)
        return cart
    if token is None:
        raise ValueError("an anonymous cart needs a token")
    cart, _ = Cart.objects.get_or_create(token=token, user=None)
    return cart


def _check_quantity(*, variant_id: int, quantity: int) -> None:
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("This product is not available.")
    if quantity > MAX_LINE_QUANTITY:
        raise InsufficientStock([(variant_id, quantity, MAX_LINE_QUANTITY)])
    if variant.stock.available < quantity:
        raise InsufficientStock([(variant_id, quantity, max(variant.stock.available, 0))])


@transaction.atomic
def cart_add(*, cart: Cart, variant_id: int, quantity: int = 1, show_id: int | None = None) -> CartLine:
    """Add units to the cart, refusing more than are available now (checkout checks again, locked)."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    Cart.objects.select_for_update().filter(pk=cart.pk).first()  # serialise edits of one cart
    line = CartLine.objects.filter(cart=cart, variant_id=variant_id).first()
    new_quantity = quantity + (line.quantity if line else 0)
    _check_quantity(variant_id=variant_id, quantity=new_quantity)
    if line is None:
        line = CartLine.objects.create(
            cart=cart, variant_id=variant_id, quantity=new_quantity, show_id=show_id
        )
    else:
        CartLine.objects.filter(pk=line.pk).update(quantity=new_quantity, show_id=show_id or line.show_id)
        line.quantity = new_quantity
    Cart.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
    return line


@transaction.atomic
def cart_line_set_quantity(*, cart: Cart, line_id: int, quantity: int) -> CartLine | None:
    """Change a line's quantity; zero removes it. Returns None when removed."""
    line = CartLine.objects.select_for_update().filter(cart=cart, pk=line_id).first()
    if line is None:
        raise VariantUnavailable("That item is no longer in your cart.")
    if quantity <= 0:
        line.delete()
        return None
    _check_quantity(variant_id=line.variant_id, quantity=quantity)
    CartLine.objects.filter(pk=line.pk).update(quantity=quantity)
    line.quantity = quantity
    return line


def cart_line_remove(*, cart: Cart, line_id: int) -> None:
    CartLine.objects.filter(cart=cart, pk=line_id).delete()


@transaction.atomic
def cart_merge(*, user, token: uuid.UUID | None) -> Cart:
    """On login, fold the anonymous cart into the user's. Quantities add up, capped at what is in stock."""
    user_cart = cart_get_or_create(user=user)
    if token is None:
        return user_cart
    anonymous = Cart.objects.select_for_update().filter(token=token, user__isnull=True).first()
    if anonymous is None:
        return user_cart
    existing = {line.variant_id: line for line in user_cart.lines.select_for_update()}
    incoming = list(anonymous.lines.all())
    variants = variants_for_cart(variant_ids=[line.variant_id for line in incoming])
    for line in incoming:
        variant = variants.get(line.variant_id)
        if variant is None:
            continue
        current = existing.get(line.variant_id)
        wanted = line.quantity + (current.quantity if current else 0)
        quantity = max(0, min(wanted, variant.stock.available, MAX_LINE_QUANTITY))
        if quantity == 0:
            continue
        if current is None:
            CartLine.objects.create(cart=user_cart, variant_id=line.variant_id, quantity=quantity)
        else:
            CartLine.objects.filter(pk=current.pk).update(quantity=quantity)
    anonymous.delete()
    return user_cart


# --- Shipping methods ------------------------------------------------------------------------


def shipping_method_create(
    *, shop, name: str, price: Decimal, min_days: int = 2, max_days: int = 5, position: int = 0
) -> ShippingMethod:
    return ShippingMethod.objects.create(
        shop=shop, name=name, price=Decimal(price), min_days=min_days, max_days=max_days, position=position
    )


# --- Addresses -------------------------------------------------------------------------------


def address_save(*, user, data: dict) -> Address:
    """Save a shipping address for next time, unless the user already has the same one."""
    values = {field: data.get(field, "") for field in ADDRESS_FIELDS}
    address = Address.objects.filter(user=user, **values).first()
    return address or Address.objects.create(user=user, **values)


# --- Saved cards (for bidding) ----------------------------------------------------------------


@transaction.atomic
def payment_method_save(*, user, card_number: str) -> PaymentMethod:
    """Save a card with the gateway and make it the default; raises PaymentDeclined if refused."""
    gateway = get_gateway()
    result = gateway.save_card(card_number=card_number)
    if not result.ok:
        raise PaymentDeclined(result.message or "That card can't be saved.")
    PaymentMethod.objects.filter(user=user, is_default=True).update(is_default=False)
    return PaymentMethod.objects.create(
        user=user, gateway=gateway.name, token=result.reference, card_last4=result.card_last4, is_default=True
    )


@transaction.atomic
def payment_method_delete(*, user, method_id: int) -> None:
    """Forget a saved card (only the owner's); the newest remaining one becomes the default."""
    PaymentMethod.objects.filter(user=user, pk=method_id).delete()
    if not PaymentMethod.objects.filter(user=user, is_default=True).exists():
        newest = PaymentMethod.objects.filter(user=user).order_by("-created_at", "-id").first()
        if newest is not None:
            PaymentMethod.objects.filter(pk=newest.pk).update(is_default=True)


# --- The rest of the order services, one import surface ----------------------------------------
from .checkout import (  # noqa: E402
    checkout_complete,
    one_tap_order_charge,
    one_tap_order_place,
    order_charge_saved_method,
    prize_order_place,
    shipping_methods_for,
    won_lot_order_place,
)
from .fulfilment import (  # noqa: E402
    order_cancel,
    order_fulfil,
    order_mark_delivered,
    order_refund,
    order_ship,
    orders_expire_unpaid,
    orders_redrive_stuck,
    orders_ship,
)
from .payments.webhooks import payment_webhook_handle  # noqa: E402
from .reservations import (  # noqa: E402
    reservation_create,
    reservation_release,
    reservations_release_expired,
    waitlist_join,
    waitlist_leave,
)
from .reviews import review_save, review_set_hidden  # noqa: E402

__all__ = [
    "address_save",
    "cart_add",
    "cart_get_or_create",
    "cart_line_remove",
    "cart_line_set_quantity",
    "cart_merge",
    "checkout_complete",
    "order_cancel",
    "one_tap_order_charge",
    "one_tap_order_place",
    "order_charge_saved_method",
    "order_fulfil",
    "order_mark_delivered",
    "order_refund",
    "order_ship",
    "prize_order_place",
    "orders_expire_unpaid",
    "orders_redrive_stuck",
    "orders_ship",
    "payment_method_delete",
    "payment_method_save",
    "payment_webhook_handle",
    "reservation_create",
    "reservation_release",
    "reservations_release_expired",
    "review_save",
    "review_set_hidden",
    "shipping_method_create",
    "shipping_methods_for",
    "waitlist_join",
    "waitlist_leave",
    "won_lot_order_place",
]
