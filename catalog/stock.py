"""The one place stock changes (after Saleor's warehouse/management.py).

Every change either locks the Stock rows with SELECT ... FOR UPDATE, always in variant-id order so
two buyers of the same items never deadlock, and re-checks under the lock; or it is a single
conditional UPDATE. Nothing reads a count into Python and writes it back unlocked.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Q

from .exceptions import InsufficientStock, StockBelowAllocated
from .models import Stock


def _merge(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = defaultdict(int)
    for variant_id, quantity in lines:
        if quantity <= 0:
            raise ValueError("quantities must be positive")
        merged[variant_id] += quantity
    return dict(sorted(merged.items()))


def _lock(variant_ids: list[int]) -> dict[int, Stock]:
    rows = (
        Stock.objects.select_for_update(of=("self",))
        .filter(variant_id__in=variant_ids)
        .order_by("variant_id")
    )
    return {row.variant_id: row for row in rows}


@transaction.atomic
def stock_allocate(*, lines: Iterable[tuple[int, int]]) -> None:
    """Promise units to an order: all lines or none. Raises InsufficientStock listing every short line."""
    wanted = _merge(lines)
    if len(wanted) == 1:
        # One variant (buy now, the hot path of a flash sale): a single conditional UPDATE, so the row
        # is locked for this statement only, not across a read and a write.
        ((variant_id, quantity),) = wanted.items()
        if Stock.objects.filter(variant_id=variant_id, on_hand__gte=F("allocated") + quantity).update(
            allocated=F("allocated") + quantity
        ):
            return
        row = Stock.objects.filter(variant_id=variant_id).first()
        raise InsufficientStock([(variant_id, quantity, max(row.available, 0) if row else 0)])
    locked = _lock(list(wanted))
    short = []
    for variant_id, quantity in wanted.items():
        row = locked.get(variant_id)
        available = row.available if row else 0
        if available < quantity:
            short.append((variant_id, quantity, max(available, 0)))
    if short:
        raise InsufficientStock(short)
    for variant_id, quantity in wanted.items():
        Stock.objects.filter(variant_id=variant_id).update(allocated=F("allocated") + quantity)


@transaction.atomic
def stock_deallocate(*, lines: Iterable[tuple[int, int]]) -> None:
    """Give promised units back (a cancelled or failed order). Never drops below zero."""
    wanted = _merge(lines)
    locked = _lock(list(wanted))
    for variant_id, quantity in wanted.items():
        if variant_id in locked:
            release = min(quantity, locked[variant_id].allocated)
            Stock.objects.filter(variant_id=variant_id).update(allocated=F("allocated") - release)


@transaction.atomic
def stock_ship(*, lines: Iterable[tuple[int, int]]) -> None:
    """Allocated units leave the building: both on_hand and allocated go down."""
    wanted = _merge(lines)
    _lock(list(wanted))
    for variant_id, quantity in wanted.items():
        updated = Stock.objects.filter(variant_id=variant_id, allocated__gte=quantity).update(
            on_hand=F("on_hand") - quantity, allocated=F("allocated") - quantity
        )
        if not updated:
            raise InsufficientStock([(variant_id, quantity, 0)])


def stock_ensure(*, variant_id: int) -> None:
    """Every variant has one stock row (zero units until set); creating it twice is a no-op."""
    Stock.objects.get_or_create(variant_id=variant_id)


def stock_set_on_hand(*, variant_id: int, on_hand: int) -> None:
    """Set the count from a stock take or feed; refuses to go below what is allocated."""
    if on_hand < 0:
        raise ValueError("on_hand cannot be negative")
    stock_ensure(variant_id=variant_id)
    updated = Stock.objects.filter(variant_id=variant_id, allocated__lte=on_hand).update(on_hand=on_hand)
    if not updated:
        allocated = Stock.objects.values_list("allocated", flat=True).get(variant_id=variant_id)
        raise StockBelowAllocated(variant_id, allocated)


def stock_adjust(*, variant_id: int, delta: int) -> None:
    """Add or remove units (a delivery, breakage) in one conditional UPDATE."""
    stock_ensure(variant_id=variant_id)
    updated = Stock.objects.filter(variant_id=variant_id, on_hand__gte=F("allocated") - delta).update(
        on_hand=F("on_hand") + delta
    )
    if not updated:
        allocated = Stock.objects.values_list("allocated", flat=True).get(variant_id=variant_id)
        raise StockBelowAllocated(variant_id, allocated)


@dataclass
class StockLevelsResult:
    """What `stock_set_on_hand_many` did: variant ids per outcome; conflicts as (variant, wanted, allocated)."""

    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    conflicts: list[tuple[int, int, int]] = field(default_factory=list)


def _bulk_write_on_hand(levels: dict[int, int]) -> int:
    if connection.vendor == "postgresql":
        # One statement for the whole batch; the allocated guard holds even if a caller forgot the lock.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE catalog_stock AS s SET on_hand = v.on_hand "
                "FROM unnest(%s::bigint[], %s::integer[]) AS v(variant_id, on_hand) "
                "WHERE s.variant_id = v.variant_id AND v.on_hand >= s.allocated",
                [list(levels), list(levels.values())],
            )
            return cursor.rowcount
    rows = [Stock(variant_id=variant_id, on_hand=on_hand) for variant_id, on_hand in levels.items()]
    return Stock.objects.bulk_update(rows, ["on_hand"], batch_size=500)


def _read_levels(rows, ids: list[int], dry_run: bool):
    """(variant_id, on_hand, allocated) for `ids`, locked in variant-id order unless `dry_run`.

    On PostgreSQL the ids go as one array parameter: a feed batch of 1,000 ids compiled as an IN list
    cost 17 ms against 7 ms (bench/inventory_sync.py)."""
    if connection.vendor != "postgresql":
        return rows.values_list("variant_id", "on_hand", "allocated")
    sql = "SELECT variant_id, on_hand, allocated FROM catalog_stock WHERE variant_id = ANY(%s) ORDER BY variant_id"
    with connection.cursor() as cursor:
        cursor.execute(sql if dry_run else f"{sql} FOR UPDATE", [ids])
        return cursor.fetchall()


@transaction.atomic
def stock_set_on_hand_many(*, levels: dict[int, int], dry_run: bool = False) -> StockLevelsResult:
    """Set on-hand for many variants at once (a stock feed batch): all of the batch or none of it.

    Rows are locked in variant-id order, like every other stock change. A row whose new count would
    fall below what is allocated is left as it is and returned as a conflict; an equal count is
    left untouched (so a feed applied twice writes nothing the second time). `dry_run` only reads.
    """
    if any(on_hand < 0 for on_hand in levels.values()):
        raise ValueError("on_hand cannot be negative")
    ids = sorted(levels)
    rows = Stock.objects.filter(variant_id__in=ids).order_by("variant_id")
    if not dry_run:
        rows = rows.select_for_update(of=("self",))
    fields = ("variant_id", "on_hand", "allocated")
    current = {
        variant_id: (on_hand, allocated)
        for variant_id, on_hand, allocated in _read_levels(rows, ids, dry_run)
    }
    missing = [variant_id for variant_id in ids if variant_id not in current]
    if missing and not dry_run:  # a variant without its stock row (rare): make it, then lock it too
        Stock.objects.bulk_create([Stock(variant_id=i) for i in missing], ignore_conflicts=True)
        locked = rows.filter(variant_id__in=missing).values_list(*fields)
        current.update({variant_id: (on_hand, allocated) for variant_id, on_hand, allocated in locked})
    result = StockLevelsResult()
    to_write: dict[int, int] = {}
    for variant_id in ids:
        wanted = levels[variant_id]
        on_hand, allocated = current.get(variant_id, (0, 0))
        if wanted == on_hand:
            result.unchanged.append(variant_id)
        elif wanted < allocated:
            result.conflicts.append((variant_id, wanted, allocated))
        else:
            to_write[variant_id] = wanted
            result.updated.append(variant_id)
    if to_write and not dry_run:
        written = _bulk_write_on_hand(to_write)
        if written != len(to_write):  # impossible under the lock; refuse rather than half-apply
            raise StockBelowAllocated(next(iter(to_write)), -1)
    return result


@transaction.atomic
def stock_lock_unallocated(*, variant_ids: list[int]) -> None:
    """Before removing variants: lock their rows and refuse while any unit is promised to an order or
    hold (so a sale cannot slip in between the check and the delete)."""
    for variant_id, row in _lock(sorted(variant_ids)).items():
        if row.allocated > 0:
            raise StockBelowAllocated(variant_id, row.allocated)


@dataclass
class AllocationCorrection:
    variant_id: int
    on_hand: int
    allocated: int
    expected: int
    fixed: bool = False


def stock_allocation_drift(
    *, expected: dict[int, int], variant_ids: list[int] | None = None
) -> list[AllocationCorrection]:
    """Stock rows whose `allocated` differs from `expected` (units held by orders, holds, lots; a
    variant missing from `expected` should have none). Read-only; `variant_ids` limits the rows."""
    rows = Stock.objects.filter(Q(allocated__gt=0) | Q(variant_id__in=list(expected)))
    if variant_ids is not None:
        rows = rows.filter(variant_id__in=variant_ids)
    return [
        AllocationCorrection(variant_id, on_hand, allocated, expected.get(variant_id, 0))
        for variant_id, on_hand, allocated in rows.order_by("variant_id").values_list(
            "variant_id", "on_hand", "allocated"
        )
        if allocated != expected.get(variant_id, 0)
    ]


@transaction.atomic
def stock_allocation_correct(
    *, variant_ids: list[int], expected_for: Callable[[list[int]], dict[int, int]]
) -> list[AllocationCorrection]:
    """Repair drifted `allocated` counts in one transaction. The rows are locked (variant-id order)
    first and `expected_for` is asked only then, so a sale committing meanwhile is counted right.
    A row whose expected allocation exceeds on hand is reported, not changed (`fixed` False)."""
    ids = sorted(set(variant_ids))
    _lock(ids)
    drift = stock_allocation_drift(expected=expected_for(ids), variant_ids=ids)
    for row in drift:
        if row.expected <= row.on_hand:
            Stock.objects.filter(variant_id=row.variant_id).update(allocated=row.expected)
            row.fixed = True
    return drift


@dataclass
class FeedLevelsResult:
    """What `stock_set_on_hand_from_feed` did with one chunk of a staged feed. `known` counts the rows
    whose SKU is the shop's; `changed` holds the variant ids whose on-hand changed (empty in a dry run);
    `conflict_rows` the first `report` conflicts by line, as (line, sku, wanted, allocated). `repeated`
    says the chunk names a SKU twice: then nothing was written (split the chunk and apply the parts)."""

    known: int = 0
    repeated: bool = False
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    changed: list[int] = field(default_factory=list)
    conflict_rows: list[tuple[int, str, int, int]] = field(default_factory=list)


# One statement per chunk of a staged feed (a temporary table of chunk, line, sku, quantity). `locked`
# locks the chunk's stock rows in variant-id order, like every other stock change (so a checkout locking
# several variants cannot deadlock with a sync), and reads each row as locked: under READ COMMITTED a
# row changed meanwhile by a committed allocation is re-read, and an allocation still in progress is
# waited for. Under the lock nothing can change them, so `changed` writes exactly the rows whose count
# differs and covers what is allocated (checked again against the row it writes); the other rows are
# unchanged or conflicts, left as they are. A SKU listed twice in the chunk must be applied in file
# order, which one UPDATE cannot do: `counts` finds it (more rows than variants) and then nothing is
# written.
_FEED_APPLY_SQL = """
WITH locked AS MATERIALIZED (
    SELECT s.variant_id, s.on_hand, s.allocated, f.quantity, f.line
    FROM {feed} AS f JOIN catalog_variant AS v ON v.shop_id = %(shop_id)s AND v.sku = f.sku
    JOIN catalog_stock AS s ON s.variant_id = v.id
    WHERE {in_chunk}
    ORDER BY s.variant_id
    FOR NO KEY UPDATE OF s
),
counts AS (
    SELECT
        count(*) AS stocked,
        count(*) FILTER (WHERE quantity <> on_hand) AS differing,
        count(DISTINCT variant_id) AS variants
    FROM locked
),
changed AS (
    UPDATE catalog_stock AS s SET on_hand = l.quantity
    FROM locked AS l
    WHERE s.variant_id = l.variant_id AND l.quantity <> l.on_hand AND l.quantity >= s.allocated
        AND (SELECT stocked = variants FROM counts)
    RETURNING s.variant_id
)
SELECT
    counts.stocked <> counts.variants,
    counts.stocked,
    counts.differing,
    (SELECT array_agg(variant_id) FROM changed),
    (
        SELECT json_agg(json_build_array(c.line, v.sku, c.quantity, c.allocated) ORDER BY c.line)
        FROM (
            SELECT line, variant_id, quantity, allocated FROM locked
            WHERE quantity <> on_hand AND quantity < allocated ORDER BY line LIMIT %(report)s
        ) AS c JOIN catalog_variant AS v ON v.id = c.variant_id
    )
