"""The auction bid panel on a phone: the max-bid field is there and the button bids the typed amount
(issue 18, B8); every viewer's panel ends on the lot's final state once the winner is charged (B9)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import SHOPPER, log_in, make_show

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


def test_after_the_winner_is_charged_the_losing_bidder_sees_the_lot_sold(new_context, orm):
    from catalog.models import Variant
    from shops.models import User
    from shows.auctions import lot_start

    with orm():
        show = make_show(title="E2E: loser sees paid", product_slugs=("first-light-sessions",), live=True)
        variant = Variant.objects.filter(product__slug="first-light-sessions").order_by("pk").first()
        merchant = User.objects.get(username="merchant")
        lot_start(
            show=show, user=merchant, variant_id=variant.pk, starting_price="10.00", duration_seconds=15
        )
    sam = new_context(phone=True).new_page()
    bea = new_context(phone=True).new_page()
    log_in(sam, *SHOPPER)
    log_in(bea, *BIDDER)
    for page in (sam, bea):
        page.goto(f"/shows/{show.pk}/")
        expect(page.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    sam.locator("#bid-form").get_by_role("button", name=re.compile(r"^Bid ")).click()
    expect(bea.locator("[data-lot-leader]")).to_have_text("Sam Shopper")
    bea.locator("#bid-form").get_by_role("button", name=re.compile(r"^Bid ")).click()
    expect(sam.locator("[data-lot-leader]")).to_have_text("Bea Bidder")

    # The lot closes, Bea's card is charged: both panels end on "Sold", not "charging the winner".
    expect(bea.locator("[data-won-order]")).to_be_visible(timeout=40_000)
    for page in (bea, sam):
        status = page.locator("#auction-panel [data-lot-status]")
        expect(status).to_have_attribute("data-status", "paid", timeout=20_000)
        expect(status).to_have_text("Sold")
