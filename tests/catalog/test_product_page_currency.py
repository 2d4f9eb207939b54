"""Every price on the product page names the shop's currency, on every view (round 2 found "active"
from the second view on: the page's fast read had swapped the shop's status and currency)."""

import re

import pytest

from tests.catalog.factories import ProductFactory, VariantFactory
from tests.conftest import clear_room_state
from tests.shops.factories import ShopFactory, UserFactory


def _currencies_shown(html: str) -> list[str]:
    """The currency printed after each price: the headline price and "Was" price, then each variant
    row's price and "Was" price."""
    headline = re.findall(r'<span class="price__currency">([^<]*)</span>', html)
    was_headline = re.findall(r"<span data-compare-amount>[^<]*</span> ([^<]*)</span>", html)
    was_rows = re.findall(r'<span class="visually-hidden">Was </span>[\d.]+ ([^<]*)</span>', html)
    return headline + was_headline + was_rows


@pytest.mark.django_db
@pytest.mark.parametrize("currency", ["USD", "EUR"])
@pytest.mark.parametrize("cached", [True, False], ids=["cached", "uncached"])
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_product_page_shows_the_shops_currency_on_every_price_on_every_view(
    client, currency, cached, signed_in
):
    shop = ShopFactory(currency=currency)
    product = ProductFactory(shop=shop, title="Kind of Blue")
    VariantFactory(product=product, sku="KOB-1", name="180g", price="30.00", compare_at_price="40.00")
    VariantFactory(product=product, sku="KOB-2", name="Mono", price="35.00", on_hand=2)
    if signed_in:
        client.force_login(UserFactory())
    # headline price and its "Was", two variant prices, one variant "Was"
    expected = [currency] * 5
    for _ in range(3):
        if not cached:
            clear_room_state()  # drops the cached page: every view renders anew
        response = client.get(product.get_absolute_url())
        assert response.status_code == 200
        assert _currencies_shown(response.content.decode()) == expected
