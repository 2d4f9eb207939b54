"""Catalog background jobs: thin wrappers that take ids and call services."""

from celery import shared_task

from . import services


@shared_task(
    acks_late=True,
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
)
def product_image_renditions_task(image_id: int) -> bool:
    return services.product_image_renditions_make(image_id=image_id)
