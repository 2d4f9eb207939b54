"""`manage.py run_timers`: the beat schedule's jobs in one loop, for running without Celery beat."""

import time

from catalog.sync.services import stock_feeds_sync_due
from config.opscommand import OpsCommand
from orders.notifications import order_emails_redrive
from orders.payments.recovery import payments_recover
from orders.services import orders_expire_unpaid, orders_redrive_stuck, reservations_release_expired
from shops.tasks import idempotency_purge_task, webhook_deliveries_sweep_task
from shows import auctions
from shows import services as show_services
from shows.watch import redis_keys_clean, shows_watch


def _draw_giveaways() -> int:
    due = show_services.giveaways_due()
    for giveaway_id in due:
        show_services.giveaway_draw(giveaway_id=giveaway_id)
    return len(due)


# (what it reports, the job, at most once per this many seconds): the same services as config/beat.py.
STEPS = (
    ("hold(s) released", reservations_release_expired, 0),
    ("unpaid order(s) expired", orders_expire_unpaid, 0),
    ("deal(s) closed", show_services.deals_close_due, 0),
    ("lot(s) closed", auctions.lots_close_due, 0),
    ("lot charge(s) re-driven", auctions.lots_charge_pending, 0),
    ("giveaway(s) drawn", _draw_giveaways, 0),
    ("show(s) watched over", lambda: sum(shows_watch().values()), 30),
    ("payment attempt(s) recovered", lambda: sum(payments_recover().values()), 20),
    ("stuck order(s) packed", lambda: len(orders_redrive_stuck()), 20),
    ("lost e-mail(s) re-sent", order_emails_redrive, 20),
    ("stock feed sync(s) started", stock_feeds_sync_due, 300),
    ("webhook delivery(ies) re-sent", webhook_deliveries_sweep_task, 30),
    ("idempotency key(s) purged", idempotency_purge_task, 3600),
    ("stale Redis key(s) removed", redis_keys_clean, 3600),
)


class Command(OpsCommand):
    help = (
        "Run the jobs Celery beat runs in production (expire holds and unpaid orders; close flash deals "
        "and auction lots; draw giveaways; watch late and silent shows; re-drive stuck fulfilment; start "
        "due stock feed syncs; clean Redis) every --interval seconds. `make demo` starts it beside the "
        "server; --once runs one pass of every job and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between passes (default 5).")
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        last_run: dict[str, float] = {}
        while True:
            now = time.monotonic()
            done = []
            for label, job, every in STEPS:
                if not once and every and now - last_run.get(label, -every) < every:
                    continue
                last_run[label] = now
                done.append((label, job()))
            if once or any(count for _, count in done):
                self.summary("timers: " + ", ".join(f"{count} {label}" for label, count in done))
            if once:
                return
            time.sleep(max(interval, 0.5))
