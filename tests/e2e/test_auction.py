"""A live auction in three browsers: the merchant starts a lot from the console, two seeded bidders
(saved card and address) bid from their phones, a late bid extends the clock, and the winner is
charged and sees their order."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import MERCHANT, SHOPPER, log_in, make_show

pytestmark = pytest.mark.e2e

BIDDER = ("bidder@livemarket.test", "bidder-demo-pass")
CLOCK = "#auction-panel [data-lot-clock]"


def seconds(low: int, high: int = 120) -> re.Pattern:
    """The clock showing a whole number of seconds from low to high (expect polls it; the pages'
    Content-Security-Policy forbids the eval that wait_for_function would need)."""
    return re.compile("^(" + "|".join(str(n) for n in range(low, high + 1)) + ")$")


def bid(page: Page) -> None:
    """Bids the suggested amount (the next minimum) from the auction panel."""
    form = page.locator("#bid-form")
    form.get_by_role("button", name=re.compile(r"^Bid ")).click()


def test_two_bidders_a_late_bid_extends_the_clock_and_the_winner_sees_the_order(new_context, orm):
    with orm():
        show_id = make_show(title="E2E: auction", product_slugs=("first-light-sessions",), live=True).pk
    host = new_context().new_page()
    sam = new_context(phone=True).new_page()
    bea = new_context(phone=True).new_page()
    log_in(host, *MERCHANT)
    log_in(sam, *SHOPPER)
    log_in(bea, *BIDDER)
    host.goto(f"/shows/{show_id}/host/")
    expect(host.locator("[data-host-console]")).to_have_attribute("data-conn", "open")
    for page in (sam, bea):
        page.goto(f"/shows/{show_id}/")
        expect(page.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
        expect(page.locator("#auction-panel")).to_be_hidden()

    # The host opens a 15-second lot; a bid in its last 10 seconds puts the clock back to 10.
    start = host.locator("#lot-start-form")
    start.get_by_label("Product").select_option(
        start.locator("option", has_text="First Light Sessions").first.get_attribute("value")
    )
    start.get_by_label(re.compile("Starting price")).fill("10.00")
    start.get_by_label("Increment").fill("1.00")
    start.get_by_label("Seconds").select_option("15")
    start.get_by_label("Mode").select_option("extend")
    start.get_by_label(re.compile("Extend to")).fill("10")
    start.get_by_role("button", name="Start auction").click()

    for page in (sam, bea):
        panel = page.locator("#auction-panel")
        expect(panel).to_be_visible()
        expect(panel.locator("[data-lot-status]")).to_have_attribute("data-status", "open")
        expect(panel.locator("[data-lot-leader]")).to_have_text("no bids yet")

    # Sam bids first; both see the price and the leader.
    bid(sam)
    for page in (sam, bea):
        expect(page.locator("[data-lot-price]")).to_have_text("10.00")
        expect(page.locator("[data-lot-leader]")).to_have_text("Sam Shopper")

    # Bea waits for the last seconds, then outbids: the clock goes back up for everyone.
    expect(bea.locator(CLOCK)).to_have_text(seconds(3, 7), timeout=20_000)
    before = int(bea.locator(CLOCK).inner_text())
    bid(bea)
    for page in (sam, bea):
        expect(page.locator("[data-lot-price]")).to_have_text("11.00")
        expect(page.locator("[data-lot-leader]")).to_have_text("Bea Bidder")
        expect(page.locator(CLOCK)).to_have_text(seconds(before + 1), timeout=5_000)
    expect(host.locator("#auction-panel [data-lot-leader]")).to_have_text("Bea Bidder")

    # Nobody bids again: the lot closes, Bea's saved card is charged and she gets a link to her order.
    won = bea.locator("[data-won-order]")
    expect(won).to_be_visible(timeout=30_000)
    expect(sam.locator("[data-lot-status]")).to_have_attribute(
        "data-status", re.compile("awaiting_payment|paid")
    )
    expect(sam.locator("[data-lot-leader]")).to_have_text("Bea Bidder")
    number = won.get_attribute("data-won-order")
    won.click()
    expect(bea).to_have_url(re.compile(rf"/orders/{re.escape(number)}/"))
    expect(bea.locator("main")).to_contain_text("First Light Sessions")
    expect(bea.locator("main")).to_contain_text("11.00")
