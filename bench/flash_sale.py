"""Scenario 1, the flash sale: BUYERS concurrent buyers race for UNITS units of one variant in a live show.

Four runs, each on its own variant with UNITS units, with the same buyers (each with a saved card and
address, as a live show's regulars have):
- service: the 1-tap buy (shows.services.show_buy_one_tap: the order placed in one transaction, its
  card charged by a worker after commit; no worker runs here, the charge jobs wait in Redis) in
  WORKER_PROCESSES processes x WORKER_THREADS threads (one database connection each), every buyer
  released at the same instant;
- service_checkout: "buy now" (show_buy_now: a hold) then orders.checkout.checkout_complete (the card
  charged inline), the same way;
- http: the 1-tap buy through the running server (POST /shows/<id>/buy/ with one_tap=1), all BUYERS
  requests in flight at once against uvicorn with production settings;
- ceiling: the same writes by hand over psycopg at the service run's concurrency: lock the stock row,
  re-check, allocate, insert the order and its line, commit.
Orders per second = UNITS / (time from the release to the last order committed).
"""

import asyncio
import multiprocessing
import os
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from queue import Empty

from .common import free_port, latency_summary, ratio, start_uvicorn, stop

UNITS = 50
WORKER_PROCESSES = 2
WORKER_THREADS = 16
ADDRESS = {
    "full_name": "Bench Buyer",
    "line1": "1 Loopback Way",
    "line2": "",
    "city": "Localhost",
    "postal_code": "12345",
    "country": "US",
    "phone": "",
}
CARD = "4242424242424242"


# --- seeding (through the services) -----------------------------------------------------------------
def seed(*, buyers: int) -> dict:
    from django.utils import timezone

    from catalog.services import product_create, variant_create
    from orders.services import address_save, payment_method_save
    from shops.services import shop_create, user_create
    from shows.services import show_create, show_go_live

    merchant = user_create(username="flash-merchant", email="flash-merchant@bench.test", password=None)
    shop = shop_create(owner=merchant, name="Flash Shop", slug="flash-shop")
    variants = {}
    products = []
    for label in ("service", "service_checkout", "http", "ceiling"):
        product = product_create(shop=shop, title=f"Flash sneaker ({label})")
        variants[label] = variant_create(
            product=product, sku=f"FLASH-{label}", price=Decimal("99.00"), name="EU 42", on_hand=UNITS
        ).pk
        products.append(product)
    show = show_go_live(
        show=show_create(shop=shop, title="Flash sale", scheduled_start=timezone.now(), products=products)
    )
    buyer_ids = []
    for n in range(buyers):
        buyer = user_create(username=f"buyer{n:04d}", email=f"buyer{n:04d}@bench.test", password=None)
        address_save(user=buyer, data=ADDRESS)
        payment_method_save(user=buyer, card_number=CARD)
        buyer_ids.append(buyer.pk)
    return {"show_id": show.pk, "shop_id": shop.pk, "variants": variants, "buyer_ids": buyer_ids}


# --- the service path ----------------------------------------------------------------------------------
def _one_tap_buy(show_id: int, variant_id: int, user_id: int) -> tuple[str, float, float]:
    from catalog.exceptions import InsufficientStock
    from shops.models import User
    from shows.models import Show
    from shows.services import show_buy_one_tap

    started = time.time()
    try:
        user = User.objects.get(pk=user_id)
        show = Show.objects.get(pk=show_id)
        try:
            show_buy_one_tap(show=show, user=user, variant_id=variant_id, checkout_key=uuid.uuid4())
        except InsufficientStock:
            return "sold_out", started, time.time()
        return "ordered", started, time.time()
    except Exception as exc:  # noqa: BLE001 - counted and reported
        return f"error: {exc.__class__.__name__}: {exc}"[:200], started, time.time()


def _service_buy(show_id: int, variant_id: int, user_id: int) -> tuple[str, float, float]:
    from catalog.exceptions import InsufficientStock
    from orders.checkout import checkout_complete
    from orders.services import cart_get_or_create
    from shops.models import User
    from shows.models import Show
    from shows.services import show_buy_now

    started = time.time()
    try:
        user = User.objects.get(pk=user_id)
        show = Show.objects.get(pk=show_id)
        try:
            show_buy_now(show=show, user=user, variant_id=variant_id)
        except InsufficientStock:
            return "sold_out", started, time.time()
        checkout_complete(
            user=user,
            cart=cart_get_or_create(user=user),
            checkout_key=uuid.uuid4(),
            email=user.email,
            address=ADDRESS,
            card_number=CARD,
        )
        return "ordered", started, time.time()
    except Exception as exc:  # noqa: BLE001 - counted and reported
        return f"error: {exc.__class__.__name__}: {exc}"[:200], started, time.time()


_local = threading.local()


