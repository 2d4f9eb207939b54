"""`manage.py release_reservations`: release expired holds now (the beat job does it every 15 s)."""

from config.opscommand import OpsCommand
from orders.services import reservations_release_expired


class Command(OpsCommand):
    help = (
        "Release stock held by expired 'buy now' holds and lapsed waitlist offers. Freed units go to the "
        "next shopper on the waitlist first. Safe to run while the beat job runs (rows another run holds "
        "are skipped). Example: manage.py release_reservations"
    )

    def handle(self, *args, **options):
        released = reservations_release_expired()
        self.summary(f"Released {released} expired hold(s).")
