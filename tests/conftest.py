"""Shared fixtures. Tests run on PostgreSQL and Redis (config.settings.test)."""

import re
from pathlib import Path

import pytest
import redis
from django.conf import settings

from tests.catalog.factories import ProductFactory, VariantFactory
from tests.shops.factories import ShopFactory, UserFactory


@pytest.fixture
def password():
    return "pass-word-123"


@pytest.fixture
def shopper(db):
    return UserFactory(username="shopper_a", email="a@example.test", display_name="Ada")


@pytest.fixture
def other_shopper(db):
    return UserFactory(username="shopper_b", email="b@example.test")


@pytest.fixture
def merchant(db):
    return UserFactory(username="merchant_a")


@pytest.fixture
def shop(merchant):
    return ShopFactory(owner=merchant, name="Vinyl Vault", slug="vinyl-vault")


@pytest.fixture
def other_merchant(db):
    return UserFactory(username="merchant_b")


@pytest.fixture
def other_shop(other_merchant):
    return ShopFactory(owner=other_merchant, name="Sneaker Sanctum", slug="sneaker-sanctum", currency="EUR")


@pytest.fixture
def variant(shop):
    product = ProductFactory(shop=shop, title="Blue Train LP")
    return VariantFactory(product=product, sku="BT-LP", name="180g", price="31.50", on_hand=5)


@pytest.fixture
def other_variant(other_shop):
    product = ProductFactory(shop=other_shop, title="Runner Pro")
    return VariantFactory(product=product, sku="RP-42", name="EU 42", price="120.00", on_hand=3)


@pytest.fixture(autouse=True)
def _gateway_rolls_back_with_the_database():
    """The test gateway's ledger is an outside system's record; a test's database changes are undone
    after it, so its ledger changes are too (a refund kept across a rollback would refuse the next
    test's refund of the same order)."""
    ledger = Path(settings.LIVEMARKET_TEST_GATEWAY_LEDGER)
    before = ledger.read_bytes() if ledger.exists() else None
    yield
    if before is None:
        ledger.unlink(missing_ok=True)
    elif not ledger.exists() or ledger.read_bytes() != before:
        ledger.write_bytes(before)


@pytest.fixture(autouse=True)
def _fresh_room_state():
    """Ids restart with every test database: forget presence, cached pages and rate-limit counts left in
    Redis by an earlier test."""
    clear_room_state()


def clear_room_state() -> None:
    client = redis.Redis.from_url(settings.REDIS_URL)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(client.scan_iter(f"{prefix}:presence:*", count=500))
    # Cached product pages, and rate-limit windows (ours `rl:`, allauth's `allauth:rl:`, DRF's
    # `throttle_`), which are keyed by ids and 127.0.0.1.
    cached = re.compile(rf"^{re.escape(prefix)}:\d+:(storefront:|rl:|allauth:rl:|throttle_)")
    keys += [key for key in client.scan_iter(f"{prefix}:*", count=1000) if cached.match(key.decode())]
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def pinned_live_show(shop, variant, merchant):
    """A live show of `shop` with `variant`'s product in its lineup and pinned."""
    from django.utils import timezone

    from shows.services import show_create, show_go_live, show_pin_product

    show = show_go_live(
        show=show_create(
            shop=shop, title="Crates", scheduled_start=timezone.now(), products=[variant.product]
        )
    )
    return show_pin_product(show=show, user=merchant, product_id=variant.product_id)
