"""What the e2e tests do the same way: log in, fill the checkout, make a show on the seeded data."""

import re

from django.utils import timezone
from playwright.sync_api import Page, expect

MERCHANT = ("merchant@livemarket.test", "merchant-demo-pass")
SHOPPER = ("shopper@livemarket.test", "shopper-demo-pass")
GOOD_CARD = "4242 4242 4242 4242"


def log_in(page: Page, email: str, password: str, *, next_url: str = "/") -> None:
    page.goto(f"/accounts/login/?next={next_url}")
    page.get_by_label("Email or username").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name=re.compile("Sign in|Log in", re.I)).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def fill_checkout(page: Page, *, card: str = GOOD_CARD) -> None:
    """Address and card on the checkout page, then "Place order"."""
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("1 Harbour Street")
    page.get_by_label("City").fill("Lisbon")
    page.get_by_label("Postal code").fill("1100-001")
    page.get_by_label("Country").fill("PT")
    page.get_by_label("Card number").fill(card)
    page.get_by_role("button", name="Place order").click()


def make_show(
    *, title: str, product_slugs: tuple[str, ...], live: bool = False, shop_slug: str = "vinyl-vault"
):
    """A show of the seeded shop (call inside `orm()`); scheduled unless `live`."""
    from catalog.models import Product
    from shops.models import Shop
    from shows.services import show_create, show_go_live

    shop = Shop.objects.get(slug=shop_slug)
    products = [Product.objects.get(shop=shop, slug=slug) for slug in product_slugs]
    show = show_create(
        shop=shop,
        title=title,
        scheduled_start=timezone.now() + timezone.timedelta(hours=1),
        products=products,
    )
    if live:
        show = show_go_live(show=show)
    return show
