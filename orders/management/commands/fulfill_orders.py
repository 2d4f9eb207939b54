"""`manage.py fulfill_orders`: re-drive paid orders whose fulfilment job was lost."""

from django.core.management.base import BaseCommand

from orders.services import orders_redrive_stuck


class Command(BaseCommand):
    help = (
        "Pack paid orders that have waited longer than --older-than minutes for their fulfilment job "
        "(a lost message, a crashed worker). Idempotent: an order already packed is left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=10,
            metavar="MINUTES",
            help="Only orders paid at least this long ago (default 10; 0 for all).",
        )

    def handle(self, *args, older_than: int, **options):
        if older_than < 0:
            self.stderr.write("--older-than must be 0 or more")
            raise SystemExit(2)
        packed = orders_redrive_stuck(older_than_minutes=older_than)
        for order_id in packed:
            self.stdout.write(f"  packed order id {order_id}")
        self.stdout.write(self.style.SUCCESS(f"Fulfilment re-driven for {len(packed)} order(s)."))
