"""A show driven through the production topology on loopback (deploy/cluster.py, `make cluster`):
nginx in front of two uvicorn processes, two Celery workers and beat, production settings, a private
Redis. Viewers on different ASGI processes get the host's events; a buy-now order placed through nginx
is paid and then packed by a Celery worker."""

import asyncio
import json
import re
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone

from orders.models import Order
from orders.services import shipping_method_create
from shows.services import show_create
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.servers import consecutive_free_ports, database_url, free_port, start_redis, stop
from tests.shops.factories import ShopFactory, UserFactory

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from deploy.cluster import Cluster  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "cluster-pass-123"


@pytest.fixture
def cluster(tmp_path):
    redis_port = free_port()
    redis_process = start_redis(port=redis_port, log=tmp_path / "redis.log")
    topology = Cluster(
        workdir=tmp_path / "cluster",
        database_url=database_url(),
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        port=consecutive_free_ports(3),  # fresh random secrets: production refuses the defaults
    )
    try:
        topology.start()
        yield topology
    finally:
        topology.stop()
        stop(redis_process)


def _person(username: str):
    user = UserFactory(username=username, email=f"{username}@example.test")
    # Hashed as production does (the test settings use a fast hasher production doesn't accept).
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt(), iterations=1000)
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _login(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=20)
    page = client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/accounts/login/",
        data={"login": email, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    errors = re.findall(r"<li>([^<]+)</li>", response.text.split("<form", 1)[-1])[:5]
    assert response.status_code == 302, errors
    return client


async def _socket(base: str, show_id: int, client: httpx.Client | None = None):
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items()) if client else ""
    headers = {"Origin": base, **({"Cookie": cookie} if cookie else {})}
    ws = await websockets.connect(
        f"{base.replace('http', 'ws')}/ws/shows/{show_id}/", additional_headers=headers
    )
    await _next(ws, "deal")  # the last frame of the on-connect state
    return ws


async def _next(ws, wanted: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=deadline - time.monotonic()))
        for event in frame.get("events", [frame]) if frame.get("type") == "batch" else [frame]:
            if event.get("type") == "error":
                raise AssertionError(f"the room refused: {event}")
            if event.get("type") == wanted:
                return event
    raise AssertionError(f"no {wanted} event")


def test_a_show_runs_through_nginx_two_asgi_processes_and_celery_workers(cluster):
    merchant, shopper = _person("host"), _person("buyer")
    shop = ShopFactory(owner=merchant, slug="cluster-shop")
    shipping_method_create(shop=shop, name="Tracked", price="4.00")
    product = ProductFactory(shop=shop, title="Cluster LP")
    variant = VariantFactory(product=product, sku="CL-1", price="20.00", on_hand=5)
    show = show_create(shop=shop, title="Cluster show", scheduled_start=timezone.now(), products=[product])
    base = cluster.url

    static = httpx.get(f"{base}/static/css/livemarket.css")
    assert static.status_code == 200 and static.headers["server"].startswith("nginx")

    host_http, buyer_http = _login(base, merchant.email), _login(base, shopper.email)

    async def room() -> dict:
        host = await _socket(base, show.pk, host_http)
        viewers = [await _socket(base, show.pk) for _ in range(3)]  # least_conn spreads them over both
        try:
            await host.send(json.dumps({"action": "go_live"}))
            for ws in [host, *viewers]:
                assert (await _next(ws, "status"))["status"] == "live"
            await host.send(json.dumps({"action": "pin", "product_id": product.pk}))
            pins = [await _next(ws, "pinned") for ws in viewers]
            await host.send(json.dumps({"action": "chat", "text": "hello cluster"}))
            chats = [await _next(ws, "chat") for ws in viewers]
            counts = []
            for ws in viewers:
                event = await _next(ws, "viewers")
                counts.append(event["count"])
            return {"pins": pins, "chats": chats, "counts": counts}
        finally:
            for ws in [host, *viewers]:
                await ws.close()

    seen = asyncio.run(room())
    assert all(p["product"] and p["product"]["id"] == product.pk for p in seen["pins"])
    assert all(c["text"] == "hello cluster" for c in seen["chats"])
    assert max(seen["counts"]) >= 2

    # Buy now through nginx, check out with the test card; a Celery worker packs the order.
    page = buyer_http.get(f"/shows/{show.pk}/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    bought = buyer_http.post(
        f"/shows/{show.pk}/buy/",
        data={"variant_id": variant.pk, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/shows/{show.pk}/"},
    )
    assert bought.status_code == 302 and bought.headers["location"].endswith("/checkout/")
    checkout = buyer_http.get("/checkout/")
    form = dict(re.findall(r'name="(csrfmiddlewaretoken|checkout_key)" value="([^"]+)"', checkout.text))
    form.update(re.findall(r'type="radio" name="(shipping_\d+)" value="(\d+)"', checkout.text)[:1])
    placed = buyer_http.post(
        "/checkout/",
        data={
            **form,
            "email": shopper.email,
            "full_name": "Ada Lovelace",
            "line1": "1 Analytical Way",
            "city": "London",
            "postal_code": "N1 1AA",
            "country": "GB",
            "card_number": "4242 4242 4242 4242",
            "save_address": "on",
        },
        headers={"Referer": f"{base}/checkout/"},
    )
    assert placed.status_code == 302, (
        placed.status_code,
        re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]+)<', placed.text),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        order = Order.objects.filter(user=shopper).first()
        if order is not None and order.status == Order.Status.FULFILLING:
            break
        time.sleep(0.5)
    assert order is not None and order.status == Order.Status.FULFILLING, "no worker packed the order"
    assert order.shipment is not None
