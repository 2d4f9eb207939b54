"""Writes for carts and orders: the cart, and `checkout_complete`, the one way an order is placed."""

import logging
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.selectors import variants_for_cart
from catalog.stock import stock_allocate, stock_deallocate

from .exceptions import EmptyCart, InsufficientStock, PaymentDeclined, VariantUnavailable
from .models import Address, Cart, CartLine, Order, OrderLine, Payment
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
def cart_add(*, cart: Cart, variant_id: int, quantity: int = 1) -> CartLine:
    """Add units to the cart, refusing more than are available now (checkout checks again, locked)."""
    if quantity < 1:
        raise ValueError("quantity must be at least 1")
    Cart.objects.select_for_update().filter(pk=cart.pk).first()  # serialise edits of one cart
    line = CartLine.objects.filter(cart=cart, variant_id=variant_id).first()
    new_quantity = quantity + (line.quantity if line else 0)
    _check_quantity(variant_id=variant_id, quantity=new_quantity)
    if line is None:
        line = CartLine.objects.create(cart=cart, variant_id=variant_id, quantity=new_quantity)
    else:
        CartLine.objects.filter(pk=line.pk).update(quantity=new_quantity)
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


# --- Addresses -------------------------------------------------------------------------------

ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")


def address_save(*, user, data: dict) -> Address:
    """Save a shipping address for next time, unless the user already has the same one."""
    values = {field: data.get(field, "") for field in ADDRESS_FIELDS}
    address = Address.objects.filter(user=user, **values).first()
    return address or Address.objects.create(user=user, **values)


# --- Checkout --------------------------------------------------------------------------------


def _orders_for_checkout(*, user, checkout_key: uuid.UUID) -> list[Order]:
    return list(Order.objects.filter(user=user, checkout_key=checkout_key).order_by("shop_id"))


@transaction.atomic
def _orders_create(*, user, cart: Cart, checkout_key: uuid.UUID, email: str, address: dict) -> list[Order]:
    """Lock and allocate stock, then write one order per shop with snapshot lines. All or nothing."""
    lines = list(cart.lines.order_by("variant_id"))
    if not lines:
        raise EmptyCart("Your cart is empty.")
    variants = variants_for_cart(variant_ids=[line.variant_id for line in lines])
    missing = [line for line in lines if line.variant_id not in variants]
    if missing:
        raise VariantUnavailable("Some items in your cart are no longer for sale. Please review your cart.")
    stock_allocate(lines=[(line.variant_id, line.quantity) for line in lines])

    by_shop: dict[int, list[CartLine]] = defaultdict(list)
    for line in lines:
        by_shop[variants[line.variant_id].shop_id].append(line)

    orders = []
    for shop_id in sorted(by_shop):
        shop = variants[by_shop[shop_id][0].variant_id].shop
        order_lines = []
        for line in by_shop[shop_id]:
            variant = variants[line.variant_id]
            order_lines.append(
                OrderLine(
                    variant=variant,
                    product_title=variant.product.title,
                    variant_name=variant.name,
                    sku=variant.sku,
                    unit_price=variant.price,
                    quantity=line.quantity,
                    line_total=variant.price * line.quantity,
                )
            )
        subtotal = sum((ol.line_total for ol in order_lines), Decimal("0.00"))
        shipping = Decimal("0.00")
        order = Order.objects.create(
            checkout_key=checkout_key,
            user=user,
            shop=shop,
            email=email,
            currency=shop.currency,
            subtotal=subtotal,
            shipping_total=shipping,
            total=subtotal + shipping,
            **{field: address.get(field, "") for field in ADDRESS_FIELDS},
        )
        for order_line in order_lines:
            order_line.order = order
        OrderLine.objects.bulk_create(order_lines)
        orders.append(order)
    return orders


def _order_lines_quantities(orders: list[Order]) -> list[tuple[int, int]]:
    return [
        (line.variant_id, line.quantity)
        for line in OrderLine.objects.filter(order__in=orders, variant__isnull=False)
    ]


