"""Every storefront page on a 390x844 phone (no sideways scrolling; the show's Buy button stays on
screen), axe-core's WCAG 2.1 A/AA rules on the main pages, and keyboard-only chat and buy."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e.helpers import MERCHANT, SHOPPER, fill_checkout, log_in

pytestmark = pytest.mark.e2e

LIVE_SHOW = "Friday Night Crate Digging"  # seeded live, with Neon Tides pinned
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# The pages a shopper sees, by the name the failures use; "{order}" and "{show}" are filled in.
PAGES = {
    "home": "/",
    "shop": "/shops/vinyl-vault/",
    "product": "/shops/vinyl-vault/products/neon-tides/",
    "browse": "/products/",
    "search": "/search/?q=vinyl",
    "cart": "/cart/",
    "checkout": "/checkout/",
    "orders": "/orders/",
    "order": "/orders/{order}/",
    "show": "/shows/{show}/",
}


@pytest.fixture(scope="module")
def show_id(orm) -> int:
    from shows.models import Show

    with orm():
        return Show.objects.get(title=LIVE_SHOW).pk


@pytest.fixture
def shopper_with_order_and_cart(new_context) -> tuple[Page, str]:
    """A logged-in shopper on a phone with one order placed and one item left in the cart."""
    page = new_context(phone=True).new_page()
    log_in(page, *SHOPPER)

    def add_to_cart():
        page.goto("/shops/vinyl-vault/products/brass-knuckle-soul/")
        page.get_by_role("button", name="Add to cart").click()
        expect(page.locator("#cart-badge")).to_contain_text("1")

    add_to_cart()
    page.goto("/checkout/")
    fill_checkout(page)
    expect(page.get_by_role("heading", name="Thank you for your order!")).to_be_visible()
    number = page.locator(".order-number").first.inner_text()
    add_to_cart()
    return page, number


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll("body *")]
            .filter(el => el.getBoundingClientRect().right > width + 1 && getComputedStyle(el).position !== "fixed")
            .filter(el => !el.closest("[hidden], .visually-hidden, .skip-link"))
            .map(el => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ")[0] : ""));
          return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
        }"""
    )
    assert overflow["scroll"] <= overflow["width"], f"{page.url} scrolls sideways: {overflow}"


def test_no_page_scrolls_sideways_on_a_phone_and_buy_stays_on_screen(shopper_with_order_and_cart, show_id):
    page, number = shopper_with_order_and_cart
    # Scripts that throw, or that the Content-Security-Policy refuses, break pages silently.
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and script_errors.append(f"{page.url}: {message.text}")
        ),
    )
    for name, path in PAGES.items():
        page.goto(path.format(order=number, show=show_id))
        expect(page.locator("main")).to_be_visible()
        assert page.viewport_size == {"width": 390, "height": 844}
        no_sideways_scroll(page)
        if name == "show":
            buy = page.locator("[data-pinned]").get_by_role("button", name="Buy now")
            expect(buy).to_be_in_viewport(ratio=1)
            # A busy chat does not push it off screen.
            for n in range(4):
                page.get_by_label("Message").fill(f"Message number {n} with enough words to wrap the line")
                page.get_by_label("Message").press("Enter")
            expect(page.locator("[data-chat-list]")).to_contain_text("Message number 3")
            expect(buy).to_be_in_viewport(ratio=1)
            no_sideways_scroll(page)
    assert not script_errors, "\n".join(script_errors)


def axe_violations(page: Page) -> list[str]:
    results = Axe().run(page, options=AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(
            node["target"][0] if isinstance(node["target"][0], str) else str(node["target"])
            for node in v["nodes"][:3]
        )
        for v in results.response["violations"]
    ]


def test_main_pages_pass_axe_wcag_aa(shopper_with_order_and_cart, new_context, show_id):
    page, number = shopper_with_order_and_cart
    problems = {}
    for name, path in PAGES.items():
        page.goto(path.format(order=number, show=show_id))
        expect(page.locator("main")).to_be_visible()
        if found := axe_violations(page):
            problems[name] = found

    visitor = new_context().new_page()
    for name, path in {"login": "/accounts/login/", "signup": "/accounts/signup/"}.items():
        visitor.goto(path)
        if found := axe_violations(visitor):
            problems[name] = found

    host = new_context().new_page()
    log_in(host, *MERCHANT)
    host.goto(f"/shows/{show_id}/host/")
    expect(host.locator("[data-host-console]")).to_have_attribute("data-conn", "open")
    if found := axe_violations(host):
        problems["host console"] = found
    assert not problems, "\n".join(f"{page}: {v}" for page, found in problems.items() for v in found)


def focus_ring(page: Page) -> str:
    """The focused element's outline or box shadow: what shows the keyboard user where they are."""
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
          return outline ? "outline " + style.outlineColor : (style.boxShadow !== "none" ? "shadow " + style.boxShadow : "");
        }"""
    )


def tab_to(page: Page, selector: str, *, limit: int = 80) -> None:
    """Presses Tab until the element is focused, as a keyboard user would reach it."""
    target = page.locator(selector)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_keyboard_alone_chats_and_buys_with_a_visible_focus(new_context, show_id):
    page = new_context().new_page()
    log_in(page, *SHOPPER)
    page.goto(f"/shows/{show_id}/")
    expect(page.locator("[data-show-room]")).to_have_attribute("data-conn", "open")

    # The first Tab reaches the skip link, and it shows.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()

    tab_to(page, "#chat-input")
    assert focus_ring(page), "the chat box shows no focus"
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")
    expect(page.locator("[data-chat-list]")).to_contain_text("Typed without a mouse")

    # From the top of a fresh page to the Buy button.
    page.reload()
    expect(page.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    tab_to(page, "[data-pinned] button[type=submit]:not([name=one_tap])")
    assert focus_ring(page), "the Buy now button shows no focus"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/checkout/"))
    expect(page.locator(".checkout-summary")).to_contain_text("Neon Tides")
