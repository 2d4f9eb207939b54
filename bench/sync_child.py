"""The inventory sync under measurement, in a process of its own: python -m bench.sync_child SHOP_ID FEED.

Prints one JSON line: seconds, the run's counts, peak RSS of the whole process (which includes Django
itself) and the peak it had after start-up, before the feed was opened.
"""

import json
import resource
import sys
import time


def rss_mb() -> float:
    """Peak resident memory of this process (VmHWM). Not ru_maxrss: on Linux a child started by
    fork+exec inherits the parent's high-water mark there, so it reported the bench driver's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(shop_id: int, feed: str) -> None:
    import django

    django.setup()
    from catalog.models import InventorySyncRun
    from catalog.sync.services import inventory_sync_now
    from shops.models import Shop

    shop = Shop.objects.get(pk=shop_id)
    baseline = rss_mb()
    start = time.perf_counter()
    with open(feed, "rb") as file:
        run = inventory_sync_now(
            shop=shop, trigger=InventorySyncRun.Trigger.COMMAND, file=file, format="csv", source_label=feed
        )
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "status": run.status,
                "rows_total": run.rows_total,
                "updated": run.updated,
                "unchanged": run.unchanged,
                "errors": run.invalid + run.unknown_sku + run.conflicts,
                "peak_rss_mb": rss_mb(),
                "startup_rss_mb": baseline,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
