"""Inventory sync against buyers in real threads, each on its own PostgreSQL connection, no mocks.

The sync locks a chunk's stock rows and judges each row as locked: an allocation that commits while
the sync waits for its row must be seen (the row becomes a conflict), never overwritten, and one that
rolls back must not stop the new count. Rows are committed (`transaction=True`) so the threads see
each other's locks.
"""

import io
import random
import threading
import time

import pytest
from django.db import connection, transaction

from catalog.exceptions import InsufficientStock
from catalog.models import InventorySyncRun, Stock
from catalog.stock import stock_allocate
from catalog.sync.services import inventory_sync_now
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


def sync(shop, text: str) -> InventorySyncRun:
    return inventory_sync_now(
        shop=shop, trigger=InventorySyncRun.Trigger.COMMAND, file=io.BytesIO(text.encode()), format="csv"
    )


def wait_until_a_backend_waits_for_a_lock(timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the sync never waited for the buyer's row lock")


def sync_while_a_buyer_holds_the_row(shop, variant, *, units: int, feed: str, commit: bool):
    """A buyer allocates `units` of `variant` in an open transaction; the sync starts and blocks on that
    row; then the buyer commits (or rolls back). Returns the finished run."""
    allocated, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def buyer():
        try:
            with transaction.atomic():
                stock_allocate(lines=[(variant.pk, units)])
                allocated.set()
                release.wait(30)
                if not commit:
                    transaction.set_rollback(True)
        finally:
            allocated.set()
            connection.close()

    def syncer():
        try:
            outcome["run"] = sync(shop, feed)
        except Exception as exc:  # noqa: BLE001 - asserted below
            outcome["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer)]
    threads[0].start()
    assert allocated.wait(30)
    threads.append(threading.Thread(target=syncer))
    threads[1].start()
    try:
        wait_until_a_backend_waits_for_a_lock()
    finally:
        release.set()
        for thread in threads:
            thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    return outcome["run"]


def test_an_allocation_committed_while_the_sync_waits_for_the_row_makes_it_a_conflict(shop):
    product = ProductFactory(shop=shop)
    first = VariantFactory(product=product, sku="RACE-1", on_hand=10)
    second = VariantFactory(product=product, sku="RACE-2", on_hand=10)

    run = sync_while_a_buyer_holds_the_row(
        shop, first, units=6, feed="sku,quantity\nRACE-1,3\nRACE-2,4\n", commit=True
    )

    assert run.status == InventorySyncRun.Status.SUCCEEDED, run.message
    assert (run.updated, run.unchanged, run.conflicts) == (1, 0, 1)
    assert run.errors == [
        {
            "line": 2,
            "message": "SKU 'RACE-1': 6 units are allocated to orders, so on hand cannot be set to 3; "
            "left unchanged",
        }
    ]
    assert Stock.objects.values_list("on_hand", "allocated").get(variant=first) == (10, 6)
    assert Stock.objects.values_list("on_hand", "allocated").get(variant=second) == (4, 0)


def test_an_allocation_rolled_back_while_the_sync_waits_does_not_stop_the_new_count(shop):
    variant = VariantFactory(product=ProductFactory(shop=shop), sku="RACE-1", on_hand=10)

    run = sync_while_a_buyer_holds_the_row(
        shop, variant, units=6, feed="sku,quantity\nRACE-1,3\n", commit=False
    )

    assert (run.status, run.updated, run.conflicts) == (InventorySyncRun.Status.SUCCEEDED, 1, 0)
    assert Stock.objects.values_list("on_hand", "allocated").get(variant=variant) == (3, 0)


def test_buyers_allocating_one_or_several_variants_during_a_sync_never_oversell_or_deadlock(shop, settings):
    settings.LIVEMARKET_SYNC_CHUNK_ROWS = 25  # several chunks, several transactions
    product = ProductFactory(shop=shop)
    variants = [VariantFactory(product=product, sku=f"R-{n:03d}", on_hand=5) for n in range(80)]
    ids = [v.pk for v in variants]
    wanted = {v.pk: (2 if n % 2 else 9) for n, v in enumerate(variants)}
    feed = "sku,quantity\n" + "".join(f"R-{n:03d},{wanted[v.pk]}\n" for n, v in enumerate(variants))
    sold: dict[int, int] = dict.fromkeys(ids, 0)
    lock = threading.Lock()

    def buyer(seed: int):
        def buy():
            rng = random.Random(seed)
            for _ in range(40):
                lines = [(variant_id, 1) for variant_id in rng.sample(ids, rng.choice((1, 1, 2, 3)))]
                try:
                    stock_allocate(lines=lines)
                except InsufficientStock:
                    continue
                with lock:
                    for variant_id, units in lines:
                        sold[variant_id] += units
            return "done"

        return buy

    outcomes = race([buyer(1), buyer(2), buyer(3), lambda: sync(shop, feed)])

    assert outcomes[:3] == ["done", "done", "done"], outcomes
    run = outcomes[3]
    assert isinstance(run, InventorySyncRun), run
    assert run.status == InventorySyncRun.Status.SUCCEEDED, run.message
    assert run.updated + run.unchanged + run.conflicts == run.rows_total == 80
    stock = dict(Stock.objects.filter(variant_id__in=ids).values_list("variant_id", "on_hand"))
    allocated = dict(Stock.objects.filter(variant_id__in=ids).values_list("variant_id", "allocated"))
    assert allocated == sold
    assert all(stock[i] >= allocated[i] for i in ids)
    # A row is at the feed's count, or it was a conflict and kept its count of 5.
    kept = [i for i in ids if stock[i] != wanted[i]]
    assert all(stock[i] == 5 for i in kept)
    assert len(kept) == run.conflicts