@transaction.atomic
def _orders_payment_failed(*, orders: list[Order], message: str, card_last4: str, gateway: str) -> None:
    stock_deallocate(lines=_order_lines_quantities(orders))
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=Order.Status.PAYMENT_FAILED)
    Payment.objects.bulk_create(
        Payment(
            order=order,
            gateway=gateway,
            status=Payment.Status.DECLINED,
            amount=order.total,
            currency=order.currency,
            card_last4=card_last4,
            message=message[:200],
        )
        for order in orders
    )
    for order in orders:
        order.status = Order.Status.PAYMENT_FAILED


@transaction.atomic
def _orders_paid(
    *, orders: list[Order], cart: Cart, authorisations: dict[int, tuple[str, str]], gateway: str
):
    now = timezone.now()
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=Order.Status.PAID, paid_at=now)
    Payment.objects.bulk_create(
        Payment(
            order=order,
            gateway=gateway,
            reference=authorisations[order.pk][0],
            status=Payment.Status.CAPTURED,
            amount=order.total,
            currency=order.currency,
            card_last4=authorisations[order.pk][1],
        )
        for order in orders
    )
    # Take what was bought out of the cart; anything added meanwhile stays.
    for variant_id, quantity in _order_lines_quantities(orders):
        CartLine.objects.filter(cart=cart, variant_id=variant_id, quantity__lte=quantity).delete()
        CartLine.objects.filter(cart=cart, variant_id=variant_id).update(quantity=F("quantity") - quantity)
    for order in orders:
        order.status, order.paid_at = Order.Status.PAID, now

    from .tasks import order_confirmation_send_task

    for order in orders:
        order_confirmation_send_task.delay_on_commit(order.pk)


def checkout_complete(
    *,
    user,
    cart: Cart,
    checkout_key: uuid.UUID,
    email: str,
    address: dict,
    card_number: str,
    save_address: bool = True,
) -> list[Order]:
    """Place the cart as one order per shop and pay for them. Idempotent on `checkout_key`.

    Steps: (1) a transaction locks stock, allocates it and writes the orders; (2) the gateway
    authorises each order, with no lock held; (3) on success the payments are captured and the
    orders marked paid; on any decline the authorised ones are voided, the stock is released and
    PaymentDeclined is raised. Called again with the same key, it returns the first outcome.
    """
    existing = _orders_for_checkout(user=user, checkout_key=checkout_key)
    if not existing:
        try:
            orders = _orders_create(
                user=user, cart=cart, checkout_key=checkout_key, email=email, address=address
            )
        except IntegrityError:
            # A concurrent submit with the same key won the race: return its outcome.
            existing = _orders_for_checkout(user=user, checkout_key=checkout_key)
            if not existing:
                raise
    if existing:
        if any(order.status == Order.Status.PAYMENT_FAILED for order in existing):
            raise PaymentDeclined("This payment was declined. Please try again.")
        return existing

    gateway = get_gateway()
    authorisations: dict[int, tuple[str, str]] = {}
    for order in orders:
        result = gateway.authorize(
            amount=order.total,
            currency=order.currency,
            card_number=card_number,
            idempotency_key=f"{checkout_key}:{order.pk}",
        )
        if not result.ok:
            for reference, _last4 in authorisations.values():
                gateway.void(reference=reference)
            _orders_payment_failed(
                orders=orders, message=result.message, card_last4=result.card_last4, gateway=gateway.name
            )
            logger.info("checkout %s declined: %s", checkout_key, result.message)
            raise PaymentDeclined(result.message or "Your card was declined.")
        authorisations[order.pk] = (result.reference, result.card_last4)
    for order in orders:
        gateway.capture(reference=authorisations[order.pk][0], amount=order.total)
    _orders_paid(orders=orders, cart=cart, authorisations=authorisations, gateway=gateway.name)
    if save_address:
        address_save(user=user, data=address)
    logger.info("checkout %s placed orders %s", checkout_key, [o.number for o in orders])
    return orders
