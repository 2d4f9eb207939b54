"""`manage.py sync_inventory`: sync a shop's stock from its feed, or from a file, now, in this process."""

from pathlib import Path

from catalog.exceptions import StockFeedError
from catalog.models import InventorySyncRun
from catalog.sync.services import inventory_sync_now
from config.opscommand import OpsCommand


class Command(OpsCommand):
    help = (
        "Set on-hand stock per SKU from the shop's stock feed (its uploaded file or URL), or from --file "
        "(CSV with columns sku,quantity, or JSON). The run is recorded like any other and shown in the "
        "admin. Exit status 1 when the run fails (bad file, unreachable URL); rows in conflict or with "
        "unknown SKUs are reported but do not fail it. "
        "Example: manage.py sync_inventory --shop vinyl-vault --file stock.csv --dry-run"
    )
    user_errors = (StockFeedError,)

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True, metavar="SLUG", help="The shop, e.g. vinyl-vault.")
        parser.add_argument(
            "--file", metavar="PATH", help="Read this file instead of the shop's feed (.csv or .json)."
        )
        parser.add_argument(
            "--format", choices=("csv", "json"), help="The file's format (default: from its extension)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; change nothing."
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Apply the valid rows even if some are invalid (they are reported). Default: any invalid "
            "row stops the run before anything is applied.",
        )

    def handle(self, *args, shop: str, file: str | None, format: str | None, dry_run: bool, **options):
        target = self.shop_from_slug(shop)
        bars: dict[str, object] = {}

        def progress(phase: str, rows: int, total: int | None) -> None:
            if phase not in bars:
                for bar in bars.values():
                    bar.close()
                desc = "checking rows" if phase == "check" else "applying"
                bars[phase] = self.progress(total=total, desc=desc)
            bars[phase].update(rows)

        handle = None
        if file is not None:
            path = Path(file)
            if not path.is_file():
                raise self.error(f"No such file: {file}")
            format = format or ("json" if path.suffix.lower() == ".json" else "csv")
            handle = path.open("rb")
        try:
            run = inventory_sync_now(
                shop=target,
                trigger=InventorySyncRun.Trigger.COMMAND,
                file=handle,
                format=format,
                source_label=str(file or ""),
                dry_run=dry_run,
                skip_invalid=options["skip_invalid"],
                progress=progress,
            )
        finally:
            for bar in bars.values():
                bar.close()
            if handle is not None:
                handle.close()
        self._report(run)

    def _report(self, run: InventorySyncRun) -> None:
        for problem in run.errors[:20] if self.verbosity >= 1 else []:
            self.stderr.write(f"  line {problem['line']}: {problem['message']}")
        if len(run.errors) > 20 and self.verbosity >= 1:
            self.stderr.write(f"  ... and more (first {len(run.errors)} kept on run #{run.pk} in the admin)")
        verb = "would update" if run.dry_run else "updated"
        counts = (
            f"{run.rows_total} rows: {run.updated} {verb}, {run.unchanged} unchanged, "
            f"{run.unknown_sku} unknown SKU, {run.invalid} invalid, {run.conflicts} in conflict"
        )
        prefix = f"Sync run #{run.pk} for {run.shop.slug}{' (dry run)' if run.dry_run else ''}"
        if run.status != InventorySyncRun.Status.SUCCEEDED:
            self.fail(f"{prefix} failed: {run.message} ({counts}).")
        clean = not (run.unknown_sku or run.invalid or run.conflicts)
        self.summary(f"{prefix} succeeded in {run.duration_seconds or 0:.1f}s. {counts}.", ok=clean)
