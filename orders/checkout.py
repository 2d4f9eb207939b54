"""`checkout_complete`: the one way orders are placed.

(1) One transaction locks the shopper's holds and the stock rows (variant-id order), re-checks
availability, allocates, and writes one order per shop with snapshot lines and Decimal totals; the
shopper's older checkouts still awaiting payment are cancelled in it (their stock and holds return), so
an old form sent again can't pay for the same cart twice. (2) Under the orders' row locks, one payment
attempt per order is recorded with its idempotency key (orders.payments.attempts); a concurrent submit
with the same key finds it and waits for its outcome instead of calling the gateway. (3) With no lock
held, the gateway authorises and captures each order under the attempt's key. (4) The outcome is
recorded conditionally: the orders become paid (once: one captured payment, one `paid` event, one
outgoing webhook, one confirmation and one packing job), or on a decline the authorised ones are voided,
the orders cancelled and the stock released (holds the shopper had are kept). A crash anywhere leaves
a pending attempt that `payments_recover` settles by asking the gateway. Called again with the same key,
it returns the first outcome.
"""

import logging
import time
import uuid
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum

from catalog.models import Variant
from catalog.selectors import variants_for_cart
from catalog.stock import stock_allocate
from config.faults import fault_point

from .exceptions import CheckoutClosed, EmptyCart, OneTapNotReady, PaymentDeclined, VariantUnavailable
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
from .payments.attempts import attempt_in_flight, attempt_record, attempts_open_for, attempts_start
from .payments.base import GatewayUnavailable
from .pricing import line_price_groups
from .reservations import reservations_active_for, stock_changed_announce, stock_release_to_waitlist_or_sale
from .selectors import address_latest, payment_method_default
from .services import ADDRESS_FIELDS, address_save
from .signals import show_order_paid

logger = logging.getLogger(__name__)

DECLINED_REASON = "Payment declined"
REPLACED_REASON = "Replaced by a newer checkout"
ZERO = Decimal("0.00")
P = Payment.Status


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
    _checkouts_replace(user=user, checkout_key=checkout_key)
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


def _orders_release(*, orders: list[Order]) -> None:
    """Free an unpaid checkout's stock: holds the shopper had go back to being holds, the rest returns
    to the waitlist or open sale. The caller holds the orders' locks and cancels them."""
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


def _orders_locked(order_ids) -> list[Order]:
    return list(
        Order.objects.select_for_update(of=("self",))
        .select_related("shop")
        .filter(pk__in=list(order_ids))
        .order_by("pk")
    )


def _checkouts_replace(*, user, checkout_key: uuid.UUID) -> None:
    """Cancel the shopper's other checkouts still awaiting payment with no payment under way, freeing
    their stock: the cart is being placed again, and an old form sent later must not pay for it twice.
    (Inside `_orders_create`'s transaction; a checkout whose payment is under way is left to settle.)"""
    stale = (
        Order.objects.filter(user=user, channel=Order.Channel.CHECKOUT, status=Order.Status.PENDING_PAYMENT)
        .exclude(checkout_key=checkout_key)
        .values_list("pk", flat=True)
    )
    orders = [o for o in _orders_locked(stale) if o.status == Order.Status.PENDING_PAYMENT]
    if not orders or attempts_open_for(order_ids=[o.pk for o in orders]):
        return
    _orders_release(orders=orders)
    for order in orders:
        order_transition(
            order=order,
            to=Order.Status.CANCELLED,
            actor_label="system",
            message="The shopper checked out again",
            cancel_reason=REPLACED_REASON,
        )


def _checkouts_settle_stale(*, user) -> None:
    """Before a new checkout replaces the shopper's unpaid ones: settle their attempts that are too
    old to be in flight (a crash), by asking the gateway, with no lock held."""
    from .payments.recovery import payment_recover

    open_attempts = Payment.objects.filter(
        order__user=user, order__channel=Order.Channel.CHECKOUT, status=P.PENDING
    ).order_by("pk")
    for payment in open_attempts:
        if not attempt_in_flight(payment=payment):
            payment_recover(payment_id=payment.pk)


