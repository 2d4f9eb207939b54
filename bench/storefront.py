"""Scenario 3, the storefront: home, product page and show page under `wrk` at concurrency 32.

The server is the production setup the README describes: uvicorn with one worker per core running
config.asgi, production settings (DEBUG off, whitenoise static), PostgreSQL and Redis (cache). Requests
say they came through the TLS proxy (X-Forwarded-Proto: https), as they would in production.
Ceiling: /bench/ping, a view that returns "pong" through the same middleware stack (routed only when
LIVEMARKET_BENCH_VIEWS is on). SQL queries per page are counted with CaptureQueriesContext through the
Django test client, at two catalogue sizes, to show they do not grow with the catalogue.
"""

import json
import os
import re
import shutil
import subprocess
from decimal import Decimal

from .common import LOGS, free_port, http_get, ratio, start_uvicorn, stop

CONCURRENCY = 32
WRK_THREADS = 2
WARMUP_SECONDS = 2
GOAL_RATIO = 0.5
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local out = {}
  for p = 1, 99 do out[#out + 1] = latency:percentile(p) end
  out[#out + 1] = latency:percentile(99.9)
  out[#out + 1] = latency.max
  io.write(string.format('BENCHJSON {"requests": %d, "seconds": %f, "connect_errors": %d, ' ..
    '"read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d, "percentiles_us": [%s]}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout, table.concat(out, ",")))
end
"""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is missing: `make bench` installs it (apt-get install -y wrk)")
    return path


def _seed_products(*, shop, start: int, stop_at: int, category) -> list:
    from catalog.services import product_create, variant_create

    products = []
    for n in range(start, stop_at):
        product = product_create(
            shop=shop,
            title=f"Record {n:04d}",
            description="A pressing from the bench catalogue. " * 4,
            category=category,
            is_featured=n % 4 == 0,
        )
        for k, name in enumerate(("Standard", "Deluxe")):
            variant_create(
                product=product,
                sku=f"R{n:04d}-{k}",
                name=name,
                price=Decimal("20.00") + n % 30,
                on_hand=(n + k) % 7,
                position=k,
            )
        products.append(product)
    return products


def seed(*, size: int) -> dict:
    from django.test import override_settings
    from django.utils import timezone

    from catalog.services import category_get_or_create
    from shops.services import shop_create, user_create
    from shows.services import chat_post, show_create, show_go_live, show_pin_product

    merchant = user_create(username="store-merchant", email="store-merchant@bench.test", password=None)
    fan = user_create(username="store-fan", email="store-fan@bench.test", password=None, display_name="Fan")
    shop = shop_create(owner=merchant, name="Bench Records", slug="bench-records")
    category = category_get_or_create(name="Bench records")
    products = _seed_products(shop=shop, start=0, stop_at=size, category=category)
    show = show_go_live(
        show=show_create(
            shop=shop, title="Crate digging live", scheduled_start=timezone.now(), products=products[:20]
        )
    )
    show_pin_product(show=show, user=merchant, product_id=products[0].pk)
    with override_settings(LIVEMARKET_CHAT_RATE=(100, 10)):  # seeding, not a shopper typing
        for n in range(30):
            chat_post(show=show, user=fan if n % 2 else merchant, text=f"message {n}")
    for n in range(5):
        show_create(
            shop=shop, title=f"Upcoming {n}", scheduled_start=timezone.now() + timezone.timedelta(days=1)
        )
    return {"shop": shop, "category": category, "product": products[-1], "show": show, "size": size}


def pages(data: dict) -> dict[str, str]:
    return {
        "home": "/",
        "product": data["product"].get_absolute_url(),
        "show": f"/shows/{data['show'].pk}/",
        "trivial view (ceiling)": "/bench/ping",
    }


def query_counts(urls: dict[str, str]) -> dict[str, int]:
    """SQL queries per page for an anonymous shopper, through the Django test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = {}
    for name, url in urls.items():
        client.get(url, secure=True)  # warm: the per-process caches a real server has too
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, secure=True)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        counts[name] = len(captured.captured_queries)
    return counts


def wrk(url: str, *, seconds: int) -> dict:
    script = LOGS / "wrk-report.lua"
    script.write_text(WRK_SCRIPT)
    command = [
        wrk_path(),
        f"-t{WRK_THREADS}",
        f"-c{CONCURRENCY}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-H",
        "X-Forwarded-Proto: https",
        "-s",
        str(script),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout  # noqa: S603
    match = re.search(r"BENCHJSON (\{.*\})", output)
    if match is None:
        raise RuntimeError(f"wrk printed no report:\n{output}")
    report = json.loads(match.group(1))
    percentiles = [us / 1e6 for us in report.pop("percentiles_us")]
    errors = sum(
        report[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return {
        "requests_per_second": round(report["requests"] / report["seconds"], 1),
        "requests": report["requests"],
        "errors": errors,
        "latency": {
            "p50_ms": round(percentiles[49] * 1000, 2),
            "p95_ms": round(percentiles[94] * 1000, 2),
            "p99_ms": round(percentiles[98] * 1000, 2),
            "max_ms": round(percentiles[-1] * 1000, 2),
        },
        "percentiles_s": percentiles[:99],
    }


def measure(urls: dict[str, str], *, seconds: int, workers: int, env: dict | None = None, log) -> dict:
    port = free_port()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    server = start_uvicorn(port=port, workers=workers, log_name="storefront-uvicorn.log")
    try:
        results = {}
        for name, path in urls.items():
            url = f"http://127.0.0.1:{port}{path}"
            status, _ = http_get(url)
            if status != 200:
                raise RuntimeError(f"{url} answered {status}")
            wrk(url, seconds=WARMUP_SECONDS)
            results[name] = wrk(url, seconds=seconds)
            log(f"storefront {name}: {results[name]['requests_per_second']} req/s")
    finally:
        stop(server)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return results


def run(*, seconds: int, catalog_sizes: list[int], log) -> dict:
    from django.db import connection

    small, large = catalog_sizes
    data = seed(size=small)
    urls = pages(data)
    counts_small = query_counts(urls)
    _seed_products(shop=data["shop"], start=small, stop_at=large, category=data["category"])
    counts_large = query_counts(urls)
    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them in production
        cursor.execute("ANALYZE")
    workers = os.cpu_count() or 2
    results = measure(urls, seconds=seconds, workers=workers, log=log)
    ceiling = results["trivial view (ceiling)"]["requests_per_second"]
    for name, figures in results.items():
        figures["ratio"] = ratio(figures["requests_per_second"], ceiling)
        figures["queries"] = counts_large[name]
        figures["queries_small_catalog"] = counts_small[name]
    product = results["product"]
    return {
        "concurrency": CONCURRENCY,
        "workers": workers,
        "seconds": seconds,
        "catalog_sizes": catalog_sizes,
        "pages": results,
        "queries_constant": counts_small == counts_large,
        "goal": "product page >= 0.5 x trivial view, queries constant in catalogue size",
        "goal_met": bool(
            product["ratio"] and product["ratio"] >= GOAL_RATIO and counts_small == counts_large
        ),
    }
