"""`manage.py recover_payments`: settle payment attempts left open by a crash or a gateway time-out."""

from config.opscommand import OpsCommand
from orders.payments.recovery import payments_recover


class Command(OpsCommand):
    help = (
        "Ask the gateway what became of every payment attempt still open after --older-than seconds "
        "(the process that made it died, or the gateway did not answer) and record it: captured -> the "
        "order is paid (or refunded if it ended meanwhile), authorised -> voided, declined -> the order "
        "is cancelled as a decline is, unknown to the gateway -> failed. Beat does this every 20 s. "
        "Example: manage.py recover_payments --older-than 0"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            metavar="SECONDS",
            help="Only attempts open at least this long (default LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS).",
        )

    def handle(self, *args, older_than: int | None, **options):
        if older_than is not None and older_than < 0:
            raise self.error("--older-than must be 0 or more.")
        outcomes = payments_recover(older_than_seconds=older_than)
        for outcome, count in sorted(outcomes.items()):
            self.info(f"  {outcome}: {count}")
        self.summary(f"Settled {sum(outcomes.values())} open payment attempt(s).")