def _cart_take_bought(*, order: Order) -> None:
    """Take what a checkout order bought out of the shopper's cart; anything added meanwhile stays."""
    cart = Cart.objects.filter(user_id=order.user_id).first()
    if cart is None:
        return
    for variant_id, quantity in OrderLine.objects.filter(order=order).values_list("variant_id", "quantity"):
        CartLine.objects.filter(cart=cart, variant_id=variant_id, quantity__lte=quantity).delete()
        CartLine.objects.filter(cart=cart, variant_id=variant_id).update(quantity=F("quantity") - quantity)


def order_paid(*, order: Order, actor=None, actor_label: str | None = None, message: str) -> None:
    """A locked order whose payment was just recorded as captured becomes paid, once: the `paid` event,
    the shops' webhook, the confirmation e-mail and the packing job all hang on this one transition."""
    order_transition(order=order, to=Order.Status.PAID, actor=actor, actor_label=actor_label, message=message)
    if order.channel == Order.Channel.CHECKOUT:
        _cart_take_bought(order=order)
    # tests/faults: the first after-commit step, so a kill here is "committed, jobs not started".
    transaction.on_commit(lambda: fault_point("payment_committed"))
    if order.show_id is not None:
        order_id, show_id = order.pk, order.show_id
        transaction.on_commit(lambda: show_order_paid.send(sender=Order, order_id=order_id, show_id=show_id))
    from .tasks import order_email_task, order_fulfil_task

    order_email_task.delay_on_commit(order.pk, "confirmation")
    order_fulfil_task.delay_on_commit(order.pk)


def _checkout_state(orders: list[Order]) -> str:
    """done | declined | closed | pay, from the checkout's locked orders."""
    if any(o.status == Order.Status.CANCELLED and o.cancel_reason == DECLINED_REASON for o in orders):
        return "declined"
    if any(o.status == Order.Status.CANCELLED for o in orders):
        return "closed"
    return "pay" if any(o.status == Order.Status.PENDING_PAYMENT for o in orders) else "done"


@transaction.atomic
def _checkout_payment_start(*, orders: list[Order], gateway: str) -> tuple[str, list[Payment]]:
    """Under the orders' locks: open one attempt per unpaid order, or say why not (`busy`: another
    request or job is paying them now)."""
    locked = _orders_locked(o.pk for o in orders)
    state = _checkout_state(locked)
    if state != "pay":
        return state, []
    unpaid = [o for o in locked if o.status == Order.Status.PENDING_PAYMENT]
    if attempts_open_for(order_ids=[o.pk for o in unpaid]):
        return "busy", []
    return "pay", attempts_start(orders=unpaid, gateway=gateway)


@transaction.atomic
def _checkout_declined(
    *, payments: list[Payment], declined: Payment, authorised: list[Payment], result: GatewayResult
) -> None:
    """Record the decline (authorised ones were voided, the rest never sent) and cancel the
    checkout's unpaid orders."""
    voided = {p.pk for p in authorised}
    for payment in payments:
        if payment.pk == declined.pk:
            status, message = P.DECLINED, result.message or "Declined"
        elif payment.pk in voided:
            status, message = P.VOIDED, "Another order of the checkout was declined"
        else:
            status, message = P.FAILED, "Not sent: another order of the checkout was declined"
        attempt_record(payment=payment, status=status, card_last4=result.card_last4, message=message)
    orders = [
        o for o in _orders_locked(p.order_id for p in payments) if o.status == Order.Status.PENDING_PAYMENT
    ]
    _orders_release(orders=orders)
    for order in orders:
        order_transition(
            order=order,
            to=Order.Status.CANCELLED,
            actor_label="gateway",
            message=result.message or "Payment declined",
            cancel_reason=DECLINED_REASON,
        )


