"""`manage.py close_auctions`: close every lot whose time is up, and re-drive lost winner charges."""

from config.opscommand import OpsCommand
from shows import auctions
from shows.exceptions import ShowError
from shows.models import Lot, Show


class Command(OpsCommand):
    help = (
        "Close auction lots whose clock has run out (exactly once, even beside the beat task: each lot "
        "is closed under its row lock), give each winner an order and charge their saved card. Lots "
        "still running are left alone. --show limits it to one show; --dry-run only lists what is due. "
        "Example: manage.py close_auctions --dry-run"
    )
    user_errors = (ShowError,)

    def add_arguments(self, parser):
        parser.add_argument("--show", type=int, help="Only this show's lots (its id).")
        parser.add_argument(
            "--dry-run", action="store_true", help="List the lots that are due; change nothing."
        )

    def handle(self, *args, show: int | None, dry_run: bool, **options):
        if show is not None and not Show.objects.filter(pk=show).exists():
            raise self.error(f"No show with id {show}.")
        due = auctions.lots_due(show_id=show)
        if dry_run:
            for lot in due:
                self.info(
                    f"due: lot {lot.pk} '{lot.title}' in show {lot.show_id} (ended {lot.ends_at:%H:%M:%S})"
                )
            self.summary(f"{len(due)} lot(s) due; nothing changed (dry run).")
            return
        outcomes: dict[str, int] = {}
        for lot in self.progress(due, desc="closing lots", unit="lot"):
            closed = auctions.lot_close(lot_id=lot.pk)
            if closed is not None and closed.status != Lot.Status.OPEN:
                outcomes[closed.status] = outcomes.get(closed.status, 0) + 1
        charged = auctions.lots_charge_pending()
        summary = (
            ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in sorted(outcomes.items())) or "none"
        )
        self.summary(f"Closed {sum(outcomes.values())} lot(s) ({summary}); re-drove {charged} charge(s).")
