"""The order events shops can subscribe to (order.paid, order.shipped): payloads and emission.

Emitted inside the transaction that makes the change, so a rollback sends nothing; the deliveries go
out after commit (shops.webhooks)."""

from shops.models import WebhookEvent
from shops.webhooks import webhook_event_emit

from .models import ADDRESS_FIELDS, Order, OrderLine, Shipment


def order_payload(order: Order, *, shipment: Shipment | None = None) -> dict:
    lines = OrderLine.objects.filter(order_id=order.pk).order_by("id")
    payload = {
        "id": order.pk,
        "number": order.number,
        "status": order.status,
        "currency": order.currency,
        "subtotal": str(order.subtotal),
        "shipping_total": str(order.shipping_total),
        "total": str(order.total),
        "email": order.email,
        "show_id": order.show_id,
        "shipping_method": order.shipping_method_name,
        "shipping_address": {name: getattr(order, name) for name in ADDRESS_FIELDS},
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "lines": [
            {
                "variant_id": line.variant_id,
                "sku": line.sku,
                "product_title": line.product_title,
                "variant_name": line.variant_name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "line_total": str(line.line_total),
            }
            for line in lines
        ],
    }
    if shipment is not None:
        payload["shipment"] = {
            "id": shipment.pk,
            "carrier": shipment.carrier,
            "tracking_number": shipment.tracking_number,
            "shipped_at": shipment.shipped_at,
        }
    return payload


def order_paid_emit(*, order: Order) -> None:
    webhook_event_emit(
        shop_id=order.shop_id, event=WebhookEvent.ORDER_PAID, data=lambda: {"order": order_payload(order)}
    )


def order_shipped_emit(*, order: Order, shipment: Shipment) -> None:
    webhook_event_emit(
        shop_id=order.shop_id,
        event=WebhookEvent.ORDER_SHIPPED,
        data=lambda: {"order": order_payload(order, shipment=shipment)},
    )