@transaction.atomic
def _checkout_paid(*, user, captured: list[tuple[Payment, GatewayResult]]) -> None:
    """Record each capture and mark its order paid: only the writer that settles the attempt does."""
    locked = {o.pk: o for o in _orders_locked(p.order_id for p, _ in captured)}
    for payment, result in captured:
        if attempt_record(
            payment=payment, status=P.CAPTURED, reference=result.reference, card_last4=result.card_last4
        ):
            order_settle_captured(order=locked[payment.order_id], payment=payment, actor=user)
    fault_point("payment_recorded")  # tests/faults: killed here, nothing of this commits


def order_settle_captured(
    *, order: Order, payment: Payment, actor=None, actor_label: str | None = None
) -> None:
    """The gateway took the money for `payment` (just recorded as captured, order locked): an order
    awaiting payment becomes paid; one that was cancelled meanwhile gets the money back."""
    if order.status == Order.Status.PENDING_PAYMENT:
        order_paid(
            order=order,
            actor=actor,
            actor_label=actor_label,
            message=f"Paid by card •••• {payment.card_last4}" if payment.card_last4 else "Payment captured",
        )
        return
    from .fulfilment import order_refund_captured_late

    order_refund_captured_late(order=order, payment=payment)


def _checkout_wait(*, orders: list[Order]) -> None:
    """Another request is paying these orders (a double submit): wait for its outcome, settling an
    attempt that is too old to be in flight (its process died) by asking the gateway."""
    from .payments.recovery import payment_recover

    deadline = time.monotonic() + settings.LIVEMARKET_CHECKOUT_WAIT_SECONDS
    while time.monotonic() < deadline:
        open_attempts = attempts_open_for(order_ids=[o.pk for o in orders])
        if not open_attempts:
            return
        for payment in open_attempts:
            if not attempt_in_flight(payment=payment):
                payment_recover(payment_id=payment.pk)
        time.sleep(0.1)


def _checkout_outcome(*, user, checkout_key: uuid.UUID) -> list[Order]:
    orders = _orders_for_checkout(user=user, checkout_key=checkout_key)
    state = _checkout_state(orders)
    if state == "declined":
        raise PaymentDeclined("This payment was declined. Please try again.")
    if state == "closed":
        raise CheckoutClosed(
            "This checkout was replaced by a newer one or cancelled; nothing was charged for it. "
            "See your orders, or check out again."
        )
    return orders


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
    """Place the cart as one paid order per shop (see the module docstring). Idempotent on the key,
    also under concurrency: every submit with one key returns the same orders, paid once."""
    orders = _orders_for_checkout(user=user, checkout_key=checkout_key)
    if not orders:
        _checkouts_settle_stale(user=user)
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
            # A concurrent submit with the same key placed them first: go on with its orders.
            orders = _orders_for_checkout(user=user, checkout_key=checkout_key)
            if not orders:
                raise

    gateway = get_gateway()
    state, payments = _checkout_payment_start(orders=orders, gateway=gateway.name)
    if state == "busy":
        # Wait for the other request; if its attempt was settled without the money (it died before
        # the gateway), this submit pays.
        _checkout_wait(orders=orders)
        state, payments = _checkout_payment_start(orders=orders, gateway=gateway.name)
    if state != "pay":
        return _checkout_outcome(user=user, checkout_key=checkout_key)

    fault_point("payment_before_gateway")  # tests/faults: the attempts are recorded, nothing sent
    authorised: list[tuple[Payment, GatewayResult]] = []
    try:
        for payment in payments:
            result = gateway.authorize(
                amount=payment.amount,
                currency=payment.currency,
                card_number=card_number,
                idempotency_key=payment.idempotency_key,
            )
            if result.ok:
                authorised.append((payment, result))
                continue
            for done, auth in authorised:
                gateway.void(reference=auth.reference, idempotency_key=f"{done.idempotency_key}-void")
            _checkout_declined(
                payments=payments, declined=payment, authorised=[p for p, _ in authorised], result=result
            )
            logger.info("checkout %s declined: %s", checkout_key, result.message)
            raise PaymentDeclined(result.message or "Your card was declined.")
        for payment, auth in authorised:
            captured = gateway.capture(
                reference=auth.reference,
                amount=payment.amount,
                idempotency_key=f"{payment.idempotency_key}-capture",
            )
            if not captured.ok:  # an authorisation that lapsed: nothing was taken for this one
                raise GatewayUnavailable(captured.message)
    except GatewayUnavailable:
        # The outcome is unknown: the attempts stay open and `payments_recover` settles them by asking
        # the gateway; the orders wait (nothing is charged twice, nothing is cancelled while captured).
        logger.warning("checkout %s: the gateway did not answer; left for recovery", checkout_key)
        return _orders_for_checkout(user=user, checkout_key=checkout_key)
    fault_point("payment_captured")  # tests/faults: the gateway took the money, nothing recorded yet
    _checkout_paid(user=user, captured=authorised)
    if save_address:
        address_save(user=user, data=address)
    logger.info("checkout %s placed orders %s", checkout_key, [o.number for o in orders])
    return _checkout_outcome(user=user, checkout_key=checkout_key)


