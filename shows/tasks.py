"""Show timers and follow-ups: thin wrappers that take ids and call idempotent services."""

from celery import shared_task

from . import notifications, services


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
    """Beat sweeper: deals past their end and giveaways past their window, in case a timer was lost."""
    closed = services.deals_close_due()
    for giveaway_id in services.giveaways_due():
        services.giveaway_draw(giveaway_id=giveaway_id)
    return closed
