"""A real Celery worker killed in the middle of the fulfilment job (slow: about 25 s).

The job (`order_fulfil_task`, acks_late) pauses inside its transaction
(LIVEMARKET_FULFILMENT_TEST_PAUSE); the worker is SIGKILLed there. Its transaction must roll back,
and Redis must hand the unacknowledged message to the next worker, which packs the order exactly once.

The worker runs `tests.celery_worker`, which reads the broker visibility timeout from
CELERY_VISIBILITY_TIMEOUT (config/settings has no such setting yet).
"""

import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from celery import Celery
from django.db import connection

import orders.tasks
from orders.models import Order, OrderEvent, Shipment
from orders.services import cart_add, cart_get_or_create, checkout_complete
from tests.catalog.factories import VariantFactory
from tests.shops.factories import UserFactory

PROJECT = Path(__file__).resolve().parents[2]
BROKER_URL = "redis://127.0.0.1:6379/13"
PAUSE_SECONDS = 6
VISIBILITY_TIMEOUT = 2


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(queue: str, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": _database_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "REDIS_URL": BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "LIVEMARKET_FULFILMENT_TEST_PAUSE": str(PAUSE_SECONDS),
    }
    env.pop("PYTEST_XDIST_WORKER", None)
    command = [
        str(PROJECT / ".venv/bin/celery"),
        "-A",
        "tests.celery_worker",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        queue,
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
        "-l",
        "info",
        "-n",
        f"{queue}-{log.stem}@%h",
    ]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - a fixed command line
            command, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)


def _wait_for(check, *, timeout: float, what: str, logs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs if p.exists())
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tails}")


def _received(log: Path) -> bool:
    """Celery logs "Received task ..." (older) or "Task <name>[<id>] received" (5.5+)."""
    text = log.read_text(errors="replace")
    return "Received task" in text or re.search(r"order_fulfil_task\[[^\]]+\] received", text) is not None


def _job_paused_inside_its_transaction() -> bool:
    """The worker's connection sits idle in a transaction right after creating the shipment."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'idle in transaction' "
            "AND query ILIKE '%%orders_shipment%%'"
        )
        return cursor.fetchone()[0] > 0


def _paid_order_with_fulfilment_not_yet_enqueued(monkeypatch) -> Order:
    enqueued = []
    # The suite's eager Celery would pack the order in-process on commit: record the enqueue instead.
    monkeypatch.setattr(orders.tasks, "order_fulfil_task", SimpleNamespace(delay_on_commit=enqueued.append))
    shopper = UserFactory()
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=VariantFactory(on_hand=3).pk, quantity=1)
    (order,) = checkout_complete(
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address={"full_name": "K", "line1": "1 Road", "city": "Town", "postal_code": "1", "country": "GB"},
        card_number="4242 4242 4242 4242",
    )
    assert enqueued == [order.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_fulfilment_rolls_back_and_the_next_worker_packs_the_order_once(
    monkeypatch, tmp_path
):
    order = _paid_order_with_fulfilment_not_yet_enqueued(monkeypatch)
    queue = f"lmtest-crash-{uuid.uuid4().hex[:10]}"
    producer = Celery("lmtest-producer", broker=BROKER_URL, set_as_current=False)
    producer.conf.task_serializer = "json"
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    workers = []
    try:
        workers.append(_start_worker(queue, first_log))
        producer.send_task("orders.tasks.order_fulfil_task", args=[order.pk], queue=queue)
        _wait_for(
            lambda: _received(first_log),
            timeout=30,
            what="the first worker to receive the job",
            logs=[first_log],
        )
        _wait_for(
            _job_paused_inside_its_transaction,
            timeout=15,
            what="the job to pause inside its transaction",
            logs=[first_log],
        )

        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=10)
        _wait_for(lambda: not _job_paused_inside_its_transaction(), timeout=10, what="the rollback")

        order.refresh_from_db()
        assert (order.status, order.shipment_id) == (Order.Status.PAID, None)
        assert not Shipment.objects.filter(user=order.user).exists()
        assert not order.events.filter(to_status=Order.Status.FULFILLING).exists()

        workers.append(_start_worker(queue, second_log))
        _wait_for(
            lambda: Order.objects.filter(pk=order.pk, status=Order.Status.FULFILLING).exists(),
            timeout=60,
            what="the redelivered job to pack the order",
            logs=[first_log, second_log],
        )
        _wait_for(
            lambda: "succeeded" in second_log.read_text(errors="replace"),
            timeout=15,
            what="the second worker to finish and ack the job",
            logs=[second_log],
        )
    finally:
        for worker in workers:
            _stop(worker)
        broker = redis.Redis.from_url(BROKER_URL)
        broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        broker.zrem("_kombu.binding_deadlines", queue)

    order.refresh_from_db()
    shipment = Shipment.objects.get(user=order.user)  # exactly one
    assert order.shipment_id == shipment.pk
    assert order.number in shipment.packing_slip
    packed = OrderEvent.objects.filter(
        order=order, from_status=Order.Status.PAID, to_status=Order.Status.FULFILLING
    )
    assert packed.count() == 1
    assert packed.get().actor_label == "system"