def _ceiling_buy(db_url: str, show_id: int, shop_id: int, variant_id: int, user_id: int):
    import psycopg

    if getattr(_local, "conn", None) is None:
        _local.conn = psycopg.connect(db_url, autocommit=True)
    conn = _local.conn
    started = time.time()
    try:
        with conn.transaction():
            on_hand, allocated = conn.execute(
                "SELECT on_hand, allocated FROM catalog_stock WHERE variant_id = %s FOR UPDATE", [variant_id]
            ).fetchone()
            if on_hand - allocated < 1:
                return "sold_out", started, time.time()
            conn.execute(
                "UPDATE catalog_stock SET allocated = allocated + 1 WHERE variant_id = %s", [variant_id]
            )
            order_id = conn.execute(
                "INSERT INTO orders_order (full_name, line1, line2, city, postal_code, country, phone, number,"
                " checkout_key, status, email, currency, subtotal, shipping_total, total, created_at, shop_id,"
                " user_id, cancel_reason, refunded_total, shipping_method_name, show_id) VALUES (%s, %s, %s,"
                " %s, %s, %s, %s, %s, %s, 'paid', %s, 'USD', 99, 0, 99, now(), %s, %s, '', 0, 'Standard', %s)"
                " RETURNING id",
                [
                    *ADDRESS.values(),
                    secrets.token_hex(6).upper(),
                    uuid.uuid4(),
                    f"{user_id}@bench.test",
                    shop_id,
                    user_id,
                    show_id,
                ],
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO orders_orderline (product_title, variant_name, sku, unit_price, quantity,"
                " line_total, order_id, variant_id) VALUES ('Flash sneaker', 'EU 42', 'FLASH', 99, 1, 99, %s, %s)",
                [order_id, variant_id],
            )
        return "ordered", started, time.time()
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}: {exc}"[:200], started, time.time()


def _worker(kind: str, args: dict, user_ids: list[int], start_at: float, queue) -> None:
    """One worker process: WORKER_THREADS connections, every buyer submitted at `start_at`."""
    db_url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    if kind in ("service", "service_checkout"):
        import django

        django.setup()
        from django.db import connection

        buy = _one_tap_buy if kind == "service" else _service_buy
        call = lambda uid: buy(args["show_id"], args["variant_id"], uid)  # noqa: E731

        def connect():
            connection.ensure_connection()

    else:
        call = lambda uid: _ceiling_buy(db_url, args["show_id"], args["shop_id"], args["variant_id"], uid)  # noqa: E731

        def connect():
            import psycopg

            _local.conn = psycopg.connect(db_url, autocommit=True)

    barrier = threading.Barrier(WORKER_THREADS)

    def warm(_):
        connect()  # every thread holds its connection before the race (as a warm server would)
        barrier.wait()

    with ThreadPoolExecutor(max_workers=WORKER_THREADS) as pool:
        list(pool.map(warm, range(WORKER_THREADS)))
        time.sleep(max(0.0, start_at - time.time()))
        outcomes = list(pool.map(call, user_ids))
    queue.put(outcomes)


