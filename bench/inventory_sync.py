"""Scenario 4, inventory sync: a ROWS-row CSV stock feed applied by the real service.

The catalogue the feed updates (ROWS variants with stock rows, in one shop) is bulk-loaded: making
100,000 variants one service call at a time is not what is measured. The feed is applied through
catalog.sync (inventory_sync_now, as `manage.py sync_inventory` does) in a subprocess of its own, so
its peak memory (ru_maxrss) is the sync's and not the driver's.
Ceiling: COPY of the same kind of file into a temporary table, then one UPDATE ... FROM, over psycopg.
Each run sets every row to a new value, so both write all ROWS rows.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import PROJECT, ratio

GOAL_RATIO = 0.5
GOAL_MEMORY_MB = 150
PRODUCTS = 200


def seed(*, rows: int) -> int:
    from catalog.models import Stock, Variant
    from catalog.services import product_create
    from shops.services import shop_create, user_create

    owner = user_create(username="sync-merchant", email="sync-merchant@bench.test", password=None)
    shop = shop_create(owner=owner, name="Warehouse", slug="warehouse")
    per_product = -(-rows // PRODUCTS)
    made = 0
    for p in range(PRODUCTS):
        product = product_create(shop=shop, title=f"Bulk item {p}")
        count = min(per_product, rows - made)
        variants = Variant.objects.bulk_create(
            [
                Variant(
                    product=product,
                    shop=shop,
                    sku=f"SKU-{made + k:06d}",
                    name=f"#{k}",
                    price="9.99",
                    position=k,
                )
                for k in range(count)
            ],
            batch_size=2000,
        )
        Stock.objects.bulk_create([Stock(variant_id=v.pk, on_hand=0) for v in variants], batch_size=2000)
        made += count
        if made >= rows:
            break
    return shop.pk


def write_feed(path: Path, *, rows: int, offset: int) -> None:
    with path.open("w") as feed:
        feed.write("sku,quantity\n")
        for n in range(rows):
            feed.write(f"SKU-{n:06d},{(n + offset) % 50 + 1}\n")


def ceiling(path: Path, *, shop_id: int) -> float:
    import psycopg

    url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE feed (sku text, quantity integer) ON COMMIT DROP")
            with (
                conn.cursor().copy("COPY feed FROM STDIN (FORMAT csv, HEADER true)") as copy,
                path.open("rb") as f,
            ):
                while chunk := f.read(1 << 16):
                    copy.write(chunk)
            conn.execute(
                "UPDATE catalog_stock AS s SET on_hand = f.quantity FROM feed AS f "
                "JOIN catalog_variant AS v ON v.sku = f.sku AND v.shop_id = %s "
                "WHERE s.variant_id = v.id AND f.quantity >= s.allocated AND s.on_hand <> f.quantity",
                [shop_id],
            )
        return time.perf_counter() - start


def _mismatches(*, shop_id: int, offset: int) -> int:
    """Rows whose on-hand is not what the feed said (0 when the feed was applied whole)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM catalog_stock s JOIN catalog_variant v ON v.id = s.variant_id "
            "WHERE v.shop_id = %s AND s.on_hand <> (substr(v.sku, 5)::int + %s) %% 50 + 1",
            [shop_id, offset],
        )
        return cursor.fetchone()[0]


def run(*, rows: int, log) -> dict:
    shop_id = seed(rows=rows)
    with tempfile.TemporaryDirectory(prefix="lm-bench-feed-") as tmp:
        ceiling_feed, service_feed = Path(tmp) / "ceiling.csv", Path(tmp) / "service.csv"
        write_feed(ceiling_feed, rows=rows, offset=0)
        write_feed(service_feed, rows=rows, offset=7)
        ceiling_seconds = ceiling(ceiling_feed, shop_id=shop_id)
        ceiling_ok = _mismatches(shop_id=shop_id, offset=0) == 0
        log(f"inventory sync ceiling: {ceiling_seconds:.2f} s")
        output = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.sync_child", str(shop_id), str(service_feed)],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    if output.returncode != 0:
        raise RuntimeError(f"the sync subprocess failed:\n{output.stderr[-3000:]}")
    service = json.loads(output.stdout.strip().splitlines()[-1])
    service["mismatches"] = _mismatches(shop_id=shop_id, offset=7)
    log(f"inventory sync service: {service['seconds']:.2f} s, peak {service['peak_rss_mb']} MB")
    rows_per_s = rows / service["seconds"]
    ceiling_rows_per_s = rows / ceiling_seconds
    speed_ratio = ratio(rows_per_s, ceiling_rows_per_s)
    return {
        "rows": rows,
        "service": {**service, "rows_per_second": round(rows_per_s, 1), "ratio": speed_ratio},
        "ceiling": {
            "seconds": round(ceiling_seconds, 3),
            "rows_per_second": round(ceiling_rows_per_s, 1),
            "correct": ceiling_ok,
        },
        "goal": f"rows/s >= {GOAL_RATIO} x ceiling, peak memory < {GOAL_MEMORY_MB} MB",
        "goal_met": bool(
            speed_ratio and speed_ratio >= GOAL_RATIO and service["peak_rss_mb"] < GOAL_MEMORY_MB
        ),
    }
