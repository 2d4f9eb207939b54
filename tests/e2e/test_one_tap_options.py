"""1-tap on a product with options, on a phone (issue 18, B4): the option picker keeps a usable width
beside Buy now and 1-tap, and 1-tap buys the option the shopper picked, not the first one."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import SHOPPER, log_in, make_show

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def options_show(orm) -> dict:
    from catalog.models import Product
    from shows.services import show_pin_product

    with orm():
        product = next(
            p
            for p in Product.objects.filter(shop__slug="vinyl-vault").prefetch_related("variants__stock")
            if sum(v.stock.on_hand - v.stock.allocated > 0 for v in p.variants.all()) >= 2
        )
        show = make_show(title="Options night", product_slugs=(product.slug,), live=True)
        owner = show.shop.memberships.get(role="owner").user
        show_pin_product(show=show, user=owner, product_id=product.pk)
        variants = [v for v in product.variants.order_by("pk") if v.stock.on_hand - v.stock.allocated > 0]
        return {"show_id": show.pk, "second": variants[1].pk}


def test_one_tap_keeps_the_option_picker_usable_and_buys_the_picked_option(new_context, orm, options_show):
    page = new_context(phone=True).new_page()
    log_in(page, *SHOPPER)
    page.goto(f"/shows/{options_show['show_id']}/")
    picker = page.locator("[data-pinned] select[name=variant_id]")
    one_tap = page.locator("[data-pinned] button[name=one_tap]")
    expect(one_tap).to_be_visible()
    assert picker.bounding_box()["width"] >= 150, picker.bounding_box()

    picker.select_option(str(options_show["second"]))
    one_tap.click()
    expect(page).to_have_url(re.compile(r"/orders/LM"))

    from orders.models import OrderLine

    with orm():
        line = OrderLine.objects.filter(order__number=page.url.rstrip("/").rsplit("/", 1)[1]).get()
        assert line.variant_id == options_show["second"]
