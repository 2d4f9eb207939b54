"""The order state machine. Every status change goes through `order_transition`, which checks the
move, stamps the time and writes an OrderEvent with the actor."""

from django.db import transaction
from django.utils import timezone

from .exceptions import IllegalTransition
from .models import Order, OrderEvent

S = Order.Status

TRANSITIONS: dict[str, set[str]] = {
    S.PENDING_PAYMENT: {S.PAID, S.CANCELLED},
    S.PAID: {S.FULFILLING, S.CANCELLED, S.REFUNDED},
    S.FULFILLING: {S.SHIPPED, S.CANCELLED, S.REFUNDED},
    S.SHIPPED: {S.DELIVERED, S.REFUNDED},
    S.DELIVERED: {S.REFUNDED},
    S.CANCELLED: set(),
    S.REFUNDED: set(),
}

_STAMPS = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.CANCELLED: "cancelled_at",
}

NOT_YET_SHIPPED = {S.PENDING_PAYMENT, S.PAID, S.FULFILLING}


def actor_label_for(user) -> str:
    if user is None:
        return "system"
    if user.is_superuser:
        return "ops"
    if user.is_staff:
        return "merchant"
    return "shopper"


def order_lock(*, order_id: int) -> Order:
    """The order row, locked for the rest of the transaction."""
    return Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order_id)


def order_event_add(
    *, order: Order, kind: str, message: str = "", actor=None, actor_label: str | None = None
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order,
        kind=kind,
        actor=actor,
        actor_label=actor_label or actor_label_for(actor),
        message=message[:300],
        from_status=order.status,
        to_status=order.status,
    )


def order_transition(
    *, order: Order, to: str, actor=None, actor_label: str | None = None, message: str = "", **fields
) -> Order:
    """Move an order from the status it was read with to `to`; raises IllegalTransition for a move the
    table does not allow, or when the row is no longer in that status (a concurrent change won).

    The write is a conditional UPDATE on the status read, so even a caller holding a stale object can't
    apply a move twice: at most one of two racing transitions (and its paid event and webhook) happens."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("order_transition needs a transaction holding the order's lock")
    if to not in TRANSITIONS[order.status]:
        raise IllegalTransition(
            f"Order {order.number} is {order.get_status_display().lower()}; it cannot become "
            f"{Order.Status(to).label.lower()}."
        )
    now = timezone.now()
    previous = order.status
    updates = {"status": to, **fields}
    if to in _STAMPS:
        updates[_STAMPS[to]] = now
    if Order.objects.filter(pk=order.pk, status=previous).update(**updates) != 1:
        raise IllegalTransition(
            f"Order {order.number} changed while this was being done; reload it and try again."
        )
    for name, value in updates.items():
        setattr(order, name, value)
    OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind.STATUS,
        from_status=previous,
        to_status=to,
        actor=actor,
        actor_label=actor_label or actor_label_for(actor),
        message=message[:300],
    )
    if to == S.PAID:
        from .webhooks_out import order_paid_emit  # shops' webhooks, sent after commit

        order_paid_emit(order=order)
    return order
