"""PostgreSQL restarted, then stopped for a few seconds, while shoppers check out (slow: about 60 s).

A private PostgreSQL cluster (never the shared one) is migrated and seeded, and a real uvicorn serves
`config.settings.production` against it: the psycopg pool (DJANGO_DB_POOL_SIZE) with
CONN_HEALTH_CHECKS, so a pooled connection is checked before use and a dead one is replaced. Buyers in
threads add to their cart and check out through the pages, retrying a step that answered 503 exactly
as a browser's resubmit would (the same checkout key). The test asserts that:
- while the database is away every request fails cleanly: a 503 "briefly unavailable" page with
  Retry-After (config.views.server_error), never a 500 and never a dropped connection;
- once it is back, checkouts succeed again with nobody touching the server (same process throughout);
- no order is half-written: every order has its lines, totals that add up and one captured payment,
  each confirmed checkout is exactly one order, and `reconcile_stock` finds stock consistent.
The pool timeout is 3 s here (DJANGO_DB_POOL_TIMEOUT; 30 s by default) so a request waiting for a
connection gives up inside the 6-second outage rather than after it.
"""

import json
import re
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal

import httpx
import psycopg
import pytest
from django.db import InterfaceError, OperationalError

from config.views import server_error
from tests.servers import PROJECT, PrivatePostgres, free_port, start_redis, start_uvicorn, stop, wait_healthy
from tests.shows.roomkit import ADDRESS

sys.path.insert(0, str(PROJECT))
from deploy.cluster import production_env  # noqa: E402

BUYERS = 4
OUTAGE_SECONDS = 6
RECOVERY_DEADLINE = 60  # seconds for every buyer to complete a checkout after the database is back

SEED = """
import json
from decimal import Decimal
from django.conf import settings
from django.test import Client
from catalog.services import product_create, variant_create
from orders.services import shipping_method_create
from shops.services import shop_create, user_create

owner = user_create(username="owner", email="owner@example.test", password=None)
shop = shop_create(owner=owner, name="Outage Records", slug="outage-records")
shipping_method_create(shop=shop, name="Tracked", price=Decimal("4.00"))
product = product_create(shop=shop, title="Restart LP")
variants = [
    variant_create(product=product, sku=f"RS-{n}", name=f"Pressing {n}", price=Decimal("12.50"), on_hand=500).pk
    for n in range(2)
]
sessions = []
for n in range(%(buyers)d):
    client = Client()
    client.force_login(user_create(username=f"buyer{n}", email=f"buyer{n}@example.test", password=None))
    sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
print(json.dumps({"product_url": product.get_absolute_url(), "variants": variants, "sessions": sessions,
                  "cookie": settings.SESSION_COOKIE_NAME}))
"""

CHECKOUT_FORM = {**ADDRESS, "email": "buyer@example.test", "card_number": "4242 4242 4242 4242"}


