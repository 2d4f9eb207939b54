from decimal import Decimal

import pytest

from catalog.models import Product
from catalog.selectors import product_search, products_browse
from catalog.services import category_get_or_create
from shops.models import Shop
from shops.services import shop_set_status
from tests.catalog.factories import ProductFactory, VariantFactory


@pytest.fixture
def records(shop):
    music = category_get_or_create(name="Music")
    vinyl = category_get_or_create(name="Vinyl", parent=music)
    blue = ProductFactory(
        shop=shop, title="Blue Train", description="Hard bop classic on vinyl.", category=vinyl
    )
    VariantFactory(product=blue, price=Decimal("31.50"), on_hand=2)
    train = ProductFactory(
        shop=shop, title="Night Train", description="Blue notes all night.", category=vinyl
    )
    VariantFactory(product=train, price=Decimal("19.00"), on_hand=0)
    poster = ProductFactory(shop=shop, title="Concert poster", description="Paper.", category=music)
    VariantFactory(product=poster, price=Decimal("8.00"), on_hand=4)
    draft = ProductFactory(shop=shop, title="Blue draft", status=Product.Status.DRAFT)
    VariantFactory(product=draft)
    return {"music": music, "vinyl": vinyl, "blue": blue, "train": train, "poster": poster}


@pytest.mark.django_db
def test_search_ranks_title_matches_above_description_matches(records):
    titles = [p.title for p in product_search(query="blue")]
    assert titles == ["Blue Train", "Night Train"]  # the draft never shows


@pytest.mark.django_db
def test_search_understands_stemming_and_phrases(records):
    assert [p.title for p in product_search(query="trains")] == ["Blue Train", "Night Train"]
    assert [p.title for p in product_search(query='"hard bop"')] == ["Blue Train"]
    assert list(product_search(query="   ")) == []
    assert list(product_search(query="zzzz-nothing")) == []


@pytest.mark.django_db
def test_suspended_shop_disappears_from_search_and_listings(records, shop):
    shop_set_status(shop=shop, status=Shop.Status.SUSPENDED)
    assert list(product_search(query="blue")) == []
    assert list(products_browse()) == []


@pytest.mark.django_db
def test_browse_filters_by_category_tree_price_and_stock(records):
    titles = lambda qs: [p.title for p in qs]  # noqa: E731
    assert titles(products_browse(category=records["music"], sort="price_asc")) == [
        "Concert poster",
        "Night Train",
        "Blue Train",
    ]
    assert titles(products_browse(category=records["vinyl"], sort="title")) == ["Blue Train", "Night Train"]
    assert titles(products_browse(min_price=Decimal("10"), max_price=Decimal("20"))) == ["Night Train"]
    assert titles(products_browse(in_stock=True, sort="price_desc")) == ["Blue Train", "Concert poster"]
