"""The product page's slow-changing part, kept in the shared cache (Redis) under a version per product.

What is cached: the product's own fields, its images and the shows it appears in (everything the page
needs but prices and stock). Prices and stock are never cached: the page reads the variants with their
stock in one query on every request, so a price change or a sale shows at once. The version is replaced
(at once and again after commit) by the catalogue services that change what is cached (product edits, status changes,
deletes, images and their renditions, the CSV import); the entry also expires after TTL seconds, which
bounds how long anything else (a show going live, the shop's name) can lag.
"""

import logging
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

TTL = 60


def _keys(shop_id: int, slug: str) -> tuple[str, str]:
    base = f"storefront:product:{shop_id}:{slug}"
    return f"{base}:version", base


def product_page_invalidate(*, shop_id: int, slugs) -> None:
    """A new version for these products' pages, now and again after commit: a reader that loads the
    page between the two (still seeing the old rows) stores it under the first version only."""
    keys = [_keys(shop_id, slug) for slug in set(slugs)]

    def bump():
        try:
            cache.set_many({version: uuid.uuid4().hex for version, _ in keys}, timeout=None)
            cache.delete_many([data for _, data in keys])
        except Exception:  # noqa: BLE001 - the TTL bounds the staleness if the cache is down
            logger.warning("could not invalidate cached product pages %s", keys, exc_info=True)

    bump()
    transaction.on_commit(bump)


def product_page_cached(*, shop_id: int, slug: str, load: Callable[[], dict]) -> tuple[dict, bool]:
    """The cached part of a product page, loading and storing it on a miss; returns (data, hit)."""
    version_key, data_key = _keys(shop_id, slug)
    try:
        found = cache.get_many([version_key, data_key])
    except Exception:  # noqa: BLE001 - a cache outage slows the page down, it never breaks it
        logger.warning("product page cache unavailable", exc_info=True)
        return load(), False
    data = found.get(data_key)
    if data is not None and data.get("version") == found.get(version_key):
        return data, True
    data = {**load(), "version": found.get(version_key)}
    try:
        cache.set(data_key, data, timeout=TTL)
    except Exception:  # noqa: BLE001
        logger.warning("product page cache unavailable", exc_info=True)
    return data, False
