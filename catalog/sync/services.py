"""Inventory sync runs: read a shop's stock feed and set on-hand per SKU, leaving a trail.

How a run applies a feed (and why):
1. The feed is opened as a seekable binary file; a URL feed is first downloaded whole into a temporary
   file, so a dropped connection applies nothing.
2. Pass one reads every row without touching the database: structural problems (not UTF-8, missing
   columns, broken syntax) fail the run before anything is applied. Bad rows (blank SKU, negative or
   non-numeric quantity) are counted with their line numbers; they fail the run too unless the feed
   has "skip invalid rows" ticked, in which case they are skipped and reported.
3. Pass two applies the valid rows in batches of BATCH_SIZE. Each batch is one transaction through
   catalog.stock.stock_set_on_hand_many (rows locked in variant-id order), so a batch is applied
   whole or not at all, and stock rows are never locked for the whole file (checkouts keep flowing).
   Unknown SKUs are counted; a row that would put on-hand below what is allocated is left alone and
   counted as a conflict. A SKU listed twice is applied in file order (the last line wins).
Both passes stream, so memory does not grow with the feed. Setting the same counts again writes
nothing, so the same feed run twice reports every row unchanged the second time.
"""

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from config.faults import fault_point
from shops.models import Shop

from ..exceptions import StockFeedError
from ..models import InventorySyncRun, StockFeed
from ..selectors import variant_ids_by_sku
from ..signals import stock_levels_changed
from ..stock import stock_set_on_hand_many
from .feeds import FeedRow, feed_rows
from .fetch import feed_download

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_ERRORS = 50
# A run still "running" after this long outlived its job's 30-minute time limit: its worker died.
STALE_RUN = timedelta(minutes=35)
# A run still "pending" after this long lost its job (the broker was down at enqueue time).
LOST_JOB = timedelta(minutes=5)

Progress = Callable[[str, int, int | None], None]  # (phase, rows done in this step, total rows or None)


class _Tally:
    """Counts and the first MAX_ERRORS problems (by line) of one run."""

    def __init__(self):
        self.rows_total = self.updated = self.unchanged = self.unknown_sku = self.invalid = self.conflicts = 0
        self.errors: list[dict] = []

    def error(self, line: int, message: str) -> None:
        self.errors.append({"line": line, "message": message})
        if len(self.errors) > MAX_ERRORS * 2:
            self._trim()

    def _trim(self) -> None:
        self.errors = sorted(self.errors, key=lambda e: e["line"])[:MAX_ERRORS]

    def fields(self) -> dict:
        self._trim()
        return {
            "rows_total": self.rows_total,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "unknown_sku": self.unknown_sku,
            "invalid": self.invalid,
            "conflicts": self.conflicts,
            "errors": self.errors,
        }


def _source_label(feed: StockFeed | None) -> str:
    if feed is None:
        return ""
    if feed.source == StockFeed.Source.URL:
        return feed.url
    return feed.file.name or "(no file uploaded)"


def inventory_sync_run_create(
    *,
    shop,
    trigger: str,
    feed: StockFeed | None = None,
    started_by=None,
    dry_run: bool = False,
    source_label: str = "",
) -> InventorySyncRun:
    """Record a pending run (the trail exists even if the job never starts)."""
    return InventorySyncRun.objects.create(
        shop=shop,
        feed=feed,
        trigger=trigger,
        started_by=started_by,
        dry_run=dry_run,
        source_label=(source_label or _source_label(feed))[:500],
    )


@transaction.atomic
def inventory_sync_request(
    *, feed: StockFeed, trigger: str, started_by=None, dry_run: bool = False
) -> InventorySyncRun:
    """Start a sync of `feed` in the background (admin action, schedule): the run is enqueued on commit."""
    from ..tasks import inventory_sync_task

    run = inventory_sync_run_create(
        shop=feed.shop, feed=feed, trigger=trigger, started_by=started_by, dry_run=dry_run
    )
    inventory_sync_task.delay_on_commit(run.pk)
    return run


def _claim(run_id: int) -> InventorySyncRun | None:
    """Mark the run running, once: a second delivery of the job finds it taken and does nothing."""
    with transaction.atomic():
        run = InventorySyncRun.objects.select_for_update(skip_locked=True).filter(pk=run_id).first()
        if run is None:
            return None
        now = timezone.now()
        stale = run.status == InventorySyncRun.Status.RUNNING and run.started_at < now - STALE_RUN
        if run.status != InventorySyncRun.Status.PENDING and not stale:
            return None
        run.status, run.started_at, run.finished_at, run.message = (
            InventorySyncRun.Status.RUNNING,
            now,
            None,
            "",
        )
        run.save(update_fields=["status", "started_at", "finished_at", "message"])
        return run


