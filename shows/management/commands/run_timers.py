"""`manage.py run_timers`: the beat schedule's sweepers in one loop, for running without Celery beat."""

import time

from django.core.management.base import BaseCommand

from orders.services import orders_expire_unpaid, reservations_release_expired
from shows import auctions
from shows import services as show_services


class Command(BaseCommand):
    help = (
        "Run the timers Celery beat runs in production (expire holds, unpaid orders, flash deals, "
        "auction lots and giveaways) every --interval seconds. `make demo` starts it beside the server; --once runs one pass."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between passes (default 5).")
        parser.add_argument("--once", action="store_true", help="Run one pass and exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        while True:
            released = reservations_release_expired()
            expired = orders_expire_unpaid()
            deals = show_services.deals_close_due()
            lots = auctions.lots_close_due()
            auctions.lots_charge_pending()
            drawn = 0
            for giveaway_id in show_services.giveaways_due():
                show_services.giveaway_draw(giveaway_id=giveaway_id)
                drawn += 1
            if released or expired or deals or lots or drawn or once:
                self.stdout.write(
                    f"timers: {released} hold(s) released, {expired} unpaid order(s) expired, "
                    f"{deals} deal(s) closed, {lots} lot(s) closed, {drawn} giveaway(s) drawn"
                )
            if once:
                return
            time.sleep(max(interval, 0.5))
