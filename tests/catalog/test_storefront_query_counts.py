"""Storefront pages keep a constant number of SQL queries as the catalogue grows (10 vs 200 products)."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from catalog.services import category_get_or_create, product_image_add
from orders.services import cart_add, cart_get_or_create, checkout_complete
from shows.services import chat_post, show_create, show_go_live, show_pin_product
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.orders.test_services_checkout import ADDRESS

_PNG = io.BytesIO()
Image.new("RGB", (32, 32), (30, 60, 90)).save(_PNG, format="PNG")


def _build(*, shop, merchant, shopper, count: int) -> dict:
    category = category_get_or_create(name="Records")
    products = []
    for n in range(count):
        product = ProductFactory(
            shop=shop, title=f"Record {n:03d} blue", category=category, is_featured=n % 3 == 0
        )
        VariantFactory(product=product, sku=f"R{n:03d}-A", name="Standard", on_hand=5)
        VariantFactory(product=product, sku=f"R{n:03d}-B", name="Deluxe", on_hand=n % 2)
        product_image_add(
            product=product, image=SimpleUploadedFile(f"r{n}.png", _PNG.getvalue(), content_type="image/png")
        )
        products.append(product)
    show = show_go_live(
        show=show_create(shop=shop, title="Live now", scheduled_start=timezone.now(), products=products)
    )
    show_pin_product(show=show, user=merchant, product_id=products[0].pk)
    for n in range(min(count, 60)):
        chat_post(show=show, user=shopper, text=f"message {n}")
    for n in range(min(count, 30)):
        show_create(
            shop=shop, title=f"Upcoming {n}", scheduled_start=timezone.now() + timezone.timedelta(days=1)
        )
    cart = cart_get_or_create(user=shopper)
    for product in products[: min(count, 20)]:
        cart_add(cart=cart, variant_id=product.variants.first().pk, quantity=1)
    orders = checkout_complete(
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    for product in products[: min(count, 20)]:
        cart_add(cart=cart, variant_id=product.variants.first().pk, quantity=1)
    return {"product": products[-1], "show": show, "order": orders[0]}


PAGES = {
    "home": (lambda d: "/", 7),
    "shop": (lambda d: "/shops/vinyl-vault/", 12),  # +2: the rating aggregate and the latest reviews
    "product": (lambda d: d["product"].get_absolute_url(), 8),
    "search": (lambda d: "/search/?q=blue+record", 8),
    "listing": (lambda d: "/products/?sort=price_asc&in_stock=on", 9),
    "category": (lambda d: "/categories/records/?page=1", 10),
    "show": (lambda d: f"/shows/{d['show'].pk}/", 14),  # +1: is the viewer ready to bid (one EXISTS query)
    "cart": (lambda d: "/cart/", 9),
    "orders": (lambda d: "/orders/", 7),
    "order": (lambda d: f"/orders/{d['order'].number}/", 8),
}


@pytest.mark.django_db
@pytest.mark.parametrize("count", [10, 200])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_storefront_page_query_count_does_not_grow(
    client, shop, merchant, shopper, count, page, django_assert_max_num_queries, settings
):
    settings.LIVEMARKET_CHAT_RATE = (1000, 10)  # the builder chats fast
    data = _build(shop=shop, merchant=merchant, shopper=shopper, count=count)
    client.force_login(shopper)
    url_for, max_queries = PAGES[page]
    url = url_for(data)
    client.get(url)  # warm up per-process caches (content types, sessions)
    with django_assert_max_num_queries(max_queries):
        response = client.get(url)
    assert response.status_code == 200
