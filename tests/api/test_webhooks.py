"""Webhooks out against a real receiver on loopback: signed bodies, retries with exponential backoff,
the attempt log, replay from the admin, and the four events emitted by the services."""

import http.server
import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from orders.services import order_ship
from shops.models import WebhookDelivery
from shops.tasks import webhook_deliveries_sweep_task
from shops.webhooks import (
    SIGNATURE_HEADER,
    UnsafeDestination,
    _check_destination,
    webhook_delivery_attempt,
    webhook_endpoint_create,
    webhook_event_emit,
    webhook_signature_verify,
)
from shows.services import show_create, show_end, show_go_live
from tests.api.conftest import assert_error, place_order

pytestmark = pytest.mark.django_db


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers with the next queued status."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def receiver(settings):
    settings.LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK = True
    settings.LIVEMARKET_WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.LIVEMARKET_WEBHOOK_MAX_ATTEMPTS = 4
    server = Receiver()
    yield server
    server.close()


def _make_due(delivery_id: int) -> None:
    """Move the clock: the next attempt is due now (instead of sleeping through the backoff)."""
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_order_paid_arrives_signed_and_the_signature_verifies(
    receiver, shop, variant, shopper, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(shop=shop, url=receiver.url, events=["order.paid"])
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(shopper, variant, quantity=2)
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    assert headers["Livemarket-Event"] == "order.paid"
    assert headers["Content-Type"] == "application/json"
    assert webhook_signature_verify(secret=endpoint.secret, header=headers[SIGNATURE_HEADER], body=body)
    payload = json.loads(body)
    assert payload["type"] == "order.paid" and payload["id"] == headers["Livemarket-Event-Id"]
    assert payload["data"]["order"]["number"] == order.number
    assert payload["data"]["order"]["lines"][0]["quantity"] == 2
    assert payload["data"]["order"]["total"] == str(order.total)
    # A receiver must refuse a forged body, another secret, and a stale timestamp.
    assert not webhook_signature_verify(
        secret=endpoint.secret, header=headers[SIGNATURE_HEADER], body=body + b" "
    )
    assert not webhook_signature_verify(secret="whsec_other", header=headers[SIGNATURE_HEADER], body=body)
    assert not webhook_signature_verify(
        secret=endpoint.secret, header=headers[SIGNATURE_HEADER], body=body, now=time.time() + 3600
    )
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 1, 200)
    assert delivery.attempt_log[0]["status_code"] == 200


