"""`manage.py release_reservations`: release expired holds now (the beat task does it every 15 s)."""

from django.core.management.base import BaseCommand

from orders.services import reservations_release_expired


class Command(BaseCommand):
    help = (
        "Release stock held by expired 'buy now' holds and lapsed waitlist offers. Freed units go to the "
        "next shopper on the waitlist first. Safe to run while the beat task runs."
    )

    def handle(self, *args, **options):
        released = reservations_release_expired()
        self.stdout.write(self.style.SUCCESS(f"Released {released} expired hold(s)."))
