"""`manage.py show_report`: the seller's numbers for ended shows, as a table, CSV or JSON."""

import csv
import json
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import CommandError
from django.utils import timezone

from config.csvsafe import csv_escape
from config.opscommand import OpsCommand
from shows.models import Show, ShowSummary
from shows.services import show_summary_compute

COLUMNS = (
    "show_id",
    "shop",
    "title",
    "date",
    "peak_viewers",
    "chat_messages",
    "orders",
    "units_sold",
    "sales_total",
    "currency",
)


def _plain(text: str) -> str:
    return text


class Command(OpsCommand):
    help = (
        "Report on ended shows, one show (--show) or a date range (--since/--until): shop, title, date, "
        "peak viewers, chat messages, orders, units sold and sales with their currency, as a table, CSV "
        "or JSON. Uses each show's stored summary and computes the missing ones (progress goes to "
        "stderr, so CSV/JSON on stdout stays clean). Example: "
        "manage.py show_report --shop vinyl-vault --since 2025-01-01 --until 2025-01-31 --format csv > shows.csv"
    )

    def add_arguments(self, parser):
        parser.add_argument("--show", type=int, metavar="ID", help="Only this show (it must have ended).")
        parser.add_argument("--shop", metavar="SLUG", help="Only this shop's shows, e.g. vinyl-vault.")
        parser.add_argument(
            "--since",
            metavar="YYYY-MM-DD",
            help="Only shows that ended on or after this day (in the site's time zone).",
        )
        parser.add_argument(
            "--until",
            metavar="YYYY-MM-DD",
            help="Only shows that ended on or before this day (in the site's time zone).",
        )
        parser.add_argument(
            "--format",
            choices=("table", "csv", "json"),
            default="table",
            help="table (default) for people, csv for spreadsheets, json for scripts.",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        shows = self._shows(
            show_id=options["show"], slug=options["shop"], since=options["since"], until=options["until"]
        )
        summaries = self._summaries(shows)
        rows = [self._row(show, summaries[show.pk]) for show in shows]
        if options["format"] == "csv":
            self._write_csv(rows)
        elif options["format"] == "json":
            self._write_json(rows)
        else:
            self._write_table(rows)

    # --- input -------------------------------------------------------------------------------

    def _shows(
        self, *, show_id: int | None, slug: str | None, since: str | None, until: str | None
    ) -> list[Show]:
        shows = Show.objects.filter(status=Show.Status.ENDED).select_related("shop", "summary")
        if slug is not None:
            shows = shows.filter(shop=self.shop_from_slug(slug))
        first = self.parse_date(since, option="--since") if since is not None else None
        last = self.parse_date(until, option="--until") if until is not None else None
        if first and last and last < first:
            raise self.error(f"--until ({until}) is before --since ({since}).")
        if first is not None:
            shows = shows.filter(ended_at__gte=self.day_start(first))
        if last is not None:
            shows = shows.filter(ended_at__lt=self.day_start(last + timedelta(days=1)))
        if show_id is not None:
            show = Show.objects.select_related("shop").filter(pk=show_id).first()
            if show is None:
                raise CommandError(f"No show with the id {show_id}.")
            if slug is not None and show.shop.slug != slug:
                raise CommandError(f"Show {show_id} belongs to {show.shop.slug}, not {slug}.")
            if show.status != Show.Status.ENDED:
                raise CommandError(
                    f"Show {show_id} is {show.get_status_display().lower()}; the report covers ended shows."
                )
            shows = shows.filter(pk=show_id)
        return list(shows.order_by("ended_at", "pk"))

    def _summaries(self, shows: list[Show]) -> dict[int, ShowSummary]:
        """Stored summaries, computing (and storing) the missing ones through the service."""
        summaries = {}
        missing = [show for show in shows if not hasattr(show, "summary")]
        if missing:
            self._progress(f"Computing {len(missing)} missing summar{'y' if len(missing) == 1 else 'ies'}…")
        for show in self.progress(missing, desc="summaries", unit="show"):
            summaries[show.pk] = show_summary_compute(show_id=show.pk)
        for show in shows:
            summaries.setdefault(show.pk, getattr(show, "summary", None))
        return summaries

    def _progress(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stderr.write(message, style_func=_plain)

    # --- output ------------------------------------------------------------------------------

    def _row(self, show: Show, summary: ShowSummary) -> dict:
        ended = show.ended_at or show.scheduled_start
        return {
            "show_id": show.pk,
            "shop": show.shop.slug,
            "title": show.title,
            "date": timezone.localtime(ended).date().isoformat(),
            "peak_viewers": summary.peak_viewers,
            "chat_messages": summary.chat_messages,
            "orders": summary.orders,
            "units_sold": summary.units_sold,
            "sales_total": summary.sales_total,
            "currency": summary.currency,
        }

    def _write_csv(self, rows: list[dict]) -> None:
        # RFC 4180 line ends: with "\n" alone the csv module leaves a title's "\r" unquoted, splitting the row.
        writer = csv.DictWriter(self.stdout, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({key: csv_escape(value) for key, value in row.items()} for row in rows)

    def _write_json(self, rows: list[dict]) -> None:
        data = [{**row, "sales_total": str(row["sales_total"])} for row in rows]
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))

    def _write_table(self, rows: list[dict]) -> None:
        if not rows:
            self.stdout.write("No ended shows match.")
            return
        headers = ("ID", "Shop", "Title", "Date", "Peak", "Chat", "Orders", "Units", "Sales")
        cells = [
            (
                str(r["show_id"]),
                r["shop"],
                r["title"] if len(r["title"]) <= 40 else r["title"][:39] + "…",
                r["date"],
                str(r["peak_viewers"]),
                str(r["chat_messages"]),
                str(r["orders"]),
                str(r["units_sold"]),
                f"{r['sales_total']} {r['currency']}",
            )
            for r in rows
        ]
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
        numeric = {0, 4, 5, 6, 7, 8}

        def line(values) -> str:
            return "  ".join(
                v.rjust(w) if i in numeric else v.ljust(w)
                for i, (v, w) in enumerate(zip(values, widths, strict=True))
            ).rstrip()

        self.stdout.write(self.style.HTTP_INFO(line(headers)))
        self.stdout.write("  ".join("-" * w for w in widths))
        for values in cells:
            self.stdout.write(line(values))

        totals: dict[str, Decimal] = defaultdict(Decimal)
        for r in rows:
            totals[r["currency"]] += r["sales_total"]
        sales = ", ".join(f"{amount} {currency}" for currency, amount in sorted(totals.items()))
        self.stdout.write("")
        self.stdout.write(
            f"{len(rows)} show{'s' if len(rows) != 1 else ''}, "
            f"{sum(r['orders'] for r in rows)} orders, {sum(r['units_sold'] for r in rows)} units, {sales}."
        )
