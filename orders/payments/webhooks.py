"""Acting on verified gateway webhooks, once per event id."""

from django.db import IntegrityError, transaction

from ..lifecycle import order_event_add, order_lock, order_transition
from ..models import Order, OrderEvent, Payment, PaymentWebhookEvent
from .attempts import attempt_record
from .base import WebhookEvent


def payment_webhook_handle(*, gateway: str, event: WebhookEvent) -> str:
    """Apply the event and record it in one transaction; a repeated event id changes nothing."""
    try:
        with transaction.atomic():
            record = PaymentWebhookEvent.objects.create(
                gateway=gateway, event_id=event.id, event_type=event.type, payload=event.raw
            )
            result = _apply(gateway=gateway, event=event)
            PaymentWebhookEvent.objects.filter(pk=record.pk).update(result=result[:200])
            return result
    except IntegrityError:
        return "duplicate: already processed"


def _apply(*, gateway: str, event: WebhookEvent) -> str:
    payment = (
        Payment.objects.filter(gateway=gateway, reference=event.reference).order_by("-created_at").first()
    )
    if payment is None:
        return "ignored: unknown payment reference"
    order = order_lock(order_id=payment.order_id)
    if event.type == "payment.succeeded":
        from ..checkout import order_settle_captured

        if payment.status == Payment.Status.CAPTURED:
            return f"no change: order is {order.status}"
        if not attempt_record(payment=payment, status=Payment.Status.CAPTURED):
            return f"no change: payment is {payment.status}"
        order_settle_captured(order=order, payment=payment, actor_label="gateway")
        return "order paid" if order.status == Order.Status.PAID else f"captured: order is {order.status}"
    if event.type == "payment.failed":
        if order.status != Order.Status.PENDING_PAYMENT:
            return f"no change: order is {order.status}"
        if not attempt_record(payment=payment, status=Payment.Status.DECLINED, message="Payment failed"):
            return f"no change: payment is {payment.status}"
        from ..fulfilment import _return_stock

        _return_stock(order)
        order_transition(
            order=order,
            to=Order.Status.CANCELLED,
            actor_label="gateway",
            message="Payment failed",
            cancel_reason="Payment failed",
        )
        return "order cancelled"
    order_event_add(
        order=order,
        kind=OrderEvent.Kind.REFUND,
        actor_label="gateway",
        message=f"Provider confirmed refund {event.amount or ''}".strip(),
    )
    return "refund noted"
