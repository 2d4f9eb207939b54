"""The auction bid panel on a phone: the max-bid field is there and the button bids the typed amount
(issue 18, B8)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import log_in, make_show

pytestmark = pytest.mark.e2e

BIDDER = ("bidder@livemarket.test", "bidder-demo-pass")


def _open_lot(*, title: str, slug: str):
    from catalog.models import Variant
    from shops.models import User
    from shows.auctions import lot_start

    show = make_show(title=title, product_slugs=(slug,), live=True)
    variant = Variant.objects.filter(product__slug=slug).order_by("pk").first()
    merchant = User.objects.get(username="merchant")
    lot = lot_start(
        show=show, user=merchant, variant_id=variant.pk, starting_price="10.00", duration_seconds=300
    )
    return show, lot


def test_on_a_phone_the_max_bid_field_shows_and_the_button_bids_the_typed_amount(new_context, orm):
    from shows.models import Bid

    with orm():
        show, lot = _open_lot(title="E2E: phone bid", slug="motorik-hours")
    bea = new_context(phone=True).new_page()
    log_in(bea, *BIDDER)
    bea.goto(f"/shows/{show.pk}/")
    expect(bea.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    form = bea.locator("#bid-form")
    expect(bea.locator("#auction-panel [data-lot-status]")).to_have_attribute("data-status", "open")
    expect(form.locator("#bid-max")).to_be_visible()

    form.locator("#bid-amount").fill("12.00")
    button = form.get_by_role("button", name=re.compile(r"^Bid 12\.00 "))
    expect(button).to_be_visible()
    button.click()
    expect(bea.locator("[data-lot-price]")).to_have_text("12.00")
    with orm():
        assert list(Bid.objects.filter(lot_id=lot.pk).values_list("amount", flat=True)) == [Decimal("12.00")]
