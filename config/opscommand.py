"""The base of Livemarket's ops commands (sync_inventory, reconcile_stock, close_auctions, ...).

What every ops command promises, in one place:
- a user error (an unknown shop, a bad date, a missing file, a domain error listed in `user_errors`)
  ends with one line on stderr and exit status 1, never a traceback (Django prints CommandError so);
- long loops show a tqdm progress bar on stderr, only when stderr is a terminal (cron, CI and pipes
  get clean output) and never at --verbosity 0;
- the command ends with a one-line summary (`summary`), and `fail` for a run that did not succeed.

A new command: subclass OpsCommand, implement `handle`, wrap long iterables in `self.progress(...)`,
call `self.summary(...)` at the end, and raise `self.error("...")` (or a listed domain error).
"""

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import NoReturn

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm


class OpsCommand(BaseCommand):
    # Domain exceptions that mean "the operator asked for something impossible": shown as one line.
    user_errors: tuple[type[Exception], ...] = ()

    def execute(self, *args, **options):
        self.verbosity = options.get("verbosity", 1)
        try:
            return super().execute(*args, **options)
        except self.user_errors as exc:
            raise CommandError(getattr(exc, "message", None) or str(exc)) from exc

    # --- output ------------------------------------------------------------------------------

    def progress_enabled(self) -> bool:
        return self.verbosity >= 1 and self.stderr.isatty()

    def progress(
        self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit="row"
    ):
        """A tqdm bar on stderr, disabled (a plain pass-through) when stderr is not a terminal."""
        return tqdm(
            iterable,
            total=total,
            desc=desc,
            unit=unit,
            unit_scale=True,
            file=self.stderr._out,
            disable=not self.progress_enabled(),
            leave=False,
            dynamic_ncols=True,
        )

    def info(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)

    def summary(self, message: str, *, ok: bool = True) -> None:
        """The closing line: green when all went well, yellow when it finished with warnings."""
        self.stdout.write(message, style_func=self.style.SUCCESS if ok else self.style.WARNING)

    def error(self, message: str) -> CommandError:
        """`raise self.error("...")`: a user error, printed as one line, exit status 1."""
        return CommandError(message)

    def fail(self, message: str, *, returncode: int = 1) -> NoReturn:
        raise CommandError(message, returncode=returncode)

    # --- parsing helpers shared by the commands ----------------------------------------------

    def shop_from_slug(self, slug: str):
        from shops.models import Shop

        shop = Shop.objects.filter(slug=slug).first()
        if shop is None:
            raise self.error(f"No shop with the slug {slug!r}.")
        return shop

    def parse_date(self, value: str, *, option: str) -> date:
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            raise self.error(f"{option} must be a date as YYYY-MM-DD, not {value!r}.") from None

    @staticmethod
    def day_start(day: date) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))
