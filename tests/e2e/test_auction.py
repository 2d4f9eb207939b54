"""A live auction in three browsers: the merchant starts a lot from the console, two seeded bidders
(saved card and address) bid from their phones, a late bid extends the clock, and the winner is
charged and sees their order. And the bid panel's confirm step for a far higher bid."""

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


def test_a_far_higher_bid_asks_to_confirm_and_an_absurd_one_is_refused_naming_the_limit(new_context, orm):
    from catalog.models import Variant
    from shops.models import User
    from shows.auctions import lot_start

    with orm():
        show = make_show(title="E2E: bid bounds", product_slugs=("motorik-hours",), live=True)
        variant = Variant.objects.filter(product__slug="motorik-hours").order_by("pk").first()
        merchant = User.objects.get(username="merchant")
        lot_start(
            show=show, user=merchant, variant_id=variant.pk, starting_price="10.00", duration_seconds=300
        )
    bea = new_context(phone=True).new_page()
    log_in(bea, *BIDDER)
    bea.goto(f"/shows/{show.pk}/")
    expect(bea.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    panel, form = bea.locator("#auction-panel"), bea.locator("#bid-form")
    expect(panel.locator("[data-lot-status]")).to_have_attribute("data-status", "open")
    questions: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog) -> None:
        questions.append(dialog.message)
        if answer["accept"]:
            dialog.accept()
        else:
            dialog.dismiss()

    bea.on("dialog", on_dialog)
    amount = form.get_by_label("Your bid")

    # Above what the server takes: sent unasked, and the server's refusal names the limit.
    amount.fill("999999999.99")
    form.get_by_role("button", name=re.compile(r"^Bid ")).click()
    expect(panel.locator("[data-lot-note]")).to_contain_text("at most 100.00")
    assert questions == []

    # Far above the price but allowed: the page asks first; "Cancel" sends nothing.
    amount.fill("50.00")
    form.get_by_role("button", name=re.compile(r"^Bid ")).click()
    expect(panel.locator("[data-lot-note]")).to_have_text("Bid not sent.")
    assert len(questions) == 1 and "50.00" in questions[0] and "far above" in questions[0]
    expect(panel.locator("[data-lot-leader]")).to_have_text("no bids yet")

    answer["accept"] = True
    form.get_by_role("button", name=re.compile(r"^Bid ")).click()
    expect(panel.locator("[data-lot-price]")).to_have_text("50.00")
    expect(panel.locator("[data-lot-leader]")).to_have_text("Bea Bidder")
    assert len(questions) == 2
