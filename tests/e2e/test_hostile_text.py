"""Hostile text in a real browser: a shop, product, show and chat full of XSS payloads; no script runs.

Every page that shows them (home, shop, product, show page with chat history and a chat line that
arrives live over the socket, cart, checkout, host console, the admin change pages) is opened with
every dialog recorded (`page.on("dialog")`) and `alert`/`confirm`/`prompt` hooked before any page
script runs; none may fire, and the browser may report no Content-Security-Policy violation (an
escaped page never even tries to run injected script).
"""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.helpers import MERCHANT, SHOPPER, log_in
from tests.security.payloads import PAYLOADS

pytestmark = pytest.mark.e2e

P = dict(PAYLOADS)
SHOP_NAME = (P["img_onerror_breakout"] + P["svg_onload"])[:120]
PRODUCT_TITLE = (P["script_tag"] + P["single_quote_attr_breakout"] + P["textarea_breakout"])[:200]
VARIANT_NAME = (P["json_script_breakout"] + P["title_breakout"])[:120]
SHOW_TITLE = (P["svg_script"] + P["iframe_srcdoc"] + P["rtl_override"])[:200]
DISPLAY_NAME = P["img_onerror_breakout"][:60]
CHAT_HISTORY = (P["unquoted_attr_breakout"] + P["markdown_link"] + P["zero_width"])[:500]
CHAT_LIVE = (P["script_tag"] + P["svg_onload"] + P["img_onerror_breakout"])[:500]
DESCRIPTION = "\n".join(text for name, text in PAYLOADS if name not in ("nul_byte", "long_text"))

HOOKS = """
window.__fired = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  const original = window[name];
  window[name] = function (...args) { window.__fired.push(name + ":" + String(args[0])); return original.apply(this, args); };
}
window.__csp = [];
document.addEventListener("securitypolicyviolation", event => {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI + " " + (event.sample || ""));
});
"""


def _world(orm) -> dict:
    """The payload world, through the services (committed: the server reads it)."""
    with orm():
        from decimal import Decimal

        from catalog.services import product_create, variant_create
        from orders.services import shipping_method_create
        from shops.models import User
        from shops.services import shop_create
        from shows.services import chat_post, show_create, show_go_live

        merchant = User.objects.get(username="merchant")
        shopper = User.objects.get(username="shopper")
        shopper.display_name = DISPLAY_NAME
        shopper.save(update_fields=["display_name"])  # no profile page or service edits it yet
        shop = shop_create(owner=merchant, name=SHOP_NAME, slug="hostile-e2e", description=DESCRIPTION)
        product = product_create(shop=shop, title=PRODUCT_TITLE, description=DESCRIPTION, is_featured=True)
        variant = variant_create(
            product=product, sku="HOSTILE-E2E", price=Decimal("9.00"), name=VARIANT_NAME, on_hand=9
        )
        shipping_method_create(shop=shop, name=P["script_tag"], price=Decimal("3.00"))
        show = show_create(
            shop=shop,
            title=SHOW_TITLE,
            description=DESCRIPTION,
            scheduled_start=timezone.now() + timezone.timedelta(hours=1),
            products=[product],
        )
        show = show_go_live(show=show, user=merchant)
        chat_post(show=show, user=shopper, text=CHAT_HISTORY)
        return {
            "shop": shop.get_absolute_url(),
            "product": product.get_absolute_url(),
            "show": show.get_absolute_url(),
            "show_id": show.pk,
            "shop_id": shop.pk,
            "product_id": product.pk,
            "variant_id": variant.pk,
        }


def _watch(page: Page) -> list[str]:
    """Records every dialog and every CSP violation the console reports, for the page's lifetime."""
    seen: list[str] = []
    page.on(
        "dialog", lambda dialog: (seen.append(f"dialog {dialog.type}: {dialog.message}"), dialog.dismiss())
    )
    page.on(
        "console",
        lambda message: (
            seen.append(f"console: {message.text}")
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: seen.append(f"page error: {error}"))
    page.add_init_script(HOOKS)
    return seen


def _visit(page: Page, url: str, seen: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    page.wait_for_load_state("load")
    fired = page.evaluate("window.__fired") + [f"csp {v}" for v in page.evaluate("window.__csp")]
    assert not fired and not seen, (url, fired, seen)


def test_payloads_never_run_in_the_storefront_room_console_or_admin(new_context, orm):
    world = _world(orm)
    shopper = new_context().new_page()
    host = new_context().new_page()
    shopper_seen, host_seen = _watch(shopper), _watch(host)
    log_in(shopper, *SHOPPER)
    log_in(host, *MERCHANT)

    for url in ("/", world["shop"], world["product"], "/products/", f"/search/?q={P['script_tag']}"):
        _visit(shopper, url, shopper_seen)
    _visit(shopper, world["product"], shopper_seen)
    expect(shopper.get_by_role("heading", level=1)).to_have_text(PRODUCT_TITLE)

    # The show page: the history is text, and so is a line that arrives live from the host.
    _visit(shopper, world["show"], shopper_seen)
    expect(shopper.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    expect(shopper.locator(".chat__text", has_text=CHAT_HISTORY)).to_have_count(1)
    _visit(host, f"/shows/{world['show_id']}/host/", host_seen)
    expect(host.locator("[data-host-console]")).to_have_attribute("data-conn", "open")
    host.locator("[data-chat-form] input[name=text]").fill(CHAT_LIVE)
    host.locator("[data-chat-form] button[type=submit]").click()
    expect(shopper.locator(".chat__text").filter(has_text=CHAT_LIVE[:30])).to_have_text(CHAT_LIVE)
    expect(shopper.locator(".chat__user", has_text=DISPLAY_NAME)).to_have_count(1)
    assert shopper.locator("[data-chat-list] img, [data-chat-list] svg, [data-chat-list] script").count() == 0
    fired = shopper.evaluate("window.__fired") + shopper.evaluate("window.__csp")
    assert not fired and not shopper_seen, (fired, shopper_seen)

    # Cart and checkout with the product in the cart.
    _visit(shopper, world["product"], shopper_seen)
    shopper.get_by_role("button", name="Add to cart").first.click()
    expect(shopper.locator("#cart-badge")).to_contain_text("1")
    for url in ("/cart/", "/checkout/"):
        _visit(shopper, url, shopper_seen)
    expect(shopper.get_by_text(PRODUCT_TITLE).first).to_be_visible()

    # The admin pages a merchant edits these in.
    _visit(host, f"/admin/shows/show/{world['show_id']}/change/", host_seen)
    expect(host.locator("#id_title")).to_have_value(SHOW_TITLE)
    for url in (
        f"/admin/shops/shop/{world['shop_id']}/change/",
        f"/admin/catalog/product/{world['product_id']}/change/",
        "/admin/shows/chatmessage/",
        "/admin/catalog/product/",
        "/admin/shows/show/",
    ):
        _visit(host, url, host_seen)
