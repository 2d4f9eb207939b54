"""Buy now in a live show holds the unit and goes to checkout; sold out offers the waitlist."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from catalog.models import Stock
from catalog.stock import stock_set_on_hand
from orders.models import CartLine, Reservation, WaitlistEntry
from tests.catalog.factories import VariantFactory
from tests.shows.test_consumer_room import _connect, _receive_until


@pytest.fixture
def live_show(pinned_live_show):
    return pinned_live_show


@pytest.mark.django_db
def test_buy_now_holds_a_unit_and_lands_on_checkout(client, shopper, live_show, variant):
    client.force_login(shopper)
    response = client.post(f"/shows/{live_show.pk}/buy/", {"variant_id": variant.pk})
    assert response.status_code == 302 and response["Location"] == "/checkout/"
    hold = Reservation.objects.get(user=shopper)
    assert (hold.variant_id, hold.quantity, hold.show_id, hold.status) == (
        variant.pk,
        1,
        live_show.pk,
        "active",
    )
    assert Stock.objects.get(variant=variant).allocated == 1
    assert CartLine.objects.get(cart__user=shopper).show_id == live_show.pk
    checkout = client.get("/checkout/").content.decode()
    assert "held for you" in checkout and "data-countdown" in checkout


@pytest.mark.django_db
def test_buy_now_when_sold_out_says_so_with_409(client, shopper, live_show, variant):
    stock_set_on_hand(variant_id=variant.pk, on_hand=0)
    client.force_login(shopper)
    response = client.post(f"/shows/{live_show.pk}/buy/", {"variant_id": variant.pk})
    assert response.status_code == 409
    assert "Join the waitlist" in response.content.decode()
    joined = client.post(f"/shows/{live_show.pk}/waitlist/", {"variant_id": variant.pk})
    assert joined.status_code == 302
    assert WaitlistEntry.objects.get(user=shopper).status == "waiting"


@pytest.mark.django_db
def test_buy_now_refuses_other_shops_products_and_bad_input(client, shopper, live_show, other_variant):
    client.force_login(shopper)
    assert client.post(f"/shows/{live_show.pk}/buy/", {"variant_id": other_variant.pk}).status_code == 404
    assert client.post(f"/shows/{live_show.pk}/buy/", {"variant_id": "abc"}).status_code == 404
    assert client.get(f"/shows/{live_show.pk}/buy/").status_code == 405
    client.logout()
    assert client.post(f"/shows/{live_show.pk}/buy/", {"variant_id": 1})["Location"].startswith(
        "/accounts/login/"
    )


@pytest.mark.django_db(transaction=True)
async def test_a_sale_broadcasts_units_left_to_the_room(client, shopper, live_show, variant):
    viewer = await _connect(live_show)
    try:
        await sync_to_async(client.force_login)(shopper)
        await sync_to_async(client.post)(f"/shows/{live_show.pk}/buy/", {"variant_id": variant.pk})
        payload = await _receive_until(viewer, "stock")
    finally:
        await viewer.disconnect()
        await sync_to_async(connections.close_all)()
    assert payload["product_id"] == variant.product_id
    assert payload["available"] == 4
    assert payload["variants"] == [{"id": variant.pk, "available": 4}]


@pytest.mark.django_db
def test_show_page_offers_buy_now_or_waitlist(client, shopper, live_show, variant, shop):
    client.force_login(shopper)
    assert "Buy now" in client.get(f"/shows/{live_show.pk}/").content.decode()
    stock_set_on_hand(variant_id=variant.pk, on_hand=0)
    VariantFactory(product=variant.product, on_hand=0)
    assert "Join waitlist" in client.get(f"/shows/{live_show.pk}/").content.decode()