FROM counts
"""

# The same judgement, read only (a dry run): a variant without a stock row counts as 0 on hand.
_FEED_JUDGE_SQL = """
WITH judged AS (
    SELECT f.line, v.sku, f.quantity, COALESCE(s.on_hand, 0) AS on_hand, COALESCE(s.allocated, 0) AS allocated
    FROM {feed} AS f JOIN catalog_variant AS v ON v.shop_id = %(shop_id)s AND v.sku = f.sku
    LEFT JOIN catalog_stock AS s ON s.variant_id = v.id
    WHERE {in_chunk}
)
SELECT
    count(*),
    count(*) FILTER (WHERE on_hand <> quantity),
    count(*) FILTER (WHERE on_hand <> quantity AND quantity >= allocated),
    (
        SELECT json_agg(json_build_array(c.line, c.sku, c.quantity, c.allocated) ORDER BY c.line)
        FROM (
            SELECT line, sku, quantity, allocated FROM judged
            WHERE on_hand <> quantity AND quantity < allocated ORDER BY line LIMIT %(report)s
        ) AS c
    )
FROM judged
"""

# A variant of the chunk without a stock row (rare) gets one with the feed's count (nothing can be
# allocated yet). Run only when some rows of the chunk were not locked (unknown SKUs, or this).
_FEED_CREATE_SQL = """
WITH missing AS (
    SELECT v.id, f.quantity
    FROM {feed} AS f JOIN catalog_variant AS v ON v.shop_id = %(shop_id)s AND v.sku = f.sku
    WHERE {in_chunk} AND NOT EXISTS (SELECT 1 FROM catalog_stock AS s WHERE s.variant_id = v.id)
),
created AS (
    INSERT INTO catalog_stock (variant_id, on_hand, allocated)
    SELECT id, quantity, 0 FROM missing
    ON CONFLICT (variant_id) DO NOTHING
    RETURNING variant_id, on_hand
)
SELECT (SELECT count(*) FROM missing), (SELECT array_agg(variant_id) FROM created WHERE on_hand <> 0)
"""


def stock_set_on_hand_from_feed(
    *, feed_table: str, shop_id: int, chunk: int | None, rows: int, dry_run: bool = False, report: int = 50
) -> FeedLevelsResult:
    """Set on-hand from one chunk (of `rows` rows) of a feed staged in `feed_table` (PostgreSQL only;
    see catalog.sync.staging) in one statement. Run it inside a transaction: the chunk's stock rows
    stay locked until it commits. A chunk naming a SKU twice is not applied (`repeated`; a dry run
    judges every row against the stored counts, so it does not mind). `chunk` None: the whole table. Same rules as `stock_set_on_hand_many`: a count below what is
    allocated is a conflict and left alone, an equal count is left untouched (a feed applied twice
    writes nothing), `dry_run` only reads."""
    params = {"shop_id": shop_id, "chunk": chunk, "report": report}
    in_chunk = "TRUE" if chunk is None else "f.chunk = %(chunk)s"
    with connection.cursor() as cursor:
        if dry_run:
            cursor.execute(_FEED_JUDGE_SQL.format(feed=feed_table, in_chunk=in_chunk), params)
            known, differing, updated, conflict_rows = cursor.fetchone()
            changed = []
        else:
            cursor.execute(_FEED_APPLY_SQL.format(feed=feed_table, in_chunk=in_chunk), params)
            repeated, known, differing, changed, conflict_rows = cursor.fetchone()
            if repeated:
                return FeedLevelsResult(repeated=True)
            changed = changed or []
            if known < rows:
                cursor.execute(_FEED_CREATE_SQL.format(feed=feed_table, in_chunk=in_chunk), params)
                missing, created = cursor.fetchone()
                known += missing
                changed += created or []
                differing += len(created or [])
            updated = len(changed)
    return FeedLevelsResult(
        known=known,
        updated=updated,
        unchanged=known - differing,
        conflicts=differing - updated,
        changed=changed,
        conflict_rows=[tuple(row) for row in conflict_rows or []],
    )