class Buyer(threading.Thread):
    """Checks out one unit at a time, over and over, until told to stop (finishing the checkout it is in)."""

    def __init__(
        self, *, base: str, cookie: tuple[str, str], product_url: str, variant_id: int, stop: threading.Event
    ):
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, cookies=dict([cookie]), timeout=30, follow_redirects=False)
        self.product_url, self.variant_id, self.stop_event = product_url, variant_id, stop
        self.statuses: Counter = Counter()
        self.unclean: list[str] = []  # anything that is not a success or a clean 503
        self.confirmed: list[tuple[str, float]] = []  # (checkout key, when)

    def _step(self, method: str, url: str, *, ok: tuple[int, ...], **kwargs) -> httpx.Response:
        """One request, repeated while the server answers 503 (as a shopper pressing reload would)."""
        deadline = time.monotonic() + RECOVERY_DEADLINE + OUTAGE_SECONDS
        while time.monotonic() < deadline:
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self.statuses["connection error"] += 1
                self.unclean.append(f"{method} {url}: {exc!r}")
                time.sleep(0.5)
                continue
            self.statuses[response.status_code] += 1
            if response.status_code == 503:
                if "briefly unavailable" not in response.text or response.headers.get("retry-after") != "5":
                    self.unclean.append(f"{method} {url}: a 503 without the page: {response.text[:200]}")
                time.sleep(0.3)
                continue
            if response.status_code not in ok:
                self.unclean.append(f"{method} {url}: {response.status_code} {response.text[:300]}")
            return response
        raise AssertionError(f"{method} {url} never succeeded")

    def _checkout_once(self) -> None:
        page = self._step("GET", self.product_url, ok=(200,))
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        self._step(
            "POST",
            "/cart/add/",
            ok=(302,),
            data={"variant_id": self.variant_id, "quantity": 1, "csrfmiddlewaretoken": token},
        )
        checkout = self._step("GET", "/checkout/", ok=(200,))
        form = dict(re.findall(r'name="(csrfmiddlewaretoken|checkout_key)" value="([^"]+)"', checkout.text))
        form.update(re.findall(r'type="radio" name="(shipping_\d+)" value="(\d+)"', checkout.text)[:1])
        placed = self._step("POST", "/checkout/", ok=(302,), data={**form, **CHECKOUT_FORM})
        if placed.status_code == 302 and form["checkout_key"] in placed.headers["location"]:
            self.confirmed.append((form["checkout_key"], time.monotonic()))

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self._checkout_once()
                time.sleep(0.2)  # a shopper's pace, not a load test: other tests share the two cores
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.unclean.append(f"buyer stopped: {exc!r}")

    def confirmed_since(self, moment: float) -> int:
        return sum(1 for _, when in self.confirmed if when > moment)


