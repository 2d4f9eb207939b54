"""`manage.py fulfill_orders`: re-drive paid orders whose fulfilment job was lost."""

from config.opscommand import OpsCommand
from orders.fulfilment import order_fulfil
from orders.selectors import orders_stuck_paid


class Command(OpsCommand):
    help = (
        "Pack paid orders that have waited longer than --older-than minutes for their fulfilment job "
        "(a lost message, a crashed worker). Idempotent: an order already packed is left alone. "
        "Example: manage.py fulfill_orders --older-than 30"
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
            raise self.error("--older-than must be 0 or more.")
        stuck = orders_stuck_paid(older_than_seconds=older_than * 60)
        packed = []
        for order_id in self.progress(stuck, desc="packing", unit="order"):
            if order_fulfil(order_id=order_id):
                packed.append(order_id)
        for order_id in packed:
            self.info(f"  packed order id {order_id}")
        self.summary(f"Fulfilment re-driven for {len(packed)} order(s).")
