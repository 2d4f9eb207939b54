"""On PostgreSQL a feed is staged in a temporary table with COPY, then applied chunk by chunk with one
set-based statement each (catalog.stock.stock_set_on_hand_from_feed).

The table lives in this database session only (other sessions never see it). It is made before the
check pass and dropped when the run ends, whatever happens; a table left over by a run whose drop
failed on a pooled connection is replaced by the next run. Staging writes no real data: a feed that
fails its check changes nothing.

Rows are split into chunks of `chunk_rows` valid rows in file order. A chunk that names a SKU twice
(found when it is applied) is split by `feed_stage_split` into parts that do not, applied in order, so
a repeated SKU ends at its last line. Nothing of the feed is kept in Python's memory.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction

from .feeds import Record

logger = logging.getLogger(__name__)

TABLE = "lm_inventory_feed"


@contextmanager
def feed_stage() -> Iterator[str]:
    """A fresh, empty staging table for this session; yields its name and drops it at the end."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TABLE} "
            "(chunk integer NOT NULL, line integer NOT NULL, sku text NOT NULL, quantity integer NOT NULL)"
        )
    try:
        yield TABLE
    finally:
        if not connection.needs_rollback:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{TABLE}")
            except DatabaseError:  # the connection broke: the session and its table are gone with it
                logger.warning("could not drop the staging table %s", TABLE, exc_info=True)


def feed_stage_load(
    records: Iterator[Record],
    *,
    chunk_rows: int,
    on_invalid: Callable[[int, str], None],
    on_rows: Callable[[int], None],
) -> list[int]:
    """COPY the valid rows of `records` into the staging table, reporting each invalid one to
    `on_invalid(line, message)` and the rows read to `on_rows(count)`, 1,000 at a time.
    Returns the number of valid rows in each chunk (chunk numbers are the list's indexes).

    A structural error (StockFeedError) raised by `records` ends the COPY and propagates; what was
    staged is rolled back with it."""
    sizes: list[int] = []
    read = 0
    valid = chunk_rows  # rows in the current chunk; a full one starts the next
    connection.ensure_connection()
    with (
        transaction.atomic(),
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {TABLE} (chunk, line, sku, quantity) FROM STDIN") as copy,
    ):
        write = copy.write_row
        chunk = -1
        for line, sku, quantity, error in records:
            read += 1
            if read == 1000:
                on_rows(read)
                read = 0
            if error is not None:
                on_invalid(line, error)
                continue
            if valid == chunk_rows:
                chunk, valid = chunk + 1, 0
                sizes.append(0)
            valid += 1
            sizes[chunk] += 1
            write((chunk, line, sku, quantity))
    if len(sizes) > 1:  # one chunk is the whole table, which the planner sizes from its pages
        with connection.cursor() as cursor:
            # Statistics, so the planner knows a chunk's size (hash joins for a big one); an index, so a
            # chunk is found without reading the others (rows are stored in chunk order: BRIN suffices).
            cursor.execute(f"ANALYZE {TABLE}")
            cursor.execute(f"CREATE INDEX ON {TABLE} USING brin (chunk)")
    on_rows(read)
    return sizes


def feed_stage_split(*, chunk: int, first: int) -> list[int]:
    """Split a chunk that names a SKU twice into chunks first, first + 1, ...: the first line of every
    SKU, then the second, and so on, so applying them in order applies each SKU in file order. Returns
    the new chunks' row counts."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} AS f SET chunk = %s + r.repeat FROM ("  # noqa: S608 - a constant
            f"  SELECT line, row_number() OVER (PARTITION BY sku ORDER BY line) - 1 AS repeat"
            f"  FROM {TABLE} WHERE chunk = %s"
            ") AS r WHERE f.chunk = %s AND f.line = r.line",
            [first, chunk, chunk],
        )
        cursor.execute(
            f"SELECT count(*) FROM {TABLE} WHERE chunk >= %s GROUP BY chunk ORDER BY chunk",  # noqa: S608
            [first],
        )
        return [count for (count,) in cursor.fetchall()]


def feed_stage_unknown_skus(*, shop_id: int, chunk: int, limit: int) -> list[tuple[int, str]]:
    """(line, sku) of the first `limit` rows of a chunk whose SKU is not the shop's."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.line, f.sku FROM {TABLE} AS f WHERE f.chunk = %s AND NOT EXISTS "  # noqa: S608 - a constant
            "(SELECT 1 FROM catalog_variant AS v WHERE v.shop_id = %s AND v.sku = f.sku) "
            "ORDER BY f.line LIMIT %s",
            [chunk, shop_id, limit],
        )
        return cursor.fetchall()
