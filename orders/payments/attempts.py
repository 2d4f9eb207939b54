"""Payment attempts: the row written before the gateway is called, and the one way it is settled.

An attempt is a `Payment` in status `pending`, created under the order's row lock with the idempotency
key the gateway will get (`<order number>-pay-<n>`). Only one may be open per order (a partial unique
index), so a second request or job finds it and does not call the gateway. Whoever learns the outcome
(the request that made the call, a webhook, or the recovery job that asks the gateway) records it with
a conditional UPDATE: the first writer wins, the others change nothing.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import Order, Payment

P = Payment.Status


def attempt_key(*, order: Order, attempt: int) -> str:
    """The gateway's idempotency key for attempt `attempt` on `order` (order numbers are random)."""
    return f"{order.number}-pay-{attempt}"


def attempt_in_flight(*, payment: Payment) -> bool:
    """Young enough that the request that opened it may still be waiting on the gateway."""
    age = timezone.now() - payment.created_at
    return age < timedelta(seconds=settings.LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS)


def attempts_open_for(*, order_ids) -> list[Payment]:
    return list(Payment.objects.filter(order_id__in=list(order_ids), status=P.PENDING).order_by("pk"))


def attempts_start(*, orders: list[Order], gateway: str, card_last4: str = "") -> list[Payment]:
    """One new pending attempt per order. The caller holds the orders' row locks and has checked that
    none is open (the partial unique index refuses a second one anyway)."""
    payments = []
    for order in orders:
        attempt = Payment.objects.filter(order=order).count() + 1
        payments.append(
            Payment.objects.create(
                order=order,
                gateway=gateway,
                status=P.PENDING,
                amount=order.total,
                currency=order.currency,
                card_last4=card_last4,
                attempt=attempt,
                idempotency_key=attempt_key(order=order, attempt=attempt),
            )
        )
    return payments


def attempt_record(
    *, payment: Payment, status: str, reference: str = "", card_last4: str = "", message: str = ""
) -> bool:
    """Settle an attempt; True only for the caller that moved it. A pending (or authorised, awaiting an
    asynchronous confirmation) attempt takes any outcome; one given up as failed or voided still becomes
    captured if the gateway says it was (the money was taken, so it must be accounted for)."""
    allowed = [P.PENDING, P.AUTHORIZED] + ([P.FAILED, P.VOIDED] if status == P.CAPTURED else [])
    updates = {"status": status, "settled_at": timezone.now(), "message": message[:200]}
    if reference:
        updates["reference"] = reference
    if card_last4:
        updates["card_last4"] = card_last4
    moved = Payment.objects.filter(pk=payment.pk, status__in=allowed).update(**updates) == 1
    if moved:
        for name, value in updates.items():
            setattr(payment, name, value)
    return moved