@contextmanager
def _open_source(run: InventorySyncRun, file: BinaryIO | None) -> Iterator[BinaryIO]:
    if file is not None:
        yield file
        return
    feed = run.feed
    if feed is None:
        raise StockFeedError("This run has no feed and no file to read.")
    if feed.source == StockFeed.Source.URL:
        with tempfile.TemporaryFile(prefix="lm-stock-feed-") as spool:
            feed_download(feed.url, into=spool)
            yield spool
        return
    if not feed.file:
        raise StockFeedError("The feed has no uploaded file; upload one or give a URL.")
    try:
        handle = feed.file.open("rb")
    except OSError:
        raise StockFeedError(f"The uploaded feed file {feed.file.name!r} cannot be read.") from None
    with handle:
        yield handle


def _feed_format(run: InventorySyncRun, format: str | None) -> str:
    if format:
        return format
    if run.feed is not None:
        return run.feed.format
    return "json" if run.source_label.lower().endswith(".json") else "csv"


def _validate(rows: Iterator[FeedRow], tally: _Tally, progress: Progress | None) -> None:
    for row in rows:
        tally.rows_total += 1
        if row.error:
            tally.invalid += 1
            tally.error(row.line, row.error)
        if progress and tally.rows_total % BATCH_SIZE == 0:
            progress("check", BATCH_SIZE, None)
    if progress:
        progress("check", tally.rows_total % BATCH_SIZE, None)


def _apply_batch(run: InventorySyncRun, batch: dict[str, FeedRow], tally: _Tally) -> None:
    with transaction.atomic():
        variants = variant_ids_by_sku(shop_id=run.shop_id, skus=list(batch))
        for sku, row in batch.items():
            if sku not in variants:
                tally.unknown_sku += 1
                tally.error(row.line, f"unknown SKU {sku!r}")
        levels = {variants[sku]: row.quantity for sku, row in batch.items() if sku in variants}
        result = stock_set_on_hand_many(levels=levels, dry_run=run.dry_run)
        if result.updated and not run.dry_run:
            changed = list(result.updated)
            transaction.on_commit(
                lambda: stock_levels_changed.send(sender=InventorySyncRun, variant_ids=changed)
            )
        tally.updated += len(result.updated)
        tally.unchanged += len(result.unchanged)
        tally.conflicts += len(result.conflicts)
        skus = {pk: sku for sku, pk in variants.items()}
        for variant_id, wanted, allocated in result.conflicts:
            tally.error(
                batch[skus[variant_id]].line,
                f"SKU {skus[variant_id]!r}: {allocated} units are allocated to orders, "
                f"so on hand cannot be set to {wanted}; left unchanged",
            )
        InventorySyncRun.objects.filter(pk=run.pk).update(**tally.fields())


def _apply(run: InventorySyncRun, rows: Iterator[FeedRow], tally: _Tally, progress: Progress | None) -> None:
    batch: dict[str, FeedRow] = {}
    for row in rows:
        if row.error:
            continue
        if row.sku in batch:  # keep file order for a repeated SKU: apply what came before it first
            _apply_batch(run, batch, tally)
            if progress:
                progress("apply", len(batch), tally.rows_total)
            batch = {}
        batch[row.sku] = row
        if len(batch) >= BATCH_SIZE:
            _apply_batch(run, batch, tally)
            if progress:
                progress("apply", len(batch), tally.rows_total)
            batch = {}
            fault_point("inventory_sync_batch")  # tests/faults: killed with batches applied, more to go
    if batch:
        _apply_batch(run, batch, tally)
        if progress:
            progress("apply", len(batch), tally.rows_total)


def _finish(run: InventorySyncRun, tally: _Tally, *, status: str, message: str = "") -> InventorySyncRun:
    InventorySyncRun.objects.filter(pk=run.pk).update(
        status=status, message=message[:500], finished_at=timezone.now(), **tally.fields()
    )
    run.refresh_from_db()
    logger.info(
        "inventory sync run %s for shop %s %s: %s rows, %s updated, %s unchanged, %s unknown SKU, "
        "%s invalid, %s conflicts%s",
        run.pk,
        run.shop_id,
        status,
        run.rows_total,
        run.updated,
        run.unchanged,
        run.unknown_sku,
        run.invalid,
        run.conflicts,
        f" ({message})" if message else "",
    )
    return run


