from celery import shared_task

from .services import outbox_drain


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def outbox_drain_task() -> int:
    """Beat: send messages that could not be sent when they were written (the broker was down)."""
    return outbox_drain()
