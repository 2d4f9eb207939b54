"""After payment: packing (with show bundling), shipping, delivery, cancellation and refunds.

Every action locks the order row, checks the move through orders.lifecycle, writes its effect on
stock in the same transaction, and sends e-mails after commit. Gateway calls (refunds) happen with
no lock held: the refund is reserved first, then sent, then confirmed or rolled back.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.exceptions import InsufficientStock
from catalog.stock import stock_adjust, stock_ship
from config.faults import fault_point

from .exceptions import IllegalTransition, OrderError, RefundError
from .lifecycle import NOT_YET_SHIPPED, order_event_add, order_lock, order_transition
from .models import Order, OrderEvent, OrderLine, Payment, Refund, Shipment
from .payments import get_gateway
from .reservations import stock_release_to_waitlist_or_sale
from .webhooks_out import order_shipped_emit

logger = logging.getLogger(__name__)
S = Order.Status


def _lines(order_ids) -> list[tuple[int, int]]:
    return list(
        OrderLine.objects.filter(order_id__in=list(order_ids), variant__isnull=False).values_list(
            "variant_id", "quantity"
        )
    )


def _email_on_commit(order_id: int, kind: str) -> None:
    from .tasks import order_email_task

    order_email_task.delay_on_commit(order_id, kind)


def _packing_slip(shipment: Shipment) -> str:
    orders = list(shipment.orders.select_related("shop").prefetch_related("lines").order_by("id"))
    return render_to_string("orders/packing_slip.txt", {"shipment": shipment, "orders": orders})


def order_fulfil(*, order_id: int) -> bool:
    """The fulfilment job: pack a paid order into its shipment and print the packing slip.

    Orders a shopper bought from one shop during one show share one open shipment. Idempotent:
    an order that is not `paid` any more is left alone, so a redelivered job does nothing.
    """
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if order.status != S.PAID:
            return False
        shipment = None
        if order.show_id is not None:
            shipment = (
                Shipment.objects.select_for_update()
                .filter(
                    user_id=order.user_id,
                    shop_id=order.shop_id,
                    show_id=order.show_id,
                    status=Shipment.Status.PACKING,
                )
                .first()
            )
        if shipment is None:
            shipment = Shipment.objects.create(
                user_id=order.user_id, shop_id=order.shop_id, show_id=order.show_id
            )
        fault_point("order_fulfil")  # tests/faults: a worker killed here must roll all of this back
        order_transition(
            order=order,
            to=S.FULFILLING,
            actor_label="system",
            message=f"Packing in shipment {shipment.pk}",
            shipment=shipment,
        )
        Shipment.objects.filter(pk=shipment.pk).update(packing_slip=_packing_slip(shipment))
    logger.info("order %s packed into shipment %s", order.number, shipment.pk)
    return True


def order_ship(*, order: Order, actor, carrier: str, tracking_number: str) -> Shipment:
    """Ship the order's parcel (every order bundled in it) with a tracking number."""
    tracking_number = tracking_number.strip()
    if not tracking_number:
        raise IllegalTransition("A tracking number is needed to mark an order shipped.")
    if order.status == S.PAID:
        order_fulfil(order_id=order.pk)  # not packed yet: pack it now
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        if order.status != S.FULFILLING or order.shipment_id is None:
            raise IllegalTransition(
                f"Order {order.number} is {order.get_status_display().lower()}; it cannot be shipped."
            )
        shipment = Shipment.objects.select_for_update().get(pk=order.shipment_id)
        bundled = list(
            Order.objects.select_for_update(of=("self",))
            .filter(shipment=shipment, status=S.FULFILLING)
            .order_by("pk")
        )
        stock_ship(lines=_lines(o.pk for o in bundled))
        for each in bundled:
            order_transition(
                order=each, to=S.SHIPPED, actor=actor, message=f"{carrier} {tracking_number}".strip()
            )
            _email_on_commit(each.pk, "shipped")
        Shipment.objects.filter(pk=shipment.pk).update(
            status=Shipment.Status.SHIPPED,
            carrier=carrier[:60],
            tracking_number=tracking_number[:80],
            shipped_at=timezone.now(),
        )
        shipment.refresh_from_db()
        for each in bundled:
            order_shipped_emit(order=each, shipment=shipment)
    return shipment


@dataclass
class ParcelsShipped:
    """What orders_ship did: the selected orders shipped (each with its whole parcel), the ones refused
    with the reason, and the orders that went out in those parcels without being selected."""

    shipped: list[Order] = field(default_factory=list)
    refused: list[tuple[Order, OrderError | InsufficientStock]] = field(default_factory=list)
    bundled: list[Order] = field(default_factory=list)