def inventory_sync_execute(
    *,
    run_id: int,
    file: BinaryIO | None = None,
    format: str | None = None,
    skip_invalid: bool | None = None,
    progress: Progress | None = None,
) -> InventorySyncRun | None:
    """Run a pending sync (the Celery job, or `sync_inventory` in process). Idempotent per run: a run
    that another worker has taken or that has finished is returned as it is, or None if it is locked.

    `file` (binary, seekable) overrides the feed's own source; `format` is "csv" or "json";
    `skip_invalid` overrides the feed's "skip invalid rows".
    """
    run = _claim(run_id)
    if run is None:
        return InventorySyncRun.objects.filter(pk=run_id).first()
    tally = _Tally()
    try:
        with _open_source(run, file) as source:
            fmt = _feed_format(run, format)
            _validate(feed_rows(source, format=fmt), tally, progress)
            if skip_invalid is None:
                skip_invalid = run.feed is not None and run.feed.skip_invalid_rows
            if tally.invalid and not skip_invalid:
                return _finish(
                    run,
                    tally,
                    status=InventorySyncRun.Status.FAILED,
                    message=f"{tally.invalid} invalid row(s); nothing was applied. Fix them, or tick "
                    "'skip invalid rows' on the feed to apply the rest.",
                )
            _apply(run, feed_rows(source, format=fmt), tally, progress)
    except StockFeedError as exc:
        return _finish(run, tally, status=InventorySyncRun.Status.FAILED, message=exc.message)
    except Exception as exc:
        logger.exception("inventory sync run %s crashed", run.pk)
        _finish(
            run,
            tally,
            status=InventorySyncRun.Status.FAILED,
            message=f"Internal error ({exc.__class__.__name__}).",
        )
        raise
    return _finish(run, tally, status=InventorySyncRun.Status.SUCCEEDED)


def inventory_sync_now(
    *,
    shop,
    trigger: str,
    file: BinaryIO | None = None,
    format: str | None = None,
    source_label: str = "",
    started_by=None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> InventorySyncRun:
    """Sync in this process (the command): the shop's feed, or `file` when given."""
    feed = StockFeed.objects.filter(shop=shop).first()
    if file is None and feed is None:
        raise StockFeedError(
            f"The shop {shop.slug} has no stock feed; pass a file or add a feed in the admin."
        )
    run = inventory_sync_run_create(
        shop=shop,
        feed=feed,
        trigger=trigger,
        started_by=started_by,
        dry_run=dry_run,
        source_label=source_label,
    )
    return inventory_sync_execute(
        run_id=run.pk,
        file=file,
        format=format,
        skip_invalid=skip_invalid if file is not None or skip_invalid else None,
        progress=progress,
    )


def stock_feeds_due() -> list[int]:
    """Enabled URL feeds of active shops whose interval has passed since their last (real) run."""
    now = timezone.now()
    feeds = (
        StockFeed.objects.filter(enabled=True, source=StockFeed.Source.URL, shop__status=Shop.Status.ACTIVE)
        .annotate(last_run=Max("runs__created_at", filter=Q(runs__dry_run=False)))
        .values_list("pk", "interval_minutes", "last_run")
        .order_by("pk")
    )
    return [pk for pk, minutes, last in feeds if last is None or last <= now - timedelta(minutes=minutes)]


def inventory_sync_runs_repair() -> tuple[int, int]:
    """Re-enqueue pending runs whose job was lost, and mark runs whose worker died as failed (the
    trail must not say "running" for ever). Returns (re-enqueued, abandoned). Idempotent."""
    from ..tasks import inventory_sync_task

    now = timezone.now()
    abandoned = InventorySyncRun.objects.filter(
        status=InventorySyncRun.Status.RUNNING, started_at__lt=now - STALE_RUN
    ).update(
        status=InventorySyncRun.Status.FAILED,
        finished_at=now,
        message="Abandoned: the worker running it stopped. Batches already applied stay applied; "
        "run the sync again.",
    )
    lost = list(
        InventorySyncRun.objects.filter(
            status=InventorySyncRun.Status.PENDING,
            created_at__lt=now - LOST_JOB,
            created_at__gt=now - STALE_RUN,
        ).values_list("pk", flat=True)
    )
    for run_id in lost:
        inventory_sync_task.delay(run_id)
    if abandoned or lost:
        logger.warning("inventory sync runs: %s re-enqueued, %s marked abandoned", len(lost), abandoned)
    return len(lost), abandoned


def stock_feeds_sync_due() -> int:
    """Beat job: start a run for every due feed (and repair runs whose job or worker was lost). Safe to
    run twice at once: feeds are locked with SKIP LOCKED and a feed with a run still pending or
    running is not started again."""
    inventory_sync_runs_repair()
    started = 0
    for feed_id in stock_feeds_due():
        with transaction.atomic():
            feed = StockFeed.objects.select_for_update(skip_locked=True).filter(pk=feed_id).first()
            if feed is None:  # another sweeper has it
                continue
            now = timezone.now()
            recent = feed.runs.filter(
                dry_run=False, created_at__gt=now - timedelta(minutes=feed.interval_minutes)
            )
            busy = feed.runs.filter(
                status__in=[InventorySyncRun.Status.PENDING, InventorySyncRun.Status.RUNNING],
                created_at__gt=now - STALE_RUN,
            )
            if recent.exists() or busy.exists():  # started by the other sweeper since we looked
                continue
            inventory_sync_request(feed=feed, trigger=InventorySyncRun.Trigger.SCHEDULE)
            started += 1
    if started:
        logger.info("scheduled %s stock feed sync(s)", started)
    return started