def _run_pool(kind: str, args: dict, user_ids: list[int]) -> tuple[list, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 4  # every process is imported and set up by then
    shares = [user_ids[n::WORKER_PROCESSES] for n in range(WORKER_PROCESSES)]
    processes = [
        context.Process(target=_worker, args=(kind, args, share, start_at, queue)) for share in shares
    ]
    for process in processes:
        process.start()
    outcomes = []
    deadline = time.time() + 600
    while len(outcomes) < len(user_ids):
        try:
            outcomes.extend(queue.get(timeout=1))
        except Empty:
            if time.time() > deadline or any(p.exitcode not in (None, 0) for p in processes):
                for process in processes:
                    process.kill()
                raise RuntimeError(f"a {kind} worker process failed (see the output above)") from None
    for process in processes:
        process.join(timeout=30)
    return outcomes, start_at


# --- the HTTP path ---------------------------------------------------------------------------------------
def _sessions(user_ids: list[int]) -> dict[int, str]:
    """Signed-in sessions made on the server side (logging 500 people in is not what is measured)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from shops.models import User

    sessions = {}
    for user in User.objects.filter(pk__in=user_ids):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[user.pk] = store.session_key
    return sessions


async def _http_buyers(
    port: int, show_id: int, variant_id: int, sessions: dict[int, str]
) -> tuple[list, float]:
    import httpx

    base = f"https://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=len(sessions) + 10, max_keepalive_connections=len(sessions) + 10)
    transport = httpx.AsyncHTTPTransport(limits=limits, retries=0)
    gate = asyncio.Event()

    async def buyer(client: httpx.AsyncClient, user_id: int, session_key: str):
        token = secrets.token_hex(16)  # a 32-character CSRF secret, sent as cookie and header
        headers = {
            "Cookie": f"sessionid={session_key}; csrftoken={token}",
            "X-CSRFToken": token,
            "Origin": base,
            "X-Forwarded-Proto": "https",
        }

        async def post(url: str, data: dict):
            # Safe to send twice (the order has its key), so a keep-alive connection the server closed
            # just as it was reused is retried once, as browsers do.
            try:
                return await client.post(url, data=data, headers=headers)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
                return await client.post(url, data=data, headers=headers)

        await gate.wait()
        started = time.time()
        try:
            response = await post(
                f"/shows/{show_id}/buy/",
                {"variant_id": variant_id, "one_tap": "1", "checkout_key": str(uuid.uuid4())},
            )
            if response.status_code == 409:
                return "sold_out", started, time.time()
            if response.status_code == 302 and "/orders/" in response.headers.get("location", ""):
                return "ordered", started, time.time()
            return f"error: buy answered {response.status_code}", started, time.time()
        except httpx.HTTPError as exc:
            return f"error: {exc.__class__.__name__}", started, time.time()

    # The transport speaks plain HTTP to the loopback port; the request says it came through TLS.
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", transport=transport, timeout=180, follow_redirects=False
    ) as client:
        tasks = [asyncio.create_task(buyer(client, uid, key)) for uid, key in sessions.items()]
        await asyncio.sleep(0.5)
        start_at = time.time()
        gate.set()
        outcomes = await asyncio.gather(*tasks)
    return outcomes, start_at


# --- checking and summing up ----------------------------------------------------------------------------
def _verify(variant_id: int) -> dict:
    from catalog.models import Stock
    from orders.models import OrderLine

    stock = Stock.objects.get(variant_id=variant_id)
    return {
        "orders_in_db": OrderLine.objects.filter(variant_id=variant_id).values("order_id").distinct().count(),
        "stock_available": stock.on_hand - stock.allocated,
    }


def _summary(outcomes: list, start_at: float, variant_id: int) -> dict:
    ordered = [o for o in outcomes if o[0] == "ordered"]
    sold_out = [o for o in outcomes if o[0] == "sold_out"]
    errors = [o[0] for o in outcomes if o[0].startswith("error")]
    sell_out_seconds = max((o[2] for o in ordered), default=start_at) - start_at
    all_done = max(o[2] for o in outcomes) - start_at
    result = {
        "buyers": len(outcomes),
        "orders": len(ordered),
        "sold_out": len(sold_out),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:5],
        "sell_out_seconds": round(sell_out_seconds, 3),
        "all_answered_seconds": round(all_done, 3),
        "orders_per_second": round(len(ordered) / sell_out_seconds, 2) if sell_out_seconds else None,
        "latency_all": latency_summary(o[2] - o[1] for o in outcomes),
        "latency_ordered": latency_summary(o[2] - o[1] for o in ordered),
        "latencies_s": [round(o[2] - o[1], 5) for o in outcomes],
        **_verify(variant_id),
    }
    result["correct"] = (
        result["orders"] == UNITS
        and result["orders_in_db"] == UNITS
        and result["stock_available"] == 0
        and result["errors"] == 0
    )
    return result


def run(*, buyers: int, log) -> dict:
    data = seed(buyers=buyers)
    ids = data["buyer_ids"]
    results = {"buyers": buyers, "units": UNITS, "concurrency": WORKER_PROCESSES * WORKER_THREADS}

    args = {"show_id": data["show_id"], "shop_id": data["shop_id"]}
    for kind in ("service", "service_checkout"):
        log(f"flash sale: {kind} path")
        args["variant_id"] = data["variants"][kind]
        outcomes, start_at = _run_pool(kind, args, ids)
        results[kind] = _summary(outcomes, start_at, args["variant_id"])

    log("flash sale: SQL ceiling")
    args["variant_id"] = data["variants"]["ceiling"]
    outcomes, start_at = _run_pool("ceiling", args, ids)
    results["ceiling"] = _summary(outcomes, start_at, args["variant_id"])

    log("flash sale: HTTP through uvicorn")
    port = free_port()
    server = start_uvicorn(port=port, workers=2, log_name="flash-uvicorn.log")
    try:
        sessions = _sessions(ids)
        outcomes, start_at = asyncio.run(
            _http_buyers(port, data["show_id"], data["variants"]["http"], sessions)
        )
    finally:
        stop(server)
    results["http"] = _summary(outcomes, start_at, data["variants"]["http"])
    ceiling = results["ceiling"]["orders_per_second"]
    for side in ("service", "service_checkout", "http"):
        results[side]["ratio"] = ratio(results[side]["orders_per_second"], ceiling)
    results["goal"] = "service orders/s >= 0.5 x ceiling"
    results["goal_met"] = bool(results["service"]["ratio"] and results["service"]["ratio"] >= 0.5)
    return results