def orders_ship(*, orders: list[Order], actor, carrier: str, tracking_number: str) -> ParcelsShipped:
    """Ship several orders (the admin's selection) with one tracking number. A parcel goes out once: an
    order that left in the parcel of one shipped before it is skipped. An order the rules refuse is
    reported and the others go on."""
    result = ParcelsShipped()
    in_parcels: set[int] = set()
    for order in orders:
        if order.pk in in_parcels:
            continue
        try:
            shipment = order_ship(order=order, actor=actor, carrier=carrier, tracking_number=tracking_number)
        except (OrderError, InsufficientStock) as exc:
            result.refused.append((order, exc))
            continue
        in_parcels.update(shipment.orders.values_list("pk", flat=True))
        result.shipped.append(order)
    selected = {order.pk for order in orders}
    result.bundled = list(Order.objects.filter(pk__in=in_parcels - selected).order_by("pk"))
    return result


@transaction.atomic
def order_mark_delivered(*, order: Order, actor) -> Order:
    order = order_lock(order_id=order.pk)
    order_transition(order=order, to=S.DELIVERED, actor=actor)
    if (
        order.shipment_id
        and not Order.objects.filter(shipment_id=order.shipment_id, status=S.SHIPPED).exists()
    ):
        Shipment.objects.filter(pk=order.shipment_id).update(status=Shipment.Status.DELIVERED)
    return order


def _return_stock(order: Order) -> None:
    """Unshipped units go back to the waitlist or open sale; shipped ones come back on hand."""
    lines = _lines([order.pk])
    if order.status in NOT_YET_SHIPPED:
        stock_release_to_waitlist_or_sale(lines=lines)
    else:
        for variant_id, quantity in sorted(lines):
            stock_adjust(variant_id=variant_id, delta=quantity)


def _reserve_refund(
    *, order: Order, amount: Decimal, actor, reason: str, request_key: str | None = None
) -> Refund | None:
    """Inside the order's lock: book the refund before calling the gateway, so two refunds can't
    both pass the 'not more than was paid' check."""
    remaining = order.total - order.refunded_total
    if amount <= 0 or amount > remaining:
        raise RefundError(f"Refund must be more than 0 and at most {remaining} {order.currency}.")
    payment = order.payments.filter(status=Payment.Status.CAPTURED).order_by("-created_at").first()
    if payment is None:
        return None
    Order.objects.filter(pk=order.pk).update(refunded_total=F("refunded_total") + amount)
    order.refunded_total += amount
    return Refund.objects.create(
        order=order, payment=payment, amount=amount, reason=reason[:200], actor=actor, request_key=request_key
    )


def _send_refund(refund: Refund) -> None:
    """Call the gateway with no lock held, under a key naming this refund (a retry refunds once);
    undo the booking if it refuses."""
    order_number = Order.objects.filter(pk=refund.order_id).values_list("number", flat=True).get()
    result = get_gateway(refund.payment.gateway).refund(
        reference=refund.payment.reference,
        amount=refund.amount,
        idempotency_key=f"{order_number}-refund-{refund.pk}",
    )
    with transaction.atomic():
        order = order_lock(order_id=refund.order_id)
        if result.ok:
            Refund.objects.filter(pk=refund.pk).update(reference=result.reference)
            Payment.objects.filter(pk=refund.payment_id).update(
                refunded_amount=F("refunded_amount") + refund.amount
            )
            order_event_add(
                order=order,
                kind=OrderEvent.Kind.REFUND,
                actor=refund.actor,
                message=f"Refunded {refund.amount} {order.currency}",
            )
            if order.status != S.CANCELLED:  # a cancellation e-mail already speaks of its refund
                # Only now, with the provider's word, is the shopper told.
                from .tasks import order_email_task

                order_email_task.delay_on_commit(order.pk, "refunded", f"refund-{refund.pk}")
            return
        Order.objects.filter(pk=order.pk).update(refunded_total=F("refunded_total") - refund.amount)
        Refund.objects.filter(pk=refund.pk).delete()
        order_event_add(
            order=order,
            kind=OrderEvent.Kind.NOTE,
            actor_label="gateway",
            message=f"Refund of {refund.amount} {order.currency} refused by the provider: needs attention",
        )
    # Raised outside the transaction, so the undo above stays committed.
    raise RefundError(result.message or "The payment provider refused the refund.")


def _settle_open_payment(*, order_id: int, number: str) -> None:
    """Before an unpaid order is cancelled: an attempt whose process died is settled by asking the
    gateway (it may have taken the money); one still in flight makes the caller wait."""
    from .payments.attempts import attempt_in_flight, attempts_open_for
    from .payments.recovery import payment_recover

    for payment in attempts_open_for(order_ids=[order_id]):
        if attempt_in_flight(payment=payment):
            raise IllegalTransition(
                f"A payment for order {number} is being processed; try again in a minute."
            )
        payment_recover(payment_id=payment.pk)


def order_refund_captured_late(*, order: Order, payment: Payment) -> None:
    """Money the gateway took for an order that was cancelled meanwhile (its answer arrived after the
    cancellation): give it all back. Inside the caller's transaction, holding the order's lock."""
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.NOTE,
        actor_label="gateway",
        message=f"Payment of {payment.amount} {payment.currency} captured after the order ended: refunding it",
    )
    refund = _reserve_refund(
        order=order,
        amount=min(payment.amount, order.total - order.refunded_total),
        actor=None,
        reason="Captured after the order was cancelled",
    )
    if refund is not None:
        transaction.on_commit(lambda: _send_refund_logged(refund))


