"""A 100,000-row feed: every row lands, and memory stays bounded (measured with tracemalloc).

The variants are inserted by SQL (making 100,000 through the services would take minutes); the sync
itself runs through the real service, parser and stock module. The feed is a real file on disk,
written row by row, so the test's own data never sits in memory while it is measured.
"""

import tracemalloc

import pytest

from catalog.models import InventorySyncRun, Stock, Variant
from catalog.stock import stock_allocate
from catalog.sync.services import inventory_sync_now
from tests.catalog.factories import variants_bulk_insert

ROWS = 100_000
PEAK_LIMIT_MB = 8  # holding the rows alone (100k SKUs + FeedRows) would take far more than this


@pytest.mark.django_db
def test_a_100k_row_feed_is_applied_correctly_in_bounded_memory(shop, tmp_path):
    variants_bulk_insert(shop, ROWS)
    first = Variant.objects.get(sku="BULK-000000")
    Stock.objects.filter(variant=first).update(on_hand=1)
    stock_allocate(lines=[(first.pk, 1)])  # allocated 1 > what the feed will say (0): a conflict
    feed = tmp_path / "feed.csv"
    with feed.open("w") as out:
        out.write("sku,quantity\n")
        for n in range(ROWS):
            out.write(f"BULK-{n:06d},{n % 7}\n")
        out.write("NOT-OURS,4\n")

    tracemalloc.start()
    try:
        with feed.open("rb") as handle:
            run = inventory_sync_now(
                shop=shop, trigger=InventorySyncRun.Trigger.COMMAND, file=handle, format="csv"
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert run.status == InventorySyncRun.Status.SUCCEEDED, run.message
    assert run.rows_total == ROWS + 1
    assert (run.unknown_sku, run.conflicts, run.invalid) == (1, 1, 0)
    # n % 3 == n % 7 exactly when n % 21 < 3: those rows are unchanged.
    unchanged = sum(1 for n in range(1, ROWS) if n % 3 == n % 7)
    assert (run.unchanged, run.updated) == (unchanged, ROWS - 1 - unchanged)
    assert run.errors[0] == {
        "line": 2,
        "message": "SKU 'BULK-000000': 1 units are allocated to orders, so on hand cannot be set to 0; "
        "left unchanged",
    }
    assert run.errors[1] == {"line": ROWS + 2, "message": "unknown SKU 'NOT-OURS'"}
    wrong = Stock.objects.filter(variant__shop=shop, variant__position__gt=0).extra(
        where=["on_hand <> catalog_variant.position %% 7"]
    )
    assert wrong.count() == 0
    assert peak < PEAK_LIMIT_MB * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
