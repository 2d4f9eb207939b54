"""`checkout_complete`: the one way orders are placed.

(1) One transaction locks the shopper's holds and the stock rows (variant-id order), re-checks
availability, allocates, and writes one order per shop with snapshot lines and Decimal totals.
(2) With no lock held, the gateway authorises each order. (3) On success the payments are captured and
the orders marked paid; on any decline the authorised ones are voided, the orders cancelled and the
stock released (holds the shopper had are kept). Called again with the same key, it returns the first
outcome.
"""

import logging
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from catalog.models import Variant
from catalog.selectors import variants_for_cart
from catalog.stock import stock_allocate
from config.faults import fault_point

from .exceptions import EmptyCart, OneTapNotReady, PaymentDeclined, VariantUnavailable
from .lifecycle import order_event_add, order_lock, order_transition
from .models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Reservation,
    ShippingMethod,
    WaitlistEntry,
)
from .payments import GatewayResult, get_gateway
from .pricing import line_price_groups
from .reservations import reservations_active_for, stock_changed_announce, stock_release_to_waitlist_or_sale
from .selectors import address_latest, payment_method_default
from .services import ADDRESS_FIELDS, address_save

logger = logging.getLogger(__name__)

DECLINED_REASON = "Payment declined"
ZERO = Decimal("0.00")


def shipping_methods_for(*, shop_ids) -> dict[int, list[ShippingMethod]]:
    methods: dict[int, list[ShippingMethod]] = defaultdict(list)
    for method in ShippingMethod.objects.filter(shop_id__in=list(shop_ids), is_active=True).select_related(
        "shop"
    ):
        methods[method.shop_id].append(method)
    return methods


def _shipping_for(*, user, shop, method: ShippingMethod | None, show_id: int | None) -> Decimal:
    """The method's price; within one show, shipping adds up only to the shop's cap (bundling)."""
    price = method.price if method else ZERO
    if show_id is None:
        return price
    cap = shop.show_shipping_cap if shop.show_shipping_cap is not None else price
    already = (
        Order.objects.filter(user=user, shop=shop, show_id=show_id)
        .exclude(status=Order.Status.CANCELLED)
        .aggregate(total=Sum("shipping_total"))["total"]
        or ZERO
    )
    return max(ZERO, min(price, cap - already))


def _price_groups(*, line: CartLine, variant, holds: list[Reservation]) -> list[tuple[Decimal, int]]:
    return line_price_groups(
        variant_id=line.variant_id, quantity=line.quantity, list_price=variant.price, holds=holds
    )


def _orders_for_checkout(*, user, checkout_key: uuid.UUID) -> list[Order]:
    return list(Order.objects.filter(user=user, checkout_key=checkout_key).order_by("shop_id"))


@transaction.atomic
def _orders_create(
    *, user, cart: Cart, checkout_key: uuid.UUID, email: str, address: dict, shipping: dict[int, int]
) -> list[Order]:
    lines = list(cart.lines.order_by("variant_id"))
    if not lines:
        raise EmptyCart("Your cart is empty.")
    variants = variants_for_cart(variant_ids=[line.variant_id for line in lines])
    if any(line.variant_id not in variants for line in lines):
        raise VariantUnavailable("Some items in your cart are no longer for sale. Please review your cart.")

    holds = reservations_active_for(user=user, variant_ids=[line.variant_id for line in lines])
    held: dict[int, int] = defaultdict(int)
    for hold in holds:
        held[hold.variant_id] += hold.quantity
    wanted = {line.variant_id: line.quantity for line in lines}
    stock_allocate(lines=[(v, q - held[v]) for v, q in wanted.items() if q > held[v]])
    surplus = [(v, held[v] - q) for v, q in wanted.items() if held[v] > q]
    if surplus:
        stock_release_to_waitlist_or_sale(lines=surplus)
    stock_changed_announce(wanted)

    by_shop: dict[int, list[CartLine]] = defaultdict(list)
    for line in lines:
        by_shop[variants[line.variant_id].shop_id].append(line)
    methods = shipping_methods_for(shop_ids=by_shop)

    orders = []
    for shop_id in sorted(by_shop):
        shop = variants[by_shop[shop_id][0].variant_id].shop
        chosen = {m.pk: m for m in methods.get(shop_id, [])}
        method = chosen.get(shipping.get(shop_id)) or next(iter(chosen.values()), None)
        show_id = next((line.show_id for line in by_shop[shop_id] if line.show_id), None)
        order_lines = []
        for line in by_shop[shop_id]:
            variant = variants[line.variant_id]
            for unit_price, quantity in _price_groups(line=line, variant=variant, holds=holds):
                order_lines.append(
                    OrderLine(
                        variant=variant,
                        product_title=variant.product.title,
                        variant_name=variant.name,
                        sku=variant.sku,
                        unit_price=unit_price,
                        quantity=quantity,
                        line_total=unit_price * quantity,
                    )
                )
        subtotal = sum((ol.line_total for ol in order_lines), ZERO)
        shipping_total = _shipping_for(user=user, shop=shop, method=method, show_id=show_id)
        order = Order.objects.create(
            checkout_key=checkout_key,
            user=user,
            shop=shop,
            show_id=show_id,
            email=email,
            currency=shop.currency,
            subtotal=subtotal,
            shipping_method_name=method.name if method else "Standard",
            shipping_total=shipping_total,
            total=subtotal + shipping_total,
            **{field: address.get(field, "") for field in ADDRESS_FIELDS},
        )
        for order_line in order_lines:
            order_line.order = order
        OrderLine.objects.bulk_create(order_lines)
        shop_variants = {line.variant_id for line in by_shop[shop_id]}
        converted = [h.pk for h in holds if h.variant_id in shop_variants]
        Reservation.objects.filter(pk__in=converted).update(status=Reservation.Status.CONVERTED, order=order)
        WaitlistEntry.objects.filter(
            reservation_id__in=converted, status=WaitlistEntry.Status.OFFERED
        ).update(status=WaitlistEntry.Status.CLAIMED)
        order_event_add(order=order, kind=OrderEvent.Kind.NOTE, message="Order placed", actor=user)
        orders.append(order)
    return orders


