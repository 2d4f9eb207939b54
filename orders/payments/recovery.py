"""Settling payment attempts whose outcome was never recorded (a crash, a time-out), by asking the
gateway what it did under the attempt's idempotency key; and the payments reconciliation report.

Beat runs `payments_recover` every 20 s (`recover_payments` for ops); expiry and cancellation call
`payment_recover` on an order's open attempt before they touch the order, so an order whose money the
gateway took is never cancelled unpaid.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from ..lifecycle import order_lock
from ..models import Order, Payment, Refund
from . import get_gateway
from .attempts import attempt_record
from .base import GatewayUnavailable

logger = logging.getLogger(__name__)
P = Payment.Status


def payment_recover(*, payment_id: int) -> str:
    """Settle one open attempt from the gateway's record of its key; returns what was found.

    captured: recorded, and the order paid (or refunded, had it ended meanwhile); authorised but never
    captured: voided, so no money is held (the order waits for a new attempt or expiry); declined:
    recorded, and the order cancelled as a decline would have; unknown to the gateway: failed (nothing
    was sent). The outcome is written conditionally, so a racing request or job records it once."""
    from ..checkout import order_settle_captured, order_settle_declined

    payment = Payment.objects.filter(pk=payment_id, status=P.PENDING).first()
    if payment is None:
        return "settled already"
    gateway = get_gateway(payment.gateway)
    try:
        found = gateway.lookup(idempotency_key=payment.idempotency_key)
    except GatewayUnavailable:
        return "gateway unavailable"
    if found is None:
        with transaction.atomic():
            order_lock(order_id=payment.order_id)
            attempt_record(payment=payment, status=P.FAILED, message="Never reached the gateway")
        return "failed"
    if found.status == "declined":
        order_settle_declined(payment=payment, result=found)
        return "declined"
    if found.status == "authorized":
        voided = gateway.void(reference=found.reference, idempotency_key=f"{payment.idempotency_key}-void")
        if voided.ok:
            with transaction.atomic():
                order_lock(order_id=payment.order_id)
                attempt_record(
                    payment=payment,
                    status=P.VOIDED,
                    reference=found.reference,
                    message="Authorised but never captured: released",
                )
            return "voided"
        found = gateway.lookup(idempotency_key=payment.idempotency_key) or found  # captured meanwhile?
    if found.status == "captured":
        with transaction.atomic():
            order = order_lock(order_id=payment.order_id)
            if attempt_record(
                payment=payment, status=P.CAPTURED, reference=found.reference, card_last4=found.card_last4
            ):
                order_settle_captured(order=order, payment=payment, actor_label="gateway")
        return "captured"
    with transaction.atomic():
        order_lock(order_id=payment.order_id)
        attempt_record(payment=payment, status=P.VOIDED, reference=found.reference, message=found.status)
    return found.status or "voided"


def payments_recover(*, older_than_seconds: int | None = None) -> dict[str, int]:
    """Settle every attempt open longer than a request can wait on the gateway. Safe to run twice at
    once: each outcome is recorded by one of them."""
    seconds = (
        settings.LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS if older_than_seconds is None else older_than_seconds
    )
    cutoff = timezone.now() - timedelta(seconds=seconds)
    outcomes: dict[str, int] = {}
    for payment_id in (
        Payment.objects.filter(status=P.PENDING, created_at__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    ):
        outcome = payment_recover(payment_id=payment_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    # A 1-tap charge job may still be on its way for a younger order: beat leaves those 40 s.
    recharged = one_tap_orders_recharge(older_than_seconds=40 if older_than_seconds is None else seconds)
    if recharged:
        outcomes["1-tap charge re-driven"] = recharged
    if outcomes:
        logger.info("payments recovered: %s", outcomes)
    return outcomes


def one_tap_orders_recharge(*, older_than_seconds: int) -> int:
    """1-tap orders still awaiting payment with no attempt open (their charge job was lost, or its
    attempt never reached the gateway): charge them again, under a new attempt."""
    from ..checkout import one_tap_order_charge

    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    due = (
        Order.objects.filter(
            channel=Order.Channel.ONE_TAP, status=Order.Status.PENDING_PAYMENT, created_at__lte=cutoff
        )
        .exclude(payments__status__in=[P.PENDING, P.DECLINED, P.CAPTURED])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    count = 0
    for order_id in due:
        one_tap_order_charge(order_id=order_id)
        count += 1
    return count


@dataclass
class PaymentsReport:
    """What `reconcile_payments` found; clean when every list is empty."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems


PAID_STATES = (
    Order.Status.PAID,
    Order.Status.FULFILLING,
    Order.Status.SHIPPED,
    Order.Status.DELIVERED,
)


def payments_reconcile(*, since=None, ask_gateway: bool = True) -> PaymentsReport:
    """Check that orders, payments, refunds and the gateway agree (read-only):
    - a paid order with a price has exactly one captured payment of its total, and no order has two;
    - an order cancelled or refunded after capture has refunds booked for what was captured;
    - no attempt is still open past the in-flight window (recovery would settle it);
    - what the gateway holds under each attempt's key matches the recorded status."""
    report = PaymentsReport()
    orders = Order.objects.all() if since is None else Order.objects.filter(created_at__gte=since)
    orders = orders.annotate(
        captured=Count("payments", filter=Q(payments__status=P.CAPTURED)),
    ).order_by("pk")
    for order in orders.iterator(chunk_size=500):
        report.checked += 1
        if order.captured > 1:
            report.problems.append(f"{order.number}: {order.captured} captured payments")
        if order.status in PAID_STATES and order.total > 0 and order.captured != 1:
            report.problems.append(f"{order.number}: {order.status} with {order.captured} captured payments")
        if order.status in (Order.Status.PENDING_PAYMENT,) and order.captured:
            report.problems.append(f"{order.number}: awaiting payment but a payment was captured")
        if order.status == Order.Status.CANCELLED and order.captured:
            booked = sum((r.amount for r in Refund.objects.filter(order=order)), Decimal("0"))
            taken = sum((p.amount for p in order.payments.filter(status=P.CAPTURED)), Decimal("0"))
            if booked < taken:
                report.problems.append(
                    f"{order.number}: cancelled with {taken - booked} captured and not refunded"
                )
    stale = timezone.now() - timedelta(seconds=settings.LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS)
    payments = Payment.objects.exclude(idempotency_key=None).select_related("order")
    if since is not None:
        payments = payments.filter(created_at__gte=since)
    for payment in payments.order_by("pk").iterator(chunk_size=500):
        if payment.status == P.PENDING:
            if payment.created_at < stale:
                report.problems.append(f"{payment.order.number}: attempt {payment.attempt} still open")
            continue
        if not ask_gateway:
            continue
        found = get_gateway(payment.gateway).lookup(idempotency_key=payment.idempotency_key)
        expected = _gateway_status(payment.status)
        actual = found.status if found else "unknown"
        if actual not in expected:
            report.problems.append(
                f"{payment.order.number}: attempt {payment.attempt} is {payment.status} here, {actual} at the gateway"
            )
    return report


def _gateway_status(status: str) -> set[str]:
    return {
        P.CAPTURED: {"captured"},
        P.DECLINED: {"declined", "unknown"},  # "no saved card" never reaches the gateway
        P.VOIDED: {"voided"},
        P.FAILED: {"unknown", "voided"},
        P.AUTHORIZED: {"authorized"},
        P.REFUNDED: {"captured"},
    }.get(status, {status})