def _single_line_order(
    *,
    user,
    channel: str,
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
        channel=channel,
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


def _order_for_key(*, user, checkout_key: uuid.UUID) -> Order | None:
    return Order.objects.filter(user=user, checkout_key=checkout_key).first()


def _placed_once(place, *, user, checkout_key: uuid.UUID, **kwargs) -> Order:
    """Run a one-order placement (its own transaction) once per key: a concurrent call with the same
    key that loses the race on the unique (checkout_key, shop) index gets the winner's order."""
    existing = _order_for_key(user=user, checkout_key=checkout_key)
    if existing is not None:
        return existing
    try:
        return place(user=user, checkout_key=checkout_key, **kwargs)
    except IntegrityError:
        existing = _order_for_key(user=user, checkout_key=checkout_key)
        if existing is None:
            raise
        return existing


def prize_order_place(
    *, user, variant_id: int, show_id: int | None, address: dict, note: str, checkout_key: uuid.UUID
) -> Order:
    """A zero-price order for a giveaway winner: one unit, shipping paid by the shop, already paid.
    The key names the draw, so a re-run draw gives the same order."""
    return _placed_once(
        _prize_order_create,
        user=user,
        checkout_key=checkout_key,
        variant_id=variant_id,
        show_id=show_id,
        address=address,
        note=note,
    )


@transaction.atomic
def _prize_order_create(
    *, user, variant_id: int, show_id: int | None, address: dict, note: str, checkout_key: uuid.UUID
) -> Order:
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("The prize is no longer available.")
    order = _single_line_order(
        user=user,
        channel=Order.Channel.GIVEAWAY,
        variant=variant,
        quantity=1,
        unit_price=ZERO,
        show_id=show_id,
        address=address,
        checkout_key=checkout_key,
        shipping_total=ZERO,
        shipping_name="Prize shipping (paid by the shop)",
    )
    stock_allocate(lines=[(variant_id, 1)])
    order_event_add(order=order, kind=OrderEvent.Kind.NOTE, message=note, actor_label="system")
    order_paid(order=order, actor_label="system", message="Prize: nothing to pay")
    stock_changed_announce([variant_id])
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
    allocated and become the order's. The same key returns the same order (closing is retried; the
    caller holds the lot's lock, so two closes don't race)."""
    existing = _order_for_key(user=user, checkout_key=checkout_key)
    if existing is not None:
        return existing
    variant = Variant.objects.select_related("shop", "product").get(pk=variant_id)
    address = address_latest(user=user)
    method = shipping_methods_for(shop_ids=[variant.shop_id]).get(variant.shop_id, [None])[0]
    order = _single_line_order(
        user=user,
        channel=Order.Channel.AUCTION,
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


def one_tap_order_place(*, user, variant_id: int, show_id: int, checkout_key: uuid.UUID) -> Order:
    """One-tap buy in a live show: one unit at the list price, shipped to the shopper's latest address
    and charged to their default saved card by a worker after commit (`one_tap_order_charge`).

    The unit is allocated to the order in this transaction by one conditional UPDATE (no oversell, no
    hold, no checkout step); the stock row stays locked only for that statement and the commit. The same
    key returns the same order, so a double tap buys once, also when both taps arrive at once."""
    return _placed_once(
        _one_tap_order_create, user=user, checkout_key=checkout_key, variant_id=variant_id, show_id=show_id
    )


@transaction.atomic
def _one_tap_order_create(*, user, variant_id: int, show_id: int, checkout_key: uuid.UUID) -> Order:
    address = address_latest(user=user)
    if address is None or payment_method_default(user=user) is None:
        raise OneTapNotReady("Save a card and a shipping address for 1-tap buying first (/account/bidding/).")
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("This product is not available.")
    method = shipping_methods_for(shop_ids=[variant.shop_id]).get(variant.shop_id, [None])[0]
    order = _single_line_order(
        user=user,
        channel=Order.Channel.ONE_TAP,
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
    return order_charge_saved_method(order_id=order_id, release_on_decline=True)


@transaction.atomic
def _saved_charge_start(*, order_id: int, gateway: str) -> tuple[Order, Payment | None, object]:
    """Under the order's lock: open the attempt (None when the order is settled or another worker is
    charging it right now). With no saved card the attempt is declined at once."""
    order = order_lock(order_id=order_id)
    if order.status != Order.Status.PENDING_PAYMENT or attempts_open_for(order_ids=[order.pk]):
        return order, None, None
    method = payment_method_default(user=order.user)
    (payment,) = attempts_start(
        orders=[order], gateway=gateway, card_last4=method.card_last4 if method else ""
    )
    return order, payment, method


@transaction.atomic
def order_settle_declined(*, payment: Payment, result: GatewayResult) -> Order:
    """Record a declined saved-card attempt and cancel its order; a 1-tap order frees its unit (waitlist
    first), a won lot's units stay allocated for the seller to decide (shows.auctions)."""
    order = order_lock(order_id=payment.order_id)
    if not attempt_record(payment=payment, status=P.DECLINED, message=result.message or "Declined"):
        return order
    if order.status != Order.Status.PENDING_PAYMENT:
        return order
    if order.channel == Order.Channel.ONE_TAP:
        stock_release_to_waitlist_or_sale(lines=list(order.lines.values_list("variant_id", "quantity")))
    return order_transition(
        order=order,
        to=Order.Status.CANCELLED,
        actor_label="gateway",
        message=result.message or "Payment declined",
        cancel_reason=DECLINED_REASON,
    )