@transaction.atomic
def _orders_payment_failed(*, orders: list[Order], message: str, card_last4: str, gateway: str) -> None:
    """Cancel the orders and free their stock; holds the shopper had go back to being holds."""
    order_ids = [o.pk for o in orders]
    holds = list(Reservation.objects.select_for_update().filter(order_id__in=order_ids).order_by("id"))
    held: dict[int, int] = defaultdict(int)
    for hold in holds:
        held[hold.variant_id] += hold.quantity
    Reservation.objects.filter(pk__in=[h.pk for h in holds]).update(
        status=Reservation.Status.ACTIVE, order=None
    )
    WaitlistEntry.objects.filter(
        reservation_id__in=[h.pk for h in holds], status=WaitlistEntry.Status.CLAIMED
    ).update(status=WaitlistEntry.Status.OFFERED)
    release = []
    for variant_id, quantity in OrderLine.objects.filter(order_id__in=order_ids).values_list(
        "variant_id", "quantity"
    ):
        keep = min(quantity, held[variant_id])
        held[variant_id] -= keep
        if quantity > keep:
            release.append((variant_id, quantity - keep))
    stock_release_to_waitlist_or_sale(lines=release)
    for order in orders:
        Payment.objects.create(
            order=order,
            gateway=gateway,
            status=Payment.Status.DECLINED,
            amount=order.total,
            currency=order.currency,
            card_last4=card_last4,
            message=message[:200],
        )
        order_transition(
            order=order,
            to=Order.Status.CANCELLED,
            actor_label="gateway",
            message=message,
            cancel_reason=DECLINED_REASON,
        )


@transaction.atomic
def _orders_paid(
    *, user, orders: list[Order], cart: Cart, authorisations: dict[int, tuple[str, str]], gateway: str
):
    for order in orders:
        reference, last4 = authorisations[order.pk]
        Payment.objects.create(
            order=order,
            gateway=gateway,
            reference=reference,
            status=Payment.Status.CAPTURED,
            amount=order.total,
            currency=order.currency,
            card_last4=last4,
        )
        order_transition(order=order, to=Order.Status.PAID, actor=user, message=f"Paid by card •••• {last4}")
    # Take what was bought out of the cart; anything added meanwhile stays.
    for variant_id, quantity in OrderLine.objects.filter(order__in=orders).values_list(
        "variant_id", "quantity"
    ):
        CartLine.objects.filter(cart=cart, variant_id=variant_id, quantity__lte=quantity).delete()
        CartLine.objects.filter(cart=cart, variant_id=variant_id).update(quantity=F("quantity") - quantity)

    from .tasks import order_email_task, order_fulfil_task

    for order in orders:
        order_email_task.delay_on_commit(order.pk, "confirmation")
        order_fulfil_task.delay_on_commit(order.pk)


