"""Celery tasks for orders: thin wrappers that take ids and call services."""

from celery import shared_task

from . import notifications


@shared_task(
    acks_late=True,
    time_limit=60,
    soft_time_limit=50,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def order_confirmation_send_task(order_id: int) -> None:
    notifications.order_confirmation_send(order_id=order_id)
