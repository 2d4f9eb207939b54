"""`manage.py reconcile_payments`: check that orders, payments, refunds and the gateway agree."""

from config.opscommand import OpsCommand
from orders.payments.recovery import payments_reconcile


class Command(OpsCommand):
    help = (
        "Read-only report: every paid order has exactly one captured payment of its total and no order "
        "has two; an order cancelled after capture has the money refunded; no payment attempt is left "
        "open; and the gateway's record of each attempt's idempotency key matches ours. Exit status 1 "
        "when anything disagrees. Example: manage.py reconcile_payments --since 2026-12-01"
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", metavar="YYYY-MM-DD", help="Only orders placed from this day on.")
        parser.add_argument(
            "--no-gateway", action="store_true", help="Don't ask the gateway (only our own records)."
        )

    def handle(self, *args, since: str | None, no_gateway: bool, **options):
        start = self.day_start(self.parse_date(since, option="--since")) if since else None
        report = payments_reconcile(since=start, ask_gateway=not no_gateway)
        for problem in report.problems:
            self.stdout.write(f"  {problem}")
        if not report.clean:
            self.fail(f"{len(report.problems)} payment problem(s) in {report.checked} order(s).")
        self.summary(f"Payments are consistent: {report.checked} order(s) checked.")