def _send_refund_logged(refund: Refund) -> None:
    try:
        _send_refund(refund)
    except RefundError:
        logger.exception("refund %s of a late capture was refused: needs attention", refund.pk)


def order_cancel(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel before shipping: stock returns, and a paid order is refunded in full."""
    if order.status == S.PENDING_PAYMENT:
        _settle_open_payment(order_id=order.pk, number=order.number)
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        if order.status in (S.CANCELLED, S.REFUNDED):
            raise IllegalTransition(f"Order {order.number} is already {order.get_status_display().lower()}.")
        if order.status not in NOT_YET_SHIPPED:
            raise IllegalTransition(f"Order {order.number} has shipped; ask for a refund instead.")
        if (
            order.status == S.PENDING_PAYMENT
            and order.payments.filter(status=Payment.Status.PENDING).exists()
        ):
            raise IllegalTransition(
                f"A payment for order {order.number} is being processed; try again in a minute."
            )
        was_paid = order.status != S.PENDING_PAYMENT
        _return_stock(order)
        order_transition(order=order, to=S.CANCELLED, actor=actor, message=reason, cancel_reason=reason[:200])
        refund = (
            _reserve_refund(
                order=order,
                amount=order.total - order.refunded_total,
                actor=actor,
                reason=reason or "Cancelled",
            )
            if was_paid and order.total > order.refunded_total
            else None
        )
        _email_on_commit(order.pk, "cancelled")
    if refund is not None:
        _send_refund(refund)
    return order


def order_refund(
    *, order: Order, actor, amount: Decimal | None = None, reason: str = "", request_key: str | None = None
) -> Order:
    """Refund all or part of a paid order. A full refund ends the order and returns its stock.
    `request_key` names the submit (a form's hidden key): sent twice, even at once, it refunds once."""
    with transaction.atomic():
        order = order_lock(order_id=order.pk)
        if request_key and Refund.objects.filter(request_key=request_key).exists():
            return order  # this very request was already carried out
        if order.status in (S.PENDING_PAYMENT, S.CANCELLED, S.REFUNDED):
            raise IllegalTransition(
                f"Order {order.number} is {order.get_status_display().lower()}; nothing to refund."
            )
        amount = order.total - order.refunded_total if amount is None else Decimal(amount)
        refund = _reserve_refund(
            order=order, amount=amount, actor=actor, reason=reason, request_key=request_key
        )
        if refund is None:
            raise RefundError("This order has no captured payment to refund.")
        if order.refunded_total == order.total:
            # Booked in full under the lock, so a racing cancel or refund sees the end state. Should
            # the provider then refuse, _send_refund records that it needs attention.
            _return_stock(order)
            order_transition(order=order, to=S.REFUNDED, actor=actor, message=reason)
    _send_refund(refund)
    order.refresh_from_db()
    return order


def orders_expire_unpaid(*, older_than_minutes: int | None = None) -> int:
    """Cancel orders still awaiting payment after the set time, freeing their stock. An order with a
    payment attempt open is settled by asking the gateway first, and never cancelled while the gateway
    may have taken its money: a captured payment makes it paid instead."""
    minutes = (
        older_than_minutes if older_than_minutes is not None else settings.LIVEMARKET_UNPAID_ORDER_MINUTES
    )
    cutoff = timezone.now() - timedelta(minutes=minutes)
    expired = 0
    for order_id, number in Order.objects.filter(status=S.PENDING_PAYMENT, created_at__lt=cutoff).values_list(
        "pk", "number"
    ):
        try:
            _settle_open_payment(order_id=order_id, number=number)
        except IllegalTransition:
            continue  # a payment is in flight: the next run looks again
        with transaction.atomic():
            order = (
                Order.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=order_id).first()
            )
            if order is None or order.status != S.PENDING_PAYMENT:
                continue
            if order.payments.filter(status=Payment.Status.PENDING).exists():
                continue  # opened since the check above
            _return_stock(order)
            order_transition(
                order=order,
                to=S.CANCELLED,
                actor_label="system",
                message="Not paid in time",
                cancel_reason="Not paid in time",
            )
            expired += 1
    if expired:
        logger.info("cancelled %s order(s) not paid within %s minutes", expired, minutes)
    return expired


REDRIVE_AFTER_SECONDS = 40  # beat looks every 20 s, so a lost job is re-driven within a minute


def orders_redrive_stuck(*, older_than_seconds: int = REDRIVE_AFTER_SECONDS) -> list[int]:
    """Paid orders whose fulfilment job never ran (lost, crashed): run it again."""
    from .selectors import orders_stuck_paid

    stuck = orders_stuck_paid(older_than_seconds=older_than_seconds)
    packed = [order_id for order_id in stuck if order_fulfil(order_id=order_id)]
    if packed:
        logger.info("re-drove fulfilment of %s stuck order(s)", len(packed))
    return packed
