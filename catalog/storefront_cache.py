"""The product page's slow-changing part, kept in the shared cache (Redis) under a version per product.

What is cached: the product's own fields, its images and the shows it appears in (everything the page
needs but prices and stock), and the rendered page body. Prices and stock are never cached as data: the
page reads the variants with their stock and shop in one query on every request, and the rendered body
is keyed by what that query returned (prices, displayed stock state, shop name), so a price change or a
sale shows at once. The version is replaced
(at once and again after commit) by the catalogue services that change what is cached (product edits, status changes,
deletes, images and their renditions, the CSV import); the entry also expires after TTL seconds, which
bounds how long anything else (a show going live, the shop's name) can lag.
"""

import hashlib
import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

TTL = 60
BODIES = 2


def _keys(shop_id: int, slug: str) -> tuple[str, str]:
    base = f"storefront:product:{shop_id}:{slug}"
    return f"{base}:version", base


def stock_shown(available: int) -> int:
    """What the product page says about a variant's stock, for the body's signature: sold out (0),
    "Only N left" (1-5) or "In stock" (6), as templates/catalog/_product_body.html words it."""
    return min(max(available, 0), 6)


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


def product_page_cached(
    *, shop_id: int, slug: str, load: Callable[[], dict], signature: tuple, render: Callable[[dict], str]
) -> tuple[dict, str]:
    """The cached part of a product page and its rendered body, in one cache read; returns (data, body).

    `signature` is everything else the body shows (the shop's name, logo and currency; each variant's
    label, prices and displayed stock state), read fresh by the caller: a body is reused only under the
    same signature, so a price change, a sale that turns "In stock" into "Only 3 left", or a shop rename
    renders anew at once. The last BODIES signatures' bodies are kept; the data is reloaded TTL seconds
    after it was loaded, however often a new body renews the entry."""
    version_key, data_key = _keys(shop_id, slug)
    digest = hashlib.blake2b(repr(signature).encode(), digest_size=16).hexdigest()
    try:
        found = cache.get_many([version_key, data_key])
    except Exception:  # noqa: BLE001 - a cache outage slows the page down, it never breaks it
        logger.warning("product page cache unavailable", exc_info=True)
        data = load()
        return data, render(data)
    version, data, now = found.get(version_key), found.get(data_key), time.time()
    if data is None or data["version"] != version or now - data["loaded_at"] > TTL:
        data = {**load(), "version": version, "loaded_at": now, "bodies": {}}
    body = data["bodies"].get(digest)
    if body is not None:
        return data, body
    body = render(data)
    kept = list(data["bodies"].items())[-(BODIES - 1) :]
    data = {**data, "bodies": {**dict(kept), digest: body}}
    try:
        cache.set(data_key, data, timeout=max(1, int(TTL - (now - data["loaded_at"]))))
    except Exception:  # noqa: BLE001
        logger.warning("product page cache unavailable", exc_info=True)
    return data, body
