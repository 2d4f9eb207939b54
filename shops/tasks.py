"""Jobs of the shops app: webhook deliveries and idempotency-record cleanup. Thin, id-taking wrappers."""

from celery import shared_task
from django.conf import settings

from . import idempotency, webhooks


@shared_task(acks_late=True, time_limit=60, soft_time_limit=45)
def webhook_deliver_task(delivery_id: int) -> str:
    outcome, delay = webhooks.webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome == "retry" and delay is not None:
        # A countdown past the broker's visibility timeout would be delivered twice; a capped one that
        # fires early is "skipped", and the beat sweeper sends the delivery when it is due.
        countdown = min(delay.total_seconds(), settings.LIVEMARKET_MAX_TASK_ETA_SECONDS)
        webhook_deliver_task.apply_async((delivery_id,), countdown=countdown)
    return outcome


@shared_task(time_limit=60)
def webhook_deliveries_sweep_task() -> int:
    """Beat: enqueue deliveries that are due but whose countdown task was lost."""
    due = webhooks.webhook_deliveries_due()
    for delivery_id in due:
        webhook_deliver_task.delay(delivery_id)
    return len(due)


@shared_task(time_limit=120)
def idempotency_purge_task() -> int:
    return idempotency.idempotency_purge_expired()
