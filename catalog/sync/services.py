"""Inventory sync runs: read a shop's stock feed and set on-hand per SKU, leaving a trail.

How a run applies a feed (and why):
1. The feed is opened as a seekable binary file; a URL feed is first downloaded whole into a temporary
   file, so a dropped connection applies nothing.
2. The check pass reads every row: structural problems (not UTF-8, missing columns, broken syntax)
   fail the run before anything is applied. Bad rows (blank SKU, negative or non-numeric quantity) are
   counted with their line numbers; they fail the run too unless the feed has "skip invalid rows"
   ticked, in which case they are skipped and reported.
3. The apply pass sets the valid rows' counts, a chunk at a time, each chunk one transaction (applied
   whole or not at all), so stock rows are never locked for the whole file and checkouts keep flowing.
   Rows are locked in variant-id order, like every other stock change. Unknown SKUs are counted; a
   row that would put on-hand below what is allocated is left alone and counted as a conflict. A SKU
   listed twice is applied in file order (the last line wins).
   - On PostgreSQL the check pass also streams the valid rows into a temporary table with COPY
     (catalog.sync.staging), and each chunk of up to LIVEMARKET_SYNC_CHUNK_ROWS rows is one set-based statement
     (catalog.stock.stock_set_on_hand_from_feed): a 100,000-row feed takes about a second.
   - Elsewhere (SQLite, the demo) the apply pass reads the file again and applies batches of
     BATCH_SIZE rows through catalog.stock.stock_set_on_hand_many.
Both passes stream, so memory does not grow with the feed. Setting the same counts again writes
nothing, so the same feed run twice reports every row unchanged the second time. The changed variants
are announced (stock_levels_changed) after each chunk commits.
"""

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import BinaryIO

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from config.faults import fault_point
from shops.models import Shop

from ..exceptions import StockFeedError
from ..models import InventorySyncRun, StockFeed
from ..selectors import variant_ids_by_sku
from ..signals import stock_levels_changed
from ..stock import stock_set_on_hand_from_feed, stock_set_on_hand_many
from .feeds import FeedRow, feed_records, feed_rows
from .fetch import feed_download
from .staging import TABLE, feed_stage, feed_stage_load, feed_stage_split, feed_stage_unknown_skus

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Rows per transaction (one statement) on PostgreSQL; 100,000 rows stay locked for about half a second.
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


def _invalid_needs_stop(tally: _Tally, skip_invalid: bool) -> bool:
    return bool(tally.invalid) and not skip_invalid


def _announce(variant_ids: list[int]) -> None:
    transaction.on_commit(lambda: stock_levels_changed.send(sender=InventorySyncRun, variant_ids=variant_ids))


def _stage(source: BinaryIO, fmt: str, tally: _Tally, progress: Progress | None) -> list[int]:
    """The check pass on PostgreSQL: validate every row and COPY the valid ones into the staging table.
    Returns the valid rows per chunk."""

    def invalid(line: int, message: str) -> None:
        tally.invalid += 1
        tally.error(line, message)

    def counted(rows: int) -> None:
        tally.rows_total += rows
        if progress:
            progress("check", rows, None)

    return feed_stage_load(
        feed_records(source, format=fmt),
        chunk_rows=settings.LIVEMARKET_SYNC_CHUNK_ROWS,
        on_invalid=invalid,
        on_rows=counted,
    )


def _apply_chunk(run: InventorySyncRun, chunk: int, size: int, tally: _Tally, *, whole: bool) -> bool:
    """Apply one staged chunk (`whole`: the only one) in a transaction of its own; False (nothing
    applied) if it names a SKU twice."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # room to hash a big chunk's rows without spilling to disk
                cursor.execute("SET LOCAL work_mem = '64MB'")
        result = stock_set_on_hand_from_feed(
            feed_table=TABLE,
            shop_id=run.shop_id,
            chunk=None if whole else chunk,
            rows=size,
            dry_run=run.dry_run,
            report=MAX_ERRORS,
        )
        if result.repeated:
            return False
        unknown = size - result.known
        if unknown:
            for line, sku in feed_stage_unknown_skus(shop_id=run.shop_id, chunk=chunk, limit=MAX_ERRORS):
                tally.error(line, f"unknown SKU {sku!r}")
        if result.changed:
            _announce(result.changed)
        tally.unknown_sku += unknown
        tally.updated += result.updated
        tally.unchanged += result.unchanged
        tally.conflicts += result.conflicts
        for line, sku, wanted, allocated in result.conflict_rows:
            tally.error(
                line,
                f"SKU {sku!r}: {allocated} units are allocated to orders, "
                f"so on hand cannot be set to {wanted}; left unchanged",
            )
        InventorySyncRun.objects.filter(pk=run.pk).update(**tally.fields())
    return True


def _sync_staged(
    run: InventorySyncRun, source: BinaryIO, fmt: str, tally: _Tally, skip_invalid: bool | None, progress
) -> str | None:
    """Check and apply on PostgreSQL; returns the failure message of a run stopped by invalid rows."""
    with feed_stage():
        sizes = _stage(source, fmt, tally, progress)
        if _invalid_needs_stop(tally, _skip_invalid(run, skip_invalid)):
            return _INVALID_MESSAGE.format(count=tally.invalid)
        pending, next_chunk = list(enumerate(sizes)), len(sizes)
        while pending:
            chunk, size = pending.pop(0)
            if not _apply_chunk(
                run, chunk, size, tally, whole=len(sizes) == 1 and chunk == 0
            ):  # a SKU listed twice: apply it in file order
                parts = feed_stage_split(chunk=chunk, first=next_chunk)
                pending[:0] = [(next_chunk + n, rows) for n, rows in enumerate(parts)]
                next_chunk += len(parts)
                continue
            if progress:
                progress("apply", size, tally.rows_total)
            if pending:
                fault_point("inventory_sync_batch")  # tests/faults: killed with chunks applied, more to go
    return None


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
            _announce(list(result.updated))
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


def _skip_invalid(run: InventorySyncRun, skip_invalid: bool | None) -> bool:
    if skip_invalid is None:
        return run.feed is not None and run.feed.skip_invalid_rows
    return skip_invalid


_INVALID_MESSAGE = (
    "{count} invalid row(s); nothing was applied. Fix them, or tick 'skip invalid rows' on the feed to "
    "apply the rest."
)


def _sync_batched(
    run: InventorySyncRun, source: BinaryIO, fmt: str, tally: _Tally, skip_invalid: bool | None, progress
) -> str | None:
    """Check, then apply in batches (any database); returns the failure message of a run stopped by
    invalid rows."""
    _validate(feed_rows(source, format=fmt), tally, progress)
    if _invalid_needs_stop(tally, _skip_invalid(run, skip_invalid)):
        return _INVALID_MESSAGE.format(count=tally.invalid)
    _apply(run, feed_rows(source, format=fmt), tally, progress)
    return None


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
            if connection.vendor == "postgresql":
                stopped = _sync_staged(run, source, fmt, tally, skip_invalid, progress)
            else:
                stopped = _sync_batched(run, source, fmt, tally, skip_invalid, progress)
            if stopped:
                return _finish(run, tally, status=InventorySyncRun.Status.FAILED, message=stopped)
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
