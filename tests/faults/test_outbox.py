"""Redis (the broker) down while orders are placed: the jobs are kept in the outbox table, in the same
transaction as the order, and sent when Redis is back. Nothing is lost; nothing is half-written."""

import json

import pytest
import redis

from config.celery import app
from config.outbox import services as outbox_services
from config.outbox.models import OutboxMessage
from config.outbox.services import outbox_drain
from orders.models import Order
from tests.servers import free_port, start_redis, stop
from tests.shows.roomkit import checkout_one

pytestmark = pytest.mark.django_db(transaction=True)


def _reset_broker_connections() -> None:
    """Forget the app's pools, so the next publish uses the broker URL now set. (The pools are
    kombu's, shared per URL: closing them would break later tests using the same URL.)"""
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(settings, tmp_path):
    """A private Redis as the Celery broker, on a port where nothing answers until `start()`."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url, app.conf.task_always_eager = url, False
    outbox_services._broker_down_until = 0.0
    _reset_broker_connections()
    state = {"process": None}

    def start():
        state["process"] = start_redis(port=port, log=tmp_path / "redis.log")
        return redis.Redis(host="127.0.0.1", port=port)

    yield start
    _reset_broker_connections()
    app.conf.broker_url, app.conf.task_always_eager = saved
    stop(state["process"])


def test_jobs_of_an_order_placed_while_redis_is_down_are_sent_when_it_returns(broker, shopper, variant):
    order = checkout_one(shopper, variant.pk)  # the broker is unreachable: nothing may fail or be lost
    assert Order.objects.get(pk=order.pk).status == Order.Status.PAID
    waiting = sorted(OutboxMessage.objects.values_list("task", "args"))
    assert waiting == [
        ("orders.tasks.order_email_task", [order.pk, "confirmation"]),
        ("orders.tasks.order_fulfil_task", [order.pk]),
    ]
    # One failed try opens the breaker: the next job of this process doesn't wait on a dead broker.
    assert sum(OutboxMessage.objects.values_list("attempts", flat=True)) == 1

    assert outbox_drain() == 0  # still down: kept, not dropped
    assert OutboxMessage.objects.count() == 2

    client = broker()  # Redis is back
    assert outbox_drain() == 2
    assert OutboxMessage.objects.count() == 0
    queued = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    assert sorted(m["headers"]["task"] for m in queued) == [
        "orders.tasks.order_email_task",
        "orders.tasks.order_fulfil_task",
    ]


def test_with_redis_up_jobs_go_straight_to_the_broker(broker, shopper, variant):
    client = broker()
    order = checkout_one(shopper, variant.pk)
    assert not OutboxMessage.objects.exists()
    queued = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    fulfil = [m for m in queued if m["headers"]["task"] == "orders.tasks.order_fulfil_task"]
    assert len(fulfil) == 1 and str(order.pk) in fulfil[0]["headers"]["argsrepr"]
