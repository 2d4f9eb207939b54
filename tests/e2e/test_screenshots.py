"""Screenshots of the main pages for the README (docs/screenshots/).

They go to a temporary folder in a normal run, and to LIVEMARKET_SCREENSHOTS when it is set
(`make screenshots` sets it to docs/screenshots).
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import MERCHANT, SHOPPER, log_in

pytestmark = pytest.mark.e2e

LIVE_SHOW = "Friday Night Crate Digging"  # seeded live, with a pinned product and chat


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("LIVEMARKET_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def live_show_id(orm) -> int:
    from shows.models import Show

    with orm():
        show = Show.objects.get(title=LIVE_SHOW)
        # The demo stream is on the internet, which the tests never reach: picture the show as one
        # without a stream yet rather than with a "stream unreachable" notice.
        Show.objects.filter(pk=show.pk).update(playback_url="")
        return show.pk


def settle(page: Page) -> None:
    """Fonts and images loaded, animations done: the picture is the page at rest."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.add_style_tag(
        content="*, *::before, *::after { animation: none !important; transition: none !important; }"
    )


def save(page: Page, path: Path, *, full_page: bool = False) -> None:
    settle(page)
    page.screenshot(path=path, full_page=full_page)
    assert path.stat().st_size > 10_000, f"{path.name} looks empty"


def test_screenshots_of_the_storefront_show_and_console(new_context, orm, shots: Path):
    show_id = live_show_id(orm)

    desktop = new_context().new_page()
    desktop.goto("/")
    save(desktop, shots / "home.png", full_page=True)
    desktop.goto("/shops/vinyl-vault/products/neon-tides/")
    save(desktop, shots / "product.png")
    desktop.goto(f"/shows/{show_id}/")
    expect(desktop.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    save(desktop, shots / "show-desktop.png")

    phone = new_context(phone=True).new_page()
    log_in(phone, *SHOPPER)
    phone.goto(f"/shows/{show_id}/")
    expect(phone.locator("[data-show-room]")).to_have_attribute("data-conn", "open")
    expect(phone.locator("[data-pinned]")).to_be_visible()
    save(phone, shots / "show-phone.png")

    phone.goto("/shops/vinyl-vault/products/low-sun-over-lisbon/")
    phone.get_by_role("button", name="Add to cart").click()
    expect(phone.locator("#cart-badge")).not_to_have_class("cart-badge is-empty")
    phone.goto("/checkout/")
    save(phone, shots / "checkout.png", full_page=True)

    host = new_context().new_page()
    log_in(host, *MERCHANT)
    host.goto(f"/shows/{show_id}/host/")
    expect(host.locator("[data-host-console]")).to_have_attribute("data-conn", "open")
    save(host, shots / "host-console.png", full_page=True)
