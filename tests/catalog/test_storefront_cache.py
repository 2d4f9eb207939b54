"""The product page caches everything but prices and stock; edits through the services show at once."""

from decimal import Decimal

import pytest

from catalog.services import product_update, products_set_status, variant_update
from catalog.stock import stock_allocate
from tests.catalog.factories import ProductFactory, VariantFactory


@pytest.fixture
def page(shop):
    product = ProductFactory(shop=shop, title="Kind of Blue")
    variant = VariantFactory(product=product, sku="KOB-1", name="180g", price="30.00", on_hand=3)
    return product, variant


@pytest.mark.django_db
def test_second_view_of_a_product_page_runs_two_queries(client, page, django_assert_num_queries):
    product, _ = page
    client.get(product.get_absolute_url())
    with django_assert_num_queries(2):  # the shop (is it still active?) and the variants with stock
        response = client.get(product.get_absolute_url())
    assert b"Kind of Blue" in response.content


@pytest.mark.django_db
def test_price_and_stock_changes_show_on_a_cached_product_page(client, page):
    product, variant = page
    client.get(product.get_absolute_url())
    variant_update(variant=variant, price=Decimal("12.50"))
    stock_allocate(lines=[(variant.pk, 3)])
    response = client.get(product.get_absolute_url())
    assert b"12.50" in response.content
    assert b"30.00" not in response.content
    assert b"Sold out" in response.content


@pytest.mark.django_db
def test_product_edit_and_archive_invalidate_the_cached_page(client, page):
    product, _ = page
    client.get(product.get_absolute_url())
    product_update(product=product, title="Kind of Blue (mono)")
    assert b"Kind of Blue (mono)" in client.get(product.get_absolute_url()).content
    products_set_status(product_ids=[product.pk], status="archived")
    assert client.get(product.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_suspended_shop_vanishes_at_once_from_a_cached_product_page(client, page, shop):
    from shops.services import shop_set_status

    product, _ = page
    client.get(product.get_absolute_url())
    shop_set_status(shop=shop, status="suspended")
    assert client.get(product.get_absolute_url()).status_code == 404
