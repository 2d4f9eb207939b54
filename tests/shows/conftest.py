"""Fixtures shared by the auction tests (tests/shows/test_auctions.py, test_bid_bounds.py)."""

import pytest
from django.utils import timezone

from shows.services import show_create, show_go_live
from tests.catalog.factories import ProductFactory, VariantFactory


@pytest.fixture
def item(shop):
    """Three units of one variant to auction."""
    product = ProductFactory(shop=shop, title="Signed Test Pressing")
    return VariantFactory(product=product, sku="TP-1", price="80.00", on_hand=3)


@pytest.fixture
def live_show(shop, item):
    """A live show with `item`'s product in its lineup."""
    return show_go_live(
        show=show_create(
            shop=shop, title="Auction night", scheduled_start=timezone.now(), products=[item.product]
        )
    )
