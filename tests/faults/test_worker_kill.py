"""Celery workers killed with SIGKILL in the middle of a job; each job completes exactly once after a
restart (slow: 20-40 s each).

Real worker processes (`celery -A tests.celery_worker worker --pool=solo`) run on the test database
with a private Redis as their broker. A job is stopped at a known spot by a fault point
(config/faults.py: LIVEMARKET_FAULT_POINTS makes the job write a marker file and sleep there), and the
worker's whole process group is SIGKILLed once the marker appears. What brings the job back is what
production relies on:
- every task is `acks_late`, so the killed worker's message stays unacknowledged in Redis and is
  handed to the next worker after the visibility timeout (2 h in production, 2 s here through
  CELERY_VISIBILITY_TIMEOUT; tests/celery_worker.py looks for such messages every second);
- the beat sweepers re-drive work whose message is gone or was a no-op: `show-timers-sweep` closes
  due lots and charges lots awaiting payment for more than a minute, `stock-feeds-sync` marks a run
  whose worker died as abandoned (after STALE_RUN) and starts the feed's next run,
  `redrive-stuck-fulfilment` packs paid orders nobody packed. The test sends those beat tasks itself,
  and moves the clock by updating timestamps where the sweeper waits for time to pass;
- the jobs are idempotent, so a redelivered message and a sweeper doing the same work change nothing
  the second time.
"""

import signal
import threading
import time
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from celery import Celery
from django.db.models import F
from django.utils import timezone

import orders.tasks
from catalog.models import InventorySyncRun, Stock, StockFeed
from catalog.sync.services import STALE_RUN, inventory_sync_run_create
from orders.models import Order, OrderEvent, Payment, Shipment
from orders.payments.test_gateway import Ledger
from shows.auctions import _lot_order_key, bid_place
from shows.models import Lot
from shows.reconcile import stock_reconcile
from shows.services import show_create, show_go_live
from tests.catalog.factories import ProductFactory, VariantFactory, variants_bulk_insert
from tests.servers import free_port, start_redis, start_worker, stop, wait_for
from tests.shops.factories import UserFactory
from tests.shows.roomkit import checkout_one
from tests.shows.test_auctions import expire, make_bidder, start

pytestmark = pytest.mark.django_db(transaction=True)

VISIBILITY_TIMEOUT = 2


class Workers:
    """Worker processes on a private Redis; each can be told to pause at one fault point."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.markers = tmp_path / "markers"
        self.markers.mkdir()
        port = free_port()
        self.redis_process = start_redis(port=port, log=tmp_path / "redis.log")
        self.url = f"redis://127.0.0.1:{port}/0"
        self.redis = redis.Redis.from_url(self.url)
        self.producer = Celery("lmtest-faults-producer", broker=self.url, set_as_current=False)
        self.producer.conf.task_serializer = "json"
        self.processes = []
        self.logs: list[Path] = []

    def start(self, *, pause_at: str = ""):
        n = len(self.processes) + 1
        log = self.tmp_path / f"worker{n}.log"
        process = start_worker(
            name=f"faults{n}-{uuid.uuid4().hex[:8]}",
            log=log,
            redis_url=self.url,
            extra_env={
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "LIVEMARKET_FAULT_POINTS": pause_at,
                "LIVEMARKET_FAULT_MARKER_DIR": str(self.markers),
                "LIVEMARKET_FAULT_PAUSE_SECONDS": "90",
                "LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS": "true",
                "LIVEMARKET_SYNC_CHUNK_ROWS": "1000",  # several chunks, so a kill lands between two
            },
        )
        self.processes.append(process)
        self.logs.append(log)
        return process

    def send(self, task: str, *args) -> None:
        self.producer.send_task(task, args=list(args))

    def kill_at(self, process, point: str, *, timeout: float = 60) -> None:
        """Wait until the job reaches `point` (its marker file appears), then SIGKILL the worker's group."""
        marker = self.markers / point
        wait_for(
            marker.exists, timeout=timeout, what=f"a job to reach the fault point {point}", logs=self.logs
        )
        stop(process, sig=signal.SIGKILL)
        marker.unlink()

    def drained(self) -> bool:
        """Nothing waiting in the queue and nothing taken but unacknowledged."""
        return self.redis.llen("celery") == 0 and self.redis.hlen("unacked") == 0

    def wait_drained(self) -> None:
        for _ in range(2):  # twice, apart: a message moves from the queue to `unacked` in two steps
            wait_for(self.drained, timeout=60, what="the workers to finish every job", logs=self.logs)
            time.sleep(0.5)

    def close(self) -> None:
        for process in self.processes:
            stop(process, sig=signal.SIGKILL)
        self.producer.close()
        self.redis.close()
        stop(self.redis_process)


@pytest.fixture
def workers(tmp_path):
    pool = Workers(tmp_path)
    try:
        yield pool
    finally:
        pool.close()


