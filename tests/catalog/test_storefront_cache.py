"""The product page caches everything but prices and stock; edits through the services show at once."""

import re
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
def test_second_view_of_a_product_page_runs_one_query(client, page, django_assert_num_queries):
    product, _ = page
    client.get(product.get_absolute_url())
    with django_assert_num_queries(1):  # the variants with stock, checking the product's and shop's status
        response = client.get(product.get_absolute_url())
    assert b"Kind of Blue" in response.content


@pytest.mark.django_db
def test_cached_body_carries_each_visitors_own_csrf_token(page):
    from django.test import Client

    product, _ = page
    tokens = []
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        html = visitor.get(product.get_absolute_url()).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        assert "placeholder" not in token
        response = visitor.post("/cart/add/", {"variant_id": 0, "quantity": 1, "csrfmiddlewaretoken": token})
        assert response.status_code != 403  # the token in the cached body is valid for this visitor
        tokens.append(token)
    assert tokens[0] != tokens[1]


@pytest.mark.django_db
def test_stock_state_and_shop_name_changes_render_a_new_body(client, page, shop):
    from shops.models import Shop

    product, variant = page
    assert b"Only 3 left" in client.get(product.get_absolute_url()).content
    stock_allocate(lines=[(variant.pk, 1)])
    assert b"Only 2 left" in client.get(product.get_absolute_url()).content
    Shop.objects.filter(pk=shop.pk).update(name="Blue Note Corner")  # as a save in the admin does
    assert b"Blue Note Corner" in client.get(product.get_absolute_url()).content


@pytest.mark.django_db
def test_query_string_is_kept_in_the_forms_next_field(client, page):
    product, _ = page
    client.get(product.get_absolute_url())
    html = client.get(product.get_absolute_url() + "?ref=show").content.decode()
    assert f'name="next" value="{product.get_absolute_url()}?ref=show"' in html


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


@pytest.mark.django_db
def test_whole_page_is_cached_only_for_visitors_without_a_session(client, page, shopper):
    product, _ = page
    url = product.get_absolute_url()
    anonymous = client.get(url).content.decode()
    assert "Sign up" in anonymous and "Log out" not in anonymous
    client.force_login(shopper)
    personal = client.get(url).content.decode()
    assert "Log out" in personal and "Sign up" not in personal
    client.logout()
    client.cookies.clear()
    assert "Log out" not in client.get(url).content.decode()