@pytest.fixture
def private_pg():
    pg = PrivatePostgres()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def stack(private_pg, tmp_path):
    """The private database migrated and seeded, a private Redis, and one production uvicorn on them."""
    db_url = private_pg.create_database("livemarket")
    redis_port = free_port()
    redis_process = start_redis(port=redis_port, log=tmp_path / "redis.log")
    env = production_env(
        database_url=db_url,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        secret_key=secrets.token_urlsafe(50),
        static_root=tmp_path / "static",
    )
    env["DJANGO_DB_POOL_TIMEOUT"] = "3"
    server = None
    try:
        manage = [sys.executable, "manage.py"]
        migrate = [*manage, "migrate", "--noinput", "-v", "0"]
        subprocess.run(migrate, cwd=PROJECT, env=env, check=True, timeout=120)  # noqa: S603
        seeded = subprocess.run(  # noqa: S603
            [*manage, "shell", "-c", SEED % {"buyers": BUYERS}],
            cwd=PROJECT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        data = json.loads(seeded.stdout.strip().splitlines()[-1])
        port = free_port()
        log = tmp_path / "uvicorn.log"
        server = start_uvicorn(port=port, redis_url=env["REDIS_URL"], db_url=db_url, log=log, extra_env=env)
        wait_healthy(port, server, log=log)
        yield {
            "base": f"http://127.0.0.1:{port}",
            "db_url": db_url,
            "env": env,
            "server": server,
            "log": log,
            **data,
        }
    finally:
        stop(server)
        stop(redis_process)


def _wait_until_every_buyer_checks_out(buyers, *, since: float, what: str) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE
    while time.monotonic() < deadline:
        if all(buyer.confirmed_since(since) for buyer in buyers):
            return
        if not all(buyer.is_alive() for buyer in buyers):
            break
        time.sleep(0.2)
    problems = [p for buyer in buyers for p in buyer.unclean][:10]
    raise AssertionError(f"not every buyer checked out {what} within {RECOVERY_DEADLINE}s: {problems}")


def test_checkouts_fail_cleanly_while_postgres_is_away_and_recover_by_themselves(private_pg, stack):
    stop_event = threading.Event()
    buyers = [
        Buyer(
            base=stack["base"],
            cookie=(stack["cookie"], session),
            product_url=stack["product_url"],
            variant_id=stack["variants"][n % 2],
            stop=stop_event,
        )
        for n, session in enumerate(stack["sessions"])
    ]
    for buyer in buyers:
        buyer.start()
    try:
        _wait_until_every_buyer_checks_out(buyers, since=0, what="before any fault")

        restarted = time.monotonic()
        private_pg.restart(mode="fast")  # every pooled connection dies under the server
        _wait_until_every_buyer_checks_out(buyers, since=restarted, what="after a fast restart")

        private_pg.stop(mode="fast")
        time.sleep(OUTAGE_SECONDS)  # longer than the pool timeout: waiting requests must give up cleanly
        outage_503s = sum(buyer.statuses[503] for buyer in buyers)
        private_pg.start()
        back = time.monotonic()
        _wait_until_every_buyer_checks_out(buyers, since=back, what="after the database came back")
    finally:
        stop_event.set()
        for buyer in buyers:
            buyer.join(timeout=RECOVERY_DEADLINE + OUTAGE_SECONDS + 10)

    assert [p for buyer in buyers for p in buyer.unclean] == []
    statuses = sum((buyer.statuses for buyer in buyers), Counter())
    assert outage_503s > 0, statuses  # the outage was seen, and answered with the clean page
    assert set(statuses) <= {200, 302, 503}, statuses  # no 500, no dropped connection
    assert stack["server"].poll() is None  # the same server process (and pool) throughout

    confirmed_keys = {key for buyer in buyers for key, _ in buyer.confirmed}
    with psycopg.connect(stack["db_url"]) as conn:
        orders = conn.execute(
            "SELECT o.id, o.checkout_key::text, o.status, o.subtotal, o.shipping_total, o.total, "
            "(SELECT count(*) FROM orders_orderline l WHERE l.order_id = o.id), "
            "(SELECT coalesce(sum(l.line_total), 0) FROM orders_orderline l WHERE l.order_id = o.id), "
            "(SELECT count(*) FROM orders_orderline l WHERE l.order_id = o.id "
            "  AND l.line_total <> l.unit_price * l.quantity), "
            "(SELECT count(*) FROM orders_payment p WHERE p.order_id = o.id AND p.status = 'captured' "
            "  AND p.amount = o.total), "
            "(SELECT count(*) FROM orders_payment p WHERE p.order_id = o.id) "
            "FROM orders_order o ORDER BY o.id"
        ).fetchall()
    assert len(orders) == len(confirmed_keys) >= 3 * BUYERS
    assert {row[1] for row in orders} == confirmed_keys  # one order per confirmed checkout, no strays
    for (
        order_id,
        _key,
        status,
        subtotal,
        shipping,
        total,
        lines,
        lines_sum,
        bad_lines,
        captured,
        payments,
    ) in orders:
        whole = (
            status,
            lines > 0,
            subtotal == lines_sum,
            total == subtotal + shipping,
            bad_lines,
            captured,
            payments,
        )
        assert whole == ("paid", True, True, True, 0, 1, 1), (order_id, whole)
        assert shipping == Decimal("4.00") and subtotal >= Decimal("12.50")

    reconcile = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "reconcile_stock"],
        cwd=PROJECT,
        env={**stack["env"], "DJANGO_DB_POOL_SIZE": "0"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    assert "Stock is consistent" in reconcile.stdout


@pytest.mark.parametrize(
    ("path", "error", "status", "content_type"),
    [
        ("/checkout/", OperationalError("server closed the connection unexpectedly"), 503, "text/html"),
        ("/api/v1/me/orders/", InterfaceError("connection already closed"), 503, "application/json"),
        ("/checkout/", ValueError("a bug"), 500, "text/html"),
    ],
)
def test_the_error_handler_answers_503_only_when_the_database_is_unreachable(
    rf, path, error, status, content_type
):
    try:
        raise error
    except Exception:  # noqa: BLE001 - Django calls handler500 inside its own `except`
        response = server_error(rf.get(path))
    assert (response.status_code, response["Content-Type"].split(";")[0]) == (status, content_type)
    if status == 503:
        assert response["Retry-After"] == "5"
        assert "briefly unavailable" in response.content.decode()