# --- Fulfilment ------------------------------------------------------------------------------------


def _paid_order_with_fulfilment_not_yet_enqueued(monkeypatch) -> Order:
    enqueued = []
    # The suite's eager Celery would pack the order in-process on commit: record the enqueue instead.
    monkeypatch.setattr(orders.tasks, "order_fulfil_task", SimpleNamespace(delay_on_commit=enqueued.append))
    order = checkout_one(UserFactory(), VariantFactory(on_hand=3).pk)
    assert enqueued == [order.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


def test_worker_killed_mid_fulfilment_rolls_back_and_the_next_worker_packs_the_order_once(
    monkeypatch, workers
):
    order = _paid_order_with_fulfilment_not_yet_enqueued(monkeypatch)
    first = workers.start(pause_at="order_fulfil")
    workers.send("orders.tasks.order_fulfil_task", order.pk)
    workers.kill_at(first, "order_fulfil")  # inside the job's transaction, the shipment just created

    wait_for(lambda: not Shipment.objects.filter(user=order.user).exists(), timeout=10, what="the rollback")
    order.refresh_from_db()
    assert (order.status, order.shipment_id) == (Order.Status.PAID, None)
    assert not order.events.filter(to_status=Order.Status.FULFILLING).exists()

    workers.start()  # the unacknowledged message comes back to it
    wait_for(
        lambda: Order.objects.filter(pk=order.pk, status=Order.Status.FULFILLING).exists(),
        timeout=60,
        what="the redelivered job to pack the order",
        logs=workers.logs,
    )
    workers.send("orders.tasks.redrive_stuck_fulfilment_task")  # beat's re-drive finds nothing to do
    workers.wait_drained()

    order.refresh_from_db()
    shipment = Shipment.objects.get(user=order.user)  # exactly one
    assert order.shipment_id == shipment.pk
    assert order.number in shipment.packing_slip
    packed = OrderEvent.objects.filter(order=order, to_status=Order.Status.FULFILLING)
    assert [(e.from_status, e.actor_label) for e in packed] == [(Order.Status.PAID, "system")]


# --- Inventory sync --------------------------------------------------------------------------------

FEED_ROWS = 2500  # three batches of at most 1,000 rows


class _Feed(BaseHTTPRequestHandler):
    body = b"sku,quantity\n" + b"".join(f"BULK-{n:06d},{10 + n % 7}\n".encode() for n in range(FEED_ROWS))

    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/stock.csv"
    server.shutdown()
    server.server_close()


def _rows_at_feed_values(shop) -> int:
    """Stock rows whose on-hand is what the feed says (10 + n % 7; before the sync it was n % 3)."""
    return (
        Stock.objects.filter(variant__shop=shop)
        .extra(where=["on_hand = 10 + catalog_variant.position %% 7"])  # noqa: S610 - a fixed clause
        .count()
    )


def test_worker_killed_mid_inventory_sync_the_run_is_abandoned_and_the_next_run_applies_the_feed(
    shop, feed_url, workers
):
    variants_bulk_insert(shop, FEED_ROWS)
    feed = StockFeed.objects.create(shop=shop, source=StockFeed.Source.URL, url=feed_url, interval_minutes=30)
    run = inventory_sync_run_create(shop=shop, feed=feed, trigger=InventorySyncRun.Trigger.SCHEDULE)

    first = workers.start(pause_at="inventory_sync_batch")
    workers.send("catalog.tasks.inventory_sync_task", run.pk)
    workers.kill_at(first, "inventory_sync_batch")  # the first batch committed, two to go

    run.refresh_from_db()
    assert (run.status, run.updated) == (InventorySyncRun.Status.RUNNING, 1000)
    assert _rows_at_feed_values(shop) == 1000  # whole batches only

    workers.start()
    # The redelivered message finds the run claimed (running, not yet stale) and does nothing.
    wait_for(
        lambda: "succeeded" in workers.logs[1].read_text() and workers.drained(),
        timeout=60,
        what="the redelivered sync job",
        logs=workers.logs,
    )
    run.refresh_from_db()
    assert run.status == InventorySyncRun.Status.RUNNING and _rows_at_feed_values(shop) == 1000

    # Time passes: past STALE_RUN the stock-feeds-sync beat job gives the run up and, the feed being
    # due again, starts a fresh run.
    InventorySyncRun.objects.filter(pk=run.pk).update(
        created_at=F("created_at") - STALE_RUN - timedelta(minutes=1),
        started_at=F("started_at") - STALE_RUN - timedelta(minutes=1),
    )
    workers.send("catalog.tasks.stock_feeds_sync_due_task")
    wait_for(
        lambda: feed.runs.filter(status=InventorySyncRun.Status.SUCCEEDED).exists(),
        timeout=60,
        what="the next run to succeed",
        logs=workers.logs,
    )
    workers.wait_drained()

    killed, fresh = feed.runs.order_by("pk")  # exactly two runs
    assert killed.pk == run.pk
    assert killed.status == InventorySyncRun.Status.FAILED and killed.message.startswith("Abandoned")
    assert (fresh.status, fresh.trigger) == (
        InventorySyncRun.Status.SUCCEEDED,
        InventorySyncRun.Trigger.SCHEDULE,
    )
    assert (fresh.rows_total, fresh.updated, fresh.unchanged, fresh.conflicts) == (FEED_ROWS, 1500, 1000, 0)
    assert _rows_at_feed_values(shop) == FEED_ROWS  # every row exactly the feed's
    assert not Stock.objects.filter(variant__shop=shop, allocated__gt=0).exists()


# --- Auction close and charge ----------------------------------------------------------------------


@pytest.fixture
def won_lot(shop, merchant):
    item = VariantFactory(product=ProductFactory(shop=shop, title="Test pressing"), price="80.00", on_hand=3)
    show = show_go_live(
        show=show_create(
            shop=shop, title="Auction night", scheduled_start=timezone.now(), products=[item.product]
        )
    )
    lot = start(show, merchant, item)
    bidder = make_bidder("winner")
    bid_place(show=show, user=bidder, lot_id=lot.pk, amount="25.00")
    expire(lot)  # its time is up: the close job may close it
    return SimpleNamespace(lot=lot, item=item, bidder=bidder)


def test_workers_killed_mid_close_and_mid_charge_the_lot_gets_one_order_and_one_charge(won_lot, workers):
    lot, bidder = won_lot.lot, won_lot.bidder

    first = workers.start(pause_at="lot_close")
    workers.send("shows.tasks.lot_close_task", lot.pk)
    workers.kill_at(first, "lot_close")  # the order was written, the close not committed
    wait_for(
        lambda: (
            Lot.objects.filter(pk=lot.pk, status=Lot.Status.OPEN).exists()
            and not Order.objects.filter(user=bidder).exists()
        ),
        timeout=10,
        what="the close to roll back",
    )

    second = workers.start(pause_at="saved_card_captured")
    workers.send("shows.tasks.show_timers_sweep_task")  # beat's sweeper; the redelivered close races it
    workers.kill_at(second, "saved_card_captured")  # the gateway captured; nothing recorded yet
    lot.refresh_from_db()
    order = Order.objects.get(user=bidder)
    assert (lot.status, lot.order_id, order.status) == (
        Lot.Status.AWAITING_PAYMENT,
        order.pk,
        Order.Status.PENDING_PAYMENT,
    )
    # The attempt was recorded before the gateway was called; its outcome was not.
    assert list(Payment.objects.filter(order=order).values_list("status", flat=True)) == ["pending"]

    # A minute later beat's payment recovery asks the gateway about the open attempt and the sweeper
    # re-drives the charge; the redelivered charge job races them.
    Lot.objects.filter(pk=lot.pk).update(closed_at=F("closed_at") - timedelta(seconds=61))
    Payment.objects.filter(order=order).update(created_at=F("created_at") - timedelta(seconds=61))
    workers.start()
    workers.send("orders.tasks.payments_recover_task")
    workers.send("shows.tasks.show_timers_sweep_task")
    wait_for(
        lambda: Lot.objects.filter(pk=lot.pk, status=Lot.Status.PAID).exists(),
        timeout=60,
        what="the lot to be paid",
        logs=workers.logs,
    )
    workers.wait_drained()

    lot.refresh_from_db()
    (order,) = Order.objects.filter(user=bidder)
    assert order.checkout_key == _lot_order_key(lot, bidder.pk) and lot.order_id == order.pk
    assert order.total == lot.winning_price + order.shipping_total
    (payment,) = Payment.objects.filter(order=order)
    assert (payment.status, payment.amount, payment.idempotency_key) == (
        Payment.Status.CAPTURED,
        order.total,
        f"{order.number}-pay-1",  # the one attempt, settled from the gateway's record of its key
    )
    # The gateway took the money once, under that key, with a reference nobody can predict.
    (charge,) = Ledger().authorizations(key_prefix=f"{order.number}-pay-")
    assert (charge["status"], charge["reference"]) == ("captured", payment.reference)
    moves = OrderEvent.objects.filter(order=order).exclude(from_status=F("to_status"))
    assert [(e.from_status, e.to_status) for e in moves.order_by("pk")] == [
        (Order.Status.PENDING_PAYMENT, Order.Status.PAID),
        (Order.Status.PAID, Order.Status.FULFILLING),  # the fulfilment job it enqueued packed it once
    ]
    assert stock_reconcile().drift == []
    assert Stock.objects.get(variant=won_lot.item).allocated == lot.quantity
