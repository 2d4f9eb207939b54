"""Celery tasks for orders: thin wrappers that take ids and call idempotent services."""

from celery import shared_task

from . import notifications
from .checkout import one_tap_order_charge
from .fulfilment import order_fulfil, orders_expire_unpaid, orders_redrive_stuck
from .payments.recovery import payments_recover
from .reservations import reservations_release_expired

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "retry_backoff_max": 300, "max_retries": 8}


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, **RETRY)
def order_email_task(order_id: int, kind: str, dedupe_key: str | None = None) -> bool:
    return notifications.order_email_send(order_id=order_id, kind=kind, dedupe_key=dedupe_key)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50, **RETRY)
def waitlist_offer_email_task(entry_id: int) -> bool:
    return notifications.waitlist_offer_email_send(entry_id=entry_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=120, soft_time_limit=100, **RETRY)
def order_fulfil_task(order_id: int) -> bool:
    """Pack a paid order. Safe to run twice: a second run finds the order already packed."""
    return order_fulfil(order_id=order_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=120, soft_time_limit=100, **RETRY)
def one_tap_charge_task(order_id: int) -> None:
    """Charge a one-tap order (idempotent: a second run finds it paid or cancelled)."""
    one_tap_order_charge(order_id=order_id)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def release_expired_reservations_task() -> int:
    return reservations_release_expired()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def expire_unpaid_orders_task() -> int:
    return orders_expire_unpaid()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=580)
def redrive_stuck_fulfilment_task() -> int:
    return len(orders_redrive_stuck())


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def redrive_lost_emails_task() -> int:
    return notifications.order_emails_redrive()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def payments_recover_task() -> dict:
    """Settle payment attempts left open by a crash or a time-out, by asking the gateway."""
    return payments_recover()