def checkout_complete(
    *,
    user,
    cart: Cart,
    checkout_key: uuid.UUID,
    email: str,
    address: dict,
    card_number: str,
    shipping: dict[int, int] | None = None,
    save_address: bool = True,
) -> list[Order]:
    """Place the cart as one paid order per shop (see the module docstring). Idempotent on the key."""
    existing = _orders_for_checkout(user=user, checkout_key=checkout_key)
    if not existing:
        try:
            orders = _orders_create(
                user=user,
                cart=cart,
                checkout_key=checkout_key,
                email=email,
                address=address,
                shipping=shipping or {},
            )
        except IntegrityError:
            # A concurrent submit with the same key won the race: return its outcome.
            existing = _orders_for_checkout(user=user, checkout_key=checkout_key)
            if not existing:
                raise
    if existing:
        if any(o.status == Order.Status.CANCELLED and o.cancel_reason == DECLINED_REASON for o in existing):
            raise PaymentDeclined("This payment was declined. Please try again.")
        if not all(o.status == Order.Status.PENDING_PAYMENT for o in existing):
            return existing
        # An earlier attempt placed the orders but never finished paying (a crash, a gateway
        # time-out): carry on from the payment step; the gateway's idempotency keys prevent a
        # second charge.
        orders = existing

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
    _orders_paid(user=user, orders=orders, cart=cart, authorisations=authorisations, gateway=gateway.name)
    if save_address:
        address_save(user=user, data=address)
    logger.info("checkout %s placed orders %s", checkout_key, [o.number for o in orders])
    return orders


def _single_line_order(
    *,
    user,
    variant,
    quantity: int,
    unit_price: Decimal,
    show_id: int | None,
    address: dict,
    checkout_key: uuid.UUID,
    shipping_total: Decimal,
    shipping_name: str,
    line_total: Decimal | None = None,
) -> Order:
    """One order with one snapshot line, for units already allocated to it (a prize, a won lot).
    `line_total` is given when the price is for the lot as a whole (it must be what was bid)."""
    subtotal = unit_price * quantity if line_total is None else line_total
    order = Order.objects.create(
        checkout_key=checkout_key,
        user=user,
        shop=variant.shop,
        show_id=show_id,
        email=user.email,
        currency=variant.shop.currency,
        subtotal=subtotal,
        shipping_method_name=shipping_name,
        shipping_total=shipping_total,
        total=subtotal + shipping_total,
        **{field: address.get(field, "") for field in ADDRESS_FIELDS},
    )
    OrderLine.objects.create(
        order=order,
        variant=variant,
        product_title=variant.product.title,
        variant_name=variant.name,
        sku=variant.sku,
        unit_price=unit_price,
        quantity=quantity,
        line_total=subtotal,
    )
    return order


@transaction.atomic
def prize_order_place(*, user, variant_id: int, show_id: int | None, address: dict, note: str) -> Order:
    """A zero-price order for a giveaway winner: one unit, shipping paid by the shop, already paid."""
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("The prize is no longer available.")
    stock_allocate(lines=[(variant_id, 1)])
    order = _single_line_order(
        user=user,
        variant=variant,
        quantity=1,
        unit_price=ZERO,
        show_id=show_id,
        address=address,
        checkout_key=uuid.uuid4(),
        shipping_total=ZERO,
        shipping_name="Prize shipping (paid by the shop)",
    )
    order_event_add(order=order, kind=OrderEvent.Kind.NOTE, message=note, actor_label="system")
    order_transition(order=order, to=Order.Status.PAID, actor_label="system", message="Prize: nothing to pay")
    stock_changed_announce([variant_id])
    from .tasks import order_email_task, order_fulfil_task

    order_email_task.delay_on_commit(order.pk, "confirmation")
    order_fulfil_task.delay_on_commit(order.pk)
    return order


@transaction.atomic
def won_lot_order_place(
    *,
    user,
    variant_id: int,
    quantity: int,
    total: Decimal,
    show_id: int,
    checkout_key: uuid.UUID,
    note: str,
) -> Order:
    """The auction winner's order, awaiting payment, at the winning price (for all `quantity` units). The lot's units are already
    allocated and become the order's. The same key returns the same order (closing is retried)."""
    existing = Order.objects.filter(user=user, checkout_key=checkout_key).first()
    if existing is not None:
        return existing
    variant = Variant.objects.select_related("shop", "product").get(pk=variant_id)
    address = address_latest(user=user)
    method = shipping_methods_for(shop_ids=[variant.shop_id]).get(variant.shop_id, [None])[0]
    order = _single_line_order(
        user=user,
        variant=variant,
        quantity=quantity,
        unit_price=(total / quantity).quantize(Decimal("0.01")),
        line_total=total,
        show_id=show_id,
        address={f: getattr(address, f, "") for f in ADDRESS_FIELDS},
        checkout_key=checkout_key,
        shipping_total=_shipping_for(user=user, shop=variant.shop, method=method, show_id=show_id),
        shipping_name=method.name if method else "Standard",
    )
    order_event_add(order=order, kind=OrderEvent.Kind.NOTE, message=note, actor_label="system")
    return order


