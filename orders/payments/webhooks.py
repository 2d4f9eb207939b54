"""Acting on verified gateway webhooks, once per event id."""

from django.db import IntegrityError, transaction

from ..lifecycle import order_event_add, order_lock, order_transition
from ..models import Order, OrderEvent, Payment, PaymentWebhookEvent
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
        if order.status != Order.Status.PENDING_PAYMENT:
            return f"no change: order is {order.status}"
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.CAPTURED)
        order_transition(
            order=order, to=Order.Status.PAID, actor_label="gateway", message="Payment confirmed"
        )
        from ..tasks import order_email_task, order_fulfil_task

        order_email_task.delay_on_commit(order.pk, "confirmation")
        order_fulfil_task.delay_on_commit(order.pk)
        return "order paid"
    if event.type == "payment.failed":
        if order.status != Order.Status.PENDING_PAYMENT:
            return f"no change: order is {order.status}"
        from ..fulfilment import _return_stock

        _return_stock(order)
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.DECLINED)
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