def order_charge_saved_method(*, order_id: int, release_on_decline: bool = False) -> Order:
    """Charge an order awaiting payment to the buyer's default saved card: the attempt is recorded
    under the order's lock, the gateway called with no lock held under the attempt's key, and the
    outcome recorded conditionally (a retried or concurrent job charges once). A decline cancels the
    order (see `order_settle_declined`)."""
    gateway = get_gateway()
    order, payment, method = _saved_charge_start(order_id=order_id, gateway=gateway.name)
    if payment is None:
        return order
    if method is None:
        return order_settle_declined(
            payment=payment, result=GatewayResult(ok=False, message="No saved card to charge.")
        )
    fault_point("payment_before_gateway")  # tests/faults: the attempt is recorded, nothing sent
    try:
        result = gateway.authorize_saved(
            token=method.token,
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=payment.idempotency_key,
        )
        if result.ok:
            captured = gateway.capture(
                reference=result.reference,
                amount=payment.amount,
                idempotency_key=f"{payment.idempotency_key}-capture",
            )
            if not captured.ok:
                raise GatewayUnavailable(captured.message)
    except GatewayUnavailable:
        logger.warning("order %s: the gateway did not answer; left for recovery", order.number)
        return order
    fault_point("saved_card_captured")  # tests/faults: killed before the payment is recorded
    fault_point("payment_captured")
    if not result.ok:
        return order_settle_declined(payment=payment, result=result)
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if attempt_record(
            payment=payment, status=P.CAPTURED, reference=result.reference, card_last4=method.card_last4
        ):
            order_settle_captured(order=order, payment=payment, actor_label="system")
        fault_point("payment_recorded")
    return order
