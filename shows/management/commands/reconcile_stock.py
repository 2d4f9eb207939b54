"""`manage.py reconcile_stock`: find (and with --fix, repair) allocated counts that drifted."""

from config.opscommand import OpsCommand
from shows.reconcile import stock_reconcile


class Command(OpsCommand):
    help = (
        "Compare every stock row's allocated count with the units held by open orders (not yet "
        "shipped), active holds and open or payment-failed auction lots. Lists the rows that differ; "
        "--fix corrects them in one transaction (rows locked, holders re-counted under the lock) and "
        "reports what changed. Exit status 1 when drift is found without --fix, or when a row cannot be "
        "fixed (more units held than on hand). Example: manage.py reconcile_stock --shop vinyl-vault --fix"
    )

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Correct the drifted rows (one transaction).")
        parser.add_argument("--shop", metavar="SLUG", help="Only this shop's stock.")

    def handle(self, *args, fix: bool, shop: str | None, **options):
        shop_id = self.shop_from_slug(shop).pk if shop else None
        report = stock_reconcile(fix=fix, shop_id=shop_id)
        if not report.drift:
            self.summary("Stock is consistent: every allocated count matches its orders, holds and lots.")
            return
        for row in report.drift:
            slug, sku = report.skus.get(row.variant_id, ("?", "?"))
            if row.fixed:
                state = "fixed"
            elif row.expected > row.on_hand:
                state = f"NOT fixed: {row.expected} held but only {row.on_hand} on hand; set on hand first"
            else:
                state = "would fix (run with --fix)"
            self.stdout.write(
                f"  {slug} {sku} (variant {row.variant_id}): allocated {row.allocated}, "
                f"held {row.expected} -> {state}"
            )
        if not fix:
            self.fail(
                f"{len(report.drift)} stock row(s) drifted; nothing changed (run with --fix to repair)."
            )
        if report.unfixable:
            self.fail(f"Fixed {len(report.fixed)} stock row(s); {len(report.unfixable)} could not be fixed.")
        self.summary(f"Fixed {len(report.fixed)} stock row(s) in one transaction.")
