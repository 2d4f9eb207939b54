"""A merchant runs their shop from the admin, and sees only their own shop's rows."""

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Product, Stock
from orders.services import cart_add, cart_get_or_create, checkout_complete
from tests.orders.test_services_checkout import ADDRESS


def _product_form(shop, **overrides):
    data = {
        "shop": shop.pk,
        "title": "Kind of Blue LP",
        "slug": "kind-of-blue-lp",
        "description": "Miles Davis, 1959.",
        "status": "active",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-sku": "KOB-180",
        "variants-0-name": "180g reissue",
        "variants-0-price": "29.99",
        "variants-0-weight_grams": "300",
        "variants-0-position": "0",
        "variants-0-on_hand": "12",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


@pytest.mark.django_db
def test_merchant_creates_a_product_with_price_and_stock(client, merchant, shop):
    client.force_login(merchant)
    add_url = reverse("admin:catalog_product_add")
    assert client.get(add_url).status_code == 200

    response = client.post(add_url, _product_form(shop))

    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get(slug="kind-of-blue-lp")
    assert product.shop == shop
    variant = product.variants.get()
    assert (variant.sku, variant.price, variant.shop_id) == ("KOB-180", Decimal("29.99"), shop.pk)
    assert Stock.objects.get(variant=variant).on_hand == 12


@pytest.mark.django_db
def test_new_products_are_tied_to_the_merchants_shop_whatever_is_posted(client, merchant, shop, other_shop):
    client.force_login(merchant)
    response = client.post(reverse("admin:catalog_product_add"), _product_form(other_shop))
    assert response.status_code == 302
    assert Product.objects.get(slug="kind-of-blue-lp").shop == shop
    assert not other_shop.products.exists()


@pytest.mark.django_db
def test_merchant_of_two_shops_cannot_choose_a_third(client, merchant, shop, other_shop):
    from shops.services import shop_create

    second = shop_create(owner=merchant, name="Second Spin", slug="second-spin")
    client.force_login(merchant)
    response = client.post(reverse("admin:catalog_product_add"), _product_form(other_shop))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = client.post(reverse("admin:catalog_product_add"), _product_form(second))
    assert response.status_code == 302
    assert Product.objects.get(slug="kind-of-blue-lp").shop == second


@pytest.mark.django_db
def test_bulk_publish_and_archive(client, merchant, shop):
    from tests.catalog.factories import ProductFactory

    drafts = [ProductFactory(shop=shop, status="draft") for _ in range(2)]
    client.force_login(merchant)
    url = reverse("admin:catalog_product_changelist")
    client.post(url, {"action": "publish", "_selected_action": [p.pk for p in drafts]})
    assert set(Product.objects.filter(pk__in=[p.pk for p in drafts]).values_list("status", flat=True)) == {
        "active"
    }
    client.post(url, {"action": "archive", "_selected_action": [drafts[0].pk]})
    assert Product.objects.get(pk=drafts[0].pk).status == "archived"


@pytest.mark.django_db
def test_merchant_sees_only_their_shops_orders(client, merchant, shop, variant, other_variant, shopper):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=1)
    cart_add(cart=cart, variant_id=other_variant.pk, quantity=1)

    mine, theirs = sorted(
        checkout_complete(
            user=shopper,
            cart=cart,
            checkout_key=uuid.uuid4(),
            email=shopper.email,
            address=ADDRESS,
            card_number="4242424242424242",
        ),
        key=lambda o: o.shop_id != shop.pk,
    )
    client.force_login(merchant)
    listing = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert mine.number in listing
    assert theirs.number not in listing
    assert client.get(reverse("admin:orders_order_change", args=[mine.pk])).status_code == 200
    assert client.get(reverse("admin:orders_order_change", args=[theirs.pk])).status_code == 404
    theirs_product = reverse("admin:catalog_product_change", args=[other_variant.product_id])
    assert client.get(theirs_product).status_code == 404


@pytest.mark.django_db
def test_ops_superuser_sees_every_shop(client, shop, other_shop, variant, other_variant):
    from tests.shops.factories import UserFactory

    ops = UserFactory(username="ops_user", is_superuser=True)
    client.force_login(ops)
    listing = client.get(reverse("admin:catalog_product_changelist")).content.decode()
    assert "Blue Train LP" in listing and "Runner Pro" in listing


@pytest.mark.django_db
def test_low_stock_filters_find_sold_out_and_low_variants(client, merchant, shop):
    from tests.catalog.factories import ProductFactory, VariantFactory

    for title, on_hand in [("Gone", 0), ("Nearly gone", 3), ("Plenty", 50)]:
        VariantFactory(product=ProductFactory(shop=shop, title=title), on_hand=on_hand)
    client.force_login(merchant)

    def titles(url, stock):
        html = client.get(url, {"stock": stock}).content.decode()
        return [t for t in ("Gone", "Nearly gone", "Plenty") if f">{t}<" in html]

    products = reverse("admin:catalog_product_changelist")
    assert titles(products, "sold_out") == ["Gone"]
    assert titles(products, "low") == ["Nearly gone"]
    assert titles(products, "ok") == ["Plenty"]
    stock_html = client.get(reverse("admin:catalog_stock_changelist"), {"stock": "low"}).content.decode()
    assert "Nearly gone" in stock_html and "Plenty" not in stock_html
