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


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=1800, soft_time_limit=1740)
def inventory_sync_task(run_id: int) -> str | None:
    """Apply one recorded sync run. Safe to deliver twice: the run is claimed once, and setting the
    same counts again changes nothing."""
    from .sync.services import inventory_sync_execute

    run = inventory_sync_execute(run_id=run_id)
    return run.status if run else None


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def stock_feeds_sync_due_task() -> int:
    """Beat job: start a sync for every enabled URL feed whose interval has passed."""
    from .sync.services import stock_feeds_sync_due

    return stock_feeds_sync_due()
