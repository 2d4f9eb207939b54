"""The buy-a-product slice end to end through Django's test client."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Stock
from orders.models import Order
from shows.services import show_create
from tests.shops.factories import UserFactory


def _checkout_key(html: str) -> str:
    return re.search(r'name="checkout_key" value="([0-9a-f-]{36})"', html).group(1)


def _checkout_form(key: str, card: str = "4242 4242 4242 4242") -> dict:
    return {
        "checkout_key": key,
        "email": "new@example.test",
        "full_name": "New Shopper",
        "line1": "5 Main Street",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "us",
        "card_number": card,
        "save_address": "on",
    }


@pytest.mark.django_db
def test_shopper_signs_up_browses_buys_and_sees_the_order(
    client, shop, variant, mailoutbox, django_capture_on_commit_callbacks
):
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.test", "password1": "a-Long-pass-4567", "password2": "a-Long-pass-4567"},
    )
    # Every signup gets "check your e-mail" (no telling registered addresses apart); verification is
    # optional, so the password signs in right away.
    assert response["Location"] == reverse("account_email_verification_sent")
    login = {"login": "new@example.test", "password": "a-Long-pass-4567"}
    assert client.post(reverse("account_login"), login).status_code == 302

    home = client.get("/").content.decode()
    assert "Blue Train LP" in home
    shop_page = client.get(f"/shops/{shop.slug}/").content.decode()
    assert variant.product.get_absolute_url() in shop_page
    product_page = client.get(variant.product.get_absolute_url())
    assert product_page.status_code == 200
    assert "31.50" in product_page.content.decode()

    added = client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 2})
    assert added.status_code == 302
    cart_page = client.get("/cart/").content.decode()
    assert "Blue Train LP" in cart_page and "63.00" in cart_page

    checkout_page = client.get("/checkout/")
    assert checkout_page.status_code == 200
    key = _checkout_key(checkout_page.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        placed = client.post("/checkout/", _checkout_form(key))
    assert placed.status_code == 302
    confirmation = client.get(placed["Location"]).content.decode()
    order = Order.objects.get()
    assert order.number in confirmation
    assert (order.status, order.country, str(order.total)) == (
        "fulfilling",
        "US",
        "63.00",
    )  # paid, then packed on commit
    assert Stock.objects.get(variant=variant).available == 3

    my_orders = client.get("/orders/").content.decode()
    assert order.number in my_orders
    detail = client.get(f"/orders/{order.number}/").content.decode()
    assert "Blue Train LP" in detail and "31.50" in detail
    assert any(order.number in m.subject for m in mailoutbox)

    # Submitting the same form again (a double click) places nothing new.
    again = client.post("/checkout/", _checkout_form(key))
    assert again.status_code == 302
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_declined_card_shows_an_error_and_keeps_the_cart(client, shopper, variant):
    client.force_login(shopper)
    client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 1})
    key = _checkout_key(client.get("/checkout/").content.decode())
    response = client.post("/checkout/", _checkout_form(key, card="4000 0000 0000 0002"))
    assert response.status_code == 402
    html = response.content.decode()
    assert "Your card was declined." in html
    assert _checkout_key(html) != key  # the retry is a new checkout
    assert "Blue Train LP" in client.get("/cart/").content.decode()
    assert Stock.objects.get(variant=variant).allocated == 0


@pytest.mark.django_db
def test_bad_checkout_input_gets_a_400_with_field_errors(client, shopper, variant):
    client.force_login(shopper)
    client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 1})
    key = _checkout_key(client.get("/checkout/").content.decode())
    form = _checkout_form(key)
    form["country"] = "Narnia"
    form["card_number"] = "12"
    response = client.post("/checkout/", form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "two-letter country code" in html and "valid card number" in html
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_adding_more_than_in_stock_is_refused_with_a_message(client, variant):
    response = client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 9}, follow=True)
    assert "Only 5 left in stock." in response.content.decode()
    assert client.post(reverse("cart_add"), {"variant_id": "x"}).status_code == 400
    assert client.post(reverse("cart_add"), {"variant_id": 999999, "quantity": 1}).status_code == 404


@pytest.mark.django_db
def test_another_shoppers_order_is_a_404(client, shopper, other_shopper, variant):
    client.force_login(shopper)
    client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 1})
    key = _checkout_key(client.get("/checkout/").content.decode())
    client.post("/checkout/", _checkout_form(key))
    order = Order.objects.get()
    client.force_login(other_shopper)
    assert client.get(f"/orders/{order.number}/").status_code == 404
    assert client.get(f"/checkout/complete/{key}/").status_code == 404


@pytest.mark.django_db
def test_anonymous_cart_follows_the_shopper_into_their_account(client, variant):
    UserFactory(username="returning", email="returning@example.test", password="a-Long-pass-4567")
    client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 2})
    client.post(reverse("account_login"), {"login": "returning@example.test", "password": "a-Long-pass-4567"})
    assert "Blue Train LP" in client.get("/cart/").content.decode()


@pytest.mark.django_db
def test_every_page_renders_for_an_anonymous_visitor(client, shop, variant):
    show = show_create(
        shop=shop, title="Crate digging", scheduled_start=timezone.now(), products=[variant.product]
    )
    for url in [
        "/",
        f"/shops/{shop.slug}/",
        variant.product.get_absolute_url(),
        "/search/?q=blue",
        "/search/",
        f"/shows/{show.pk}/",
        "/cart/",
        "/accounts/login/",
        "/accounts/signup/",
        "/admin/login/",
    ]:
        assert client.get(url).status_code == 200, url
    for url in ["/checkout/", "/orders/"]:
        assert client.get(url)["Location"].startswith("/accounts/login/"), url
    assert client.get("/shops/nope/").status_code == 404
