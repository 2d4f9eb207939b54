"""Show timers and follow-ups: thin wrappers that take ids and call idempotent services."""

from celery import shared_task
from django.conf import settings

from . import auctions, notifications, services


@shared_task(
    acks_late=True, time_limit=600, soft_time_limit=580, autoretry_for=(OSError,), retry_backoff=True
)
def show_live_notify_task(show_id: int) -> int:
    return notifications.show_live_notify(show_id=show_id)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def show_summary_task(show_id: int) -> None:
    services.show_summary_compute(show_id=show_id)


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def deal_close_task(deal_id: int) -> int:
    """Fired at the deal's end time; closes every deal that is due (a missed timer is repaired too)."""
    return services.deals_close_due()


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def giveaway_draw_task(giveaway_id: int) -> None:
    services.giveaway_draw(giveaway_id=giveaway_id)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def show_timers_sweep_task() -> int:
    """Beat sweeper: deals, lots and giveaways past their time, and lot charges whose task was lost."""
    closed = services.deals_close_due() + auctions.lots_close_due()
    for giveaway_id in services.giveaways_due():
        services.giveaway_draw(giveaway_id=giveaway_id)
    auctions.lots_charge_pending()
    return closed


@shared_task(acks_late=True, time_limit=60, soft_time_limit=50)
def lot_close_task(lot_id: int) -> None:
    """Fired at the lot's end time. A bid may have extended the clock since: then this run closes
    nothing and sets a timer for the new end (the sweeper is the safety net either way)."""
    lot = auctions.lot_close(lot_id=lot_id)
    if lot is not None and lot.status == lot.Status.OPEN and not settings.CELERY_TASK_ALWAYS_EAGER:
        lot_close_task.apply_async((lot_id,), eta=lot.ends_at)


@shared_task(
    acks_late=True,
    time_limit=120,
    soft_time_limit=100,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def lot_charge_task(lot_id: int) -> None:
    """Charge the winner's saved card (idempotent: one charge per order, whoever runs it)."""
    auctions.lot_charge(lot_id=lot_id)


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def shows_watch_task() -> dict:
    """Beat job: take live shows whose stream is up, alert on late shows, end shows whose stream stopped."""
    from .watch import shows_watch

    return shows_watch()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def redis_keys_clean_task() -> int:
    """Beat job: drop stale presence members and leftover presence, peak, heartbeat and rate-limit keys."""
    from .watch import redis_keys_clean

    return redis_keys_clean()


@shared_task(acks_late=True, time_limit=600, soft_time_limit=580)
def stock_reconcile_report_task() -> int:
    """Beat job: log stock rows whose allocated count drifted (read-only; ops run
    `manage.py reconcile_stock --fix` after looking). Returns how many rows drifted."""
    from .reconcile import stock_reconcile

    return len(stock_reconcile(fix=False, log_drift=True).drift)
