"""A new shopper in a real browser: sign up, browse, search, two variants in the cart, pay, see the
order; then a declined card says so clearly and the cart is still there."""

import re

import pytest
from playwright.sync_api import Page, expect

from orders.payments.test_gateway import DECLINE_CARD
from tests.e2e.helpers import GOOD_CARD, SHOPPER, fill_checkout, log_in

pytestmark = pytest.mark.e2e


def add_variant_to_cart(page: Page, index: int, *, expect_count: int) -> str:
    """Picks the index-th option in stock and adds it; the cart badge updates in place."""
    option = page.locator(".variant:has([data-variant-radio]:not([disabled]))").nth(index)
    name = option.locator(".variant__name").inner_text()
    option.locator("label").click()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-badge")).to_contain_text(str(expect_count))
    return name


def test_new_shopper_buys_two_variants_and_a_declined_card_keeps_the_cart(page: Page):
    # Sign up.
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("grace@example.test")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase-42")
    page.get_by_label(re.compile(r"Password \(again\)")).fill("a-long-pass-phrase-42")
    page.get_by_role("button", name=re.compile("Sign up", re.I)).click()
    # Every signup gets "check your e-mail", registered address or not; verification is optional,
    # so the password signs in right away.
    expect(page.get_by_text("Confirmation email sent to grace@example.test.")).to_be_visible()
    log_in(page, "grace@example.test", "a-long-pass-phrase-42")

    # Browse: the catalogue lists products from the shops.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Browse").click()
    expect(page).to_have_url(re.compile(r"/products/"))
    expect(page.locator("[data-product-card]").first).to_be_visible()

    # Search from the header and open the result.
    search = page.get_by_role("searchbox", name="Search products").first
    search.fill("neon tides")
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("neon tides")
    page.locator("[data-product-card]").get_by_role("link", name="Neon Tides").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Neon Tides")

    # Two variants, added without a page load (the marker would vanish on a reload).
    page.evaluate("window.__noReload = true")
    first = add_variant_to_cart(page, 0, expect_count=1)
    second = add_variant_to_cart(page, 1, expect_count=2)
    assert first != second
    assert page.evaluate("window.__noReload") is True

    # The cart has both lines; pay with the good card.
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile("Cart")).click()
    expect(page.locator(".cart-line")).to_have_count(2)
    page.get_by_role("link", name="Checkout", exact=True).click()
    fill_checkout(page, card=GOOD_CARD)
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    number = page.locator(".order-number").first.inner_text()

    # The order is in "My orders", with both variants.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("main")).to_contain_text(first)
    expect(page.locator("main")).to_contain_text(second)
    expect(page.locator("#cart-badge")).to_have_class(re.compile("is-empty"))

    # Declined: a clear error on the checkout page, and the cart is kept.
    page.goto("/search/?q=neon+tides")
    page.locator("[data-product-card]").get_by_role("link", name="Neon Tides").click()
    add_variant_to_cart(page, 0, expect_count=1)
    page.goto("/checkout/")
    fill_checkout(page, card=DECLINE_CARD)
    expect(page.get_by_role("alert").filter(has_text="Your card was declined.")).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/checkout/"))
    page.goto("/cart/")
    expect(page.locator(".cart-line")).to_have_count(1)
    expect(page.locator(".cart-line")).to_contain_text("Neon Tides")


def test_follow_remind_and_cart_changes_update_in_place_without_a_reload(page: Page, orm):
    from shows.models import Show

    with orm():
        show_id = Show.objects.get(title__startswith="Glass Skin Sunday").pk
    log_in(page, *SHOPPER)

    # Follow a shop: the button and the count change, the page stays.
    page.goto("/shops/glow-lab/")
    page.evaluate("window.__noReload = true")
    follow = page.locator("#follow-glow-lab")
    follow.get_by_role("button", name="+ Follow").click()
    expect(follow.get_by_role("button", name="✓ Following")).to_have_attribute("aria-pressed", "true")
    expect(follow).to_contain_text("1 follower")
    assert page.evaluate("window.__noReload") is True

    # Remind me on an upcoming show.
    page.goto(f"/shows/{show_id}/")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Remind me").click()
    expect(page.get_by_role("button", name="Reminder set")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__noReload") is True

    # Cart: add, then one more from the cart page; the line total and the badge follow.
    page.goto("/shops/glow-lab/products/daily-veil-spf-50/")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.locator("#cart-badge")).to_contain_text("1")
    assert page.evaluate("window.__noReload") is True
    page.goto("/cart/")
    page.evaluate("window.__noReload = true")
    page.get_by_role("button", name="One more Daily Veil SPF 50").click()
    expect(page.locator("#cart-badge")).to_contain_text("2")
    expect(page.locator(".cart-line__total")).to_contain_text("44.00")
    page.get_by_role("button", name="Remove Daily Veil SPF 50").click()
    expect(page.get_by_text("Your cart is empty")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