def test_failures_are_retried_with_exponential_backoff_until_delivered(
    receiver, shop, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(shop=shop, url=receiver.url, events=["show.live"])
    receiver.statuses = [500, 503]
    with django_capture_on_commit_callbacks(execute=True):
        show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < wait <= timedelta(seconds=30)

    assert webhook_delivery_attempt(delivery_id=delivery.pk) == ("skipped", None)  # not due yet
    _make_due(delivery.pk)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == ("retry", timedelta(seconds=60))
    _make_due(delivery.pk)
    assert webhook_delivery_attempt(delivery_id=delivery.pk) == ("succeeded", None)

    delivery.refresh_from_db()
    assert [a["status_code"] for a in delivery.attempt_log] == [500, 503, 200]
    assert delivery.status == "succeeded" and delivery.delivered_at is not None
    event_ids = {r["headers"]["Livemarket-Event-Id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(event_ids) == 1
    for request in receiver.requests:
        assert webhook_signature_verify(
            secret=endpoint.secret, header=request["headers"][SIGNATURE_HEADER], body=request["body"]
        )


def test_gives_up_after_the_last_attempt(receiver, shop):
    webhook_endpoint_create(shop=shop, url=receiver.url, events=["show.live"])
    receiver.statuses = [500] * 10
    show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
    delivery = WebhookDelivery.objects.get()
    delays = []
    for _ in range(4):
        _make_due(delivery.pk)
        delays.append(webhook_delivery_attempt(delivery_id=delivery.pk))
    assert delays == [
        ("retry", timedelta(seconds=30)),
        ("retry", timedelta(seconds=60)),
        ("retry", timedelta(seconds=120)),
        ("failed", None),
    ]
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.next_attempt_at is None and delivery.attempts == 4


def test_an_unreachable_receiver_is_logged_and_retried(receiver, shop, settings):
    dead = Receiver()
    url = dead.url
    dead.close()
    webhook_endpoint_create(shop=shop, url=url, events=["show.live"])
    show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
    delivery = WebhookDelivery.objects.get()
    _make_due(delivery.pk)
    outcome, delay = webhook_delivery_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert outcome == "retry" and delay == timedelta(seconds=30)
    assert delivery.last_status_code is None and delivery.last_error


def test_replay_from_the_admin_sends_the_same_event_again(
    receiver, client, shop, merchant, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(shop=shop, url=receiver.url, events=["show.live"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", next_attempt_at=None)
    client.force_login(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:shops_webhookdelivery_changelist"),
            {"action": "replay", "_selected_action": [delivery.pk]},
        )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "succeeded"
    assert any("replayed_at" in entry for entry in delivery.attempt_log)
    first, second = receiver.requests
    assert first["headers"]["Livemarket-Event-Id"] == second["headers"]["Livemarket-Event-Id"]


def test_replay_through_the_api(receiver, api, shop, django_capture_on_commit_callbacks):
    webhook_endpoint_create(shop=shop, url=receiver.url, events=["show.live"])
    receiver.statuses = [500]
    with django_capture_on_commit_callbacks(execute=True):
        show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
    delivery = WebhookDelivery.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        replayed = api.post(f"/api/v1/merchant/webhook-deliveries/{delivery.pk}/replay/")
    assert replayed.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and len(receiver.requests) == 2


def test_the_four_events_come_from_the_services(
    receiver, shop, variant, shopper, merchant, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(
        shop=shop, url=receiver.url, events=["order.paid", "order.shipped", "show.live", "show.ended"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        show = show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
        order = place_order(shopper, variant, show_id=show.pk)
        order_ship(order=order, actor=merchant, carrier="UPS", tracking_number="1Z42")
        show_end(show=show, user=merchant)
    kinds = [json.loads(r["body"])["type"] for r in receiver.requests]
    assert kinds == ["show.live", "order.paid", "order.shipped", "show.ended"]
    shipped = json.loads(receiver.requests[2]["body"])["data"]["order"]
    assert shipped["shipment"]["tracking_number"] == "1Z42" and shipped["status"] == "shipped"
    ended = json.loads(receiver.requests[3]["body"])["data"]["show"]
    assert ended["id"] == show.pk and ended["status"] == "ended"


def test_only_subscribed_active_endpoints_of_the_shop_hear_and_a_rollback_sends_nothing(
    receiver, shop, other_shop
):
    webhook_endpoint_create(shop=shop, url=receiver.url, events=["order.paid"])
    webhook_endpoint_create(shop=shop, url=receiver.url, events=["show.live"], is_active=False)
    webhook_endpoint_create(shop=other_shop, url=receiver.url, events=["show.live"])
    assert webhook_event_emit(shop_id=shop.pk, event="show.live", data={}) == []
    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_event_emit(shop_id=other_shop.pk, event="show.live", data={"x": 1})
        raise RuntimeError("rolled back")
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_due_deliveries_are_swept_up(receiver, shop):
    webhook_endpoint_create(shop=shop, url=receiver.url, events=["show.live"])
    show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))  # task never ran
    assert receiver.requests == []
    assert webhook_deliveries_sweep_task() == 1
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert webhook_deliveries_sweep_task() == 0


def test_endpoints_must_be_https(api, settings):
    settings.LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK = False
    for url in (
        "http://example.com/hook",
        "http://127.0.0.1:9/hook",
        "ftp://example.com/",
        "https://u:p@example.com/",
    ):
        body = assert_error(
            api.post(
                "/api/v1/merchant/webhook-endpoints/", {"url": url, "events": ["order.paid"]}, format="json"
            ),
            400,
        )
        assert "url" in body["fields"], url
    created = api.post(
        "/api/v1/merchant/webhook-endpoints/",
        {"url": "https://example.com/hook", "events": ["order.paid"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    assert_error(
        api.post(
            "/api/v1/merchant/webhook-endpoints/",
            {"url": "https://example.com/h", "events": ["nope"]},
            format="json",
        ),
        400,
    )


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "192.168.1.10", "172.16.0.5", "169.254.169.254", "127.0.0.1", "::1", "0.0.0.0"],  # noqa: S104
)
def test_deliveries_never_go_to_internal_addresses(settings, address):
    settings.LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(UnsafeDestination):
        _check_destination(address, 443)


PUBLIC = "93.184.215.14"  # a global address: the check passes it


def rebinding_dns(monkeypatch) -> tuple[list[str], list[tuple]]:
    """A resolver that answers a public address first and 127.0.0.1 after (DNS rebinding), and a
    connect that records where it was sent and refuses: (the names looked up, the connect targets)."""
    lookups, connects = [], []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        address = PUBLIC if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    def create_connection(address, *args, **kwargs):
        connects.append(tuple(address[:2]))
        raise ConnectionRefusedError("refused by the test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return lookups, connects


def test_a_delivery_connects_to_the_address_that_was_checked_not_a_rebound_one(shop, settings, monkeypatch):
    settings.LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK = False
    webhook_endpoint_create(shop=shop, url="https://hooks.example.test/in", events=["show.live"])
    show_go_live(show=show_create(shop=shop, title="Live", scheduled_start=timezone.now()))
    delivery = WebhookDelivery.objects.get()
    _make_due(delivery.pk)
    lookups, connects = rebinding_dns(monkeypatch)

    outcome, _ = webhook_delivery_attempt(delivery_id=delivery.pk)

    assert connects == [(PUBLIC, 443)]  # the checked address, never the name again (-> 127.0.0.1)
    assert lookups == ["hooks.example.test"]
    delivery.refresh_from_db()
    assert outcome == "retry" and "refused by the test" in delivery.last_error