@transaction.atomic
def one_tap_order_place(*, user, variant_id: int, show_id: int, checkout_key: uuid.UUID) -> Order:
    """One-tap buy in a live show: one unit at the list price, shipped to the shopper's latest address
    and charged to their default saved card by a worker after commit (`one_tap_order_charge`).

    The unit is allocated to the order in this transaction by one conditional UPDATE (no oversell, no
    hold, no checkout step); the stock row stays locked only for that statement and the commit. The same
    key returns the same order, so a double tap buys once."""
    existing = Order.objects.filter(user=user, checkout_key=checkout_key).first()
    if existing is not None:
        return existing
    address = address_latest(user=user)
    if address is None or payment_method_default(user=user) is None:
        raise OneTapNotReady("Save a card and a shipping address for 1-tap buying first (/account/bidding/).")
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("This product is not available.")
    method = shipping_methods_for(shop_ids=[variant.shop_id]).get(variant.shop_id, [None])[0]
    order = _single_line_order(
        user=user,
        variant=variant,
        quantity=1,
        unit_price=variant.price,
        show_id=show_id,
        address={f: getattr(address, f) for f in ADDRESS_FIELDS},
        checkout_key=checkout_key,
        shipping_total=_shipping_for(user=user, shop=variant.shop, method=method, show_id=show_id),
        shipping_name=method.name if method else "Standard",
    )
    order_event_add(order=order, kind=OrderEvent.Kind.NOTE, message="One-tap buy in the show", actor=user)
    stock_allocate(lines=[(variant_id, 1)])  # last: the row lock lives for one statement and the commit
    stock_changed_announce([variant_id])
    from .tasks import one_tap_charge_task

    one_tap_charge_task.delay_on_commit(order.pk)
    return order


def one_tap_order_charge(*, order_id: int) -> Order:
    """Charge a one-tap order; a decline cancels it and frees its unit (waitlist first)."""
    return order_charge_saved_method(
        order_id=order_id, idempotency_key=f"one-tap-{order_id}", release_on_decline=True
    )


def order_charge_saved_method(
    *, order_id: int, idempotency_key: str, release_on_decline: bool = False
) -> Order:
    """Charge an order awaiting payment to the buyer's default saved card (no lock held during the
    gateway call; the key makes a retried charge a no-op at the gateway). A decline cancels the order;
    its units are freed with it when `release_on_decline`, else they stay allocated and whoever placed
    it decides where they go (see shows.auctions)."""
    order = Order.objects.select_related("user").get(pk=order_id)
    if order.status != Order.Status.PENDING_PAYMENT:
        return order
    method = payment_method_default(user=order.user)
    gateway = get_gateway()
    if method is None:
        result = GatewayResult(ok=False, message="No saved card to charge.")
    else:
        result = gateway.authorize_saved(
            token=method.token, amount=order.total, currency=order.currency, idempotency_key=idempotency_key
        )
        if result.ok:
            gateway.capture(reference=result.reference, amount=order.total)
            fault_point("saved_card_captured")  # tests/faults: killed before the payment is recorded
    last4 = method.card_last4 if method else ""
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if order.status != Order.Status.PENDING_PAYMENT:
            return order
        Payment.objects.create(
            order=order,
            gateway=gateway.name,
            reference=result.reference,
            status=Payment.Status.CAPTURED if result.ok else Payment.Status.DECLINED,
            amount=order.total,
            currency=order.currency,
            card_last4=last4,
            message=result.message[:200],
        )
        if not result.ok:
            if release_on_decline:
                stock_release_to_waitlist_or_sale(
                    lines=list(order.lines.values_list("variant_id", "quantity"))
                )
            return order_transition(
                order=order,
                to=Order.Status.CANCELLED,
                actor_label="gateway",
                message=result.message or "Payment declined",
                cancel_reason=DECLINED_REASON,
            )
        order_transition(
            order=order,
            to=Order.Status.PAID,
            actor_label="system",
            message=f"Paid by saved card •••• {last4}",
        )
        from .tasks import order_email_task, order_fulfil_task

        order_email_task.delay_on_commit(order.pk, "confirmation")
        order_fulfil_task.delay_on_commit(order.pk)
    return order
