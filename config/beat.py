"""The Celery beat schedule: every periodic job, how often it runs, and why.

Beat runs with django-celery-beat's DatabaseScheduler, so the schedule lives in the database and ops
change it in the admin (Periodic tasks: interval, enabled, one-off runs). `beat_schedule_ensure()`
creates the rows that are missing; it runs after every `migrate` and never changes a row that exists,
so an interval ops tuned survives deploys. Each job is idempotent and safe to run twice at once (the
services behind them lock rows with SKIP LOCKED or re-check under a row lock) and logs what it did.

`manage.py run_timers` runs the same services in one loop for the embedded demo, which has no beat.
"""

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class BeatJob:
    name: str
    task: str
    every_seconds: int
    description: str


BEAT_JOBS: tuple[BeatJob, ...] = (
    BeatJob(
        "outbox-drain",
        "config.outbox.tasks.outbox_drain_task",
        5,
        "Send jobs that were saved in the outbox while the broker (Redis) was unreachable.",
    ),
    BeatJob(
        "release-expired-reservations",
        "orders.tasks.release_expired_reservations_task",
        15,
        "Release stock held by expired 'buy now' holds and lapsed waitlist offers.",
    ),
    BeatJob(
        "expire-unpaid-orders",
        "orders.tasks.expire_unpaid_orders_task",
        60,
        "Cancel orders left unpaid past LIVEMARKET_UNPAID_ORDER_MINUTES and free their stock.",
    ),
    BeatJob(
        "show-timers-sweep",
        "shows.tasks.show_timers_sweep_task",
        10,
        "Close flash deals and auction lots on time, draw giveaways, re-drive lost lot charges.",
    ),
    BeatJob(
        "shows-watch",
        "shows.tasks.shows_watch_task",
        30,
        "Start shows whose stream is up, alert shops whose show is late, end shows whose stream stopped.",
    ),
    BeatJob(
        "payments-recover",
        "orders.tasks.payments_recover_task",
        20,
        "Settle payment attempts left open by a crash or a gateway time-out, by asking the gateway "
        "(before expiry may touch their orders).",
    ),
    BeatJob(
        "redrive-stuck-fulfilment",
        "orders.tasks.redrive_stuck_fulfilment_task",
        20,
        "Pack paid orders whose fulfilment job was lost (within a minute of payment).",
    ),
    BeatJob(
        "redrive-lost-emails",
        "orders.tasks.redrive_lost_emails_task",
        20,
        "Send order e-mails (confirmation, shipped, cancelled) whose job was lost, within a minute.",
    ),
    BeatJob(
        "stock-feeds-sync",
        "catalog.tasks.stock_feeds_sync_due_task",
        300,
        "Start an inventory sync for every enabled URL stock feed whose interval has passed.",
    ),
    BeatJob(
        "webhook-deliveries-sweep",
        "shops.tasks.webhook_deliveries_sweep_task",
        30,
        "Send webhook deliveries that are due (first tries and retries) whose job was lost.",
    ),
    BeatJob(
        "idempotency-purge",
        "shops.tasks.idempotency_purge_task",
        3600,
        "Forget API idempotency keys past their retention.",
    ),
    BeatJob(
        "stock-reconcile-report",
        "shows.tasks.stock_reconcile_report_task",
        24 * 3600,
        "Log stock rows whose allocated count drifted from what orders, holds and lots hold (read-only).",
    ),
    BeatJob(
        "redis-keys-clean",
        "shows.tasks.redis_keys_clean_task",
        3600,
        "Drop stale presence members and leftover presence, peak, heartbeat and rate-limit keys.",
    ),
)


def beat_schedule_ensure() -> list[str]:
    """Create the periodic tasks that don't exist yet; returns their names. Idempotent."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    created = []
    for job in BEAT_JOBS:
        if PeriodicTask.objects.filter(name=job.name).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=job.every_seconds, period=IntervalSchedule.SECONDS
        )
        _, made = PeriodicTask.objects.get_or_create(
            name=job.name,
            defaults={
                "task": job.task,
                "interval": interval,
                "description": job.description,
                "args": json.dumps([]),
                "kwargs": json.dumps({}),
            },
        )
        if made:
            created.append(job.name)
    return created


def beat_schedule_after_migrate(sender, using="default", **kwargs) -> None:
    """post_migrate receiver (connected in ShowsConfig.ready, the last app): seed the schedule."""
    from django.db import connections

    if "django_celery_beat_periodictask" in connections[using].introspection.table_names():
        beat_schedule_ensure()
