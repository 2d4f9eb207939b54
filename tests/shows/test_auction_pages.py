"""The plain-HTTP side of auctions: the bid POST and the bidding setup page."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Address, PaymentMethod
from shows.auctions import lot_start
from shows.models import Bid
from shows.services import show_create, show_go_live
from tests.shows.test_auctions import make_bidder

pytestmark = pytest.mark.django_db

CARD_FORM = {
    "card_number": "4242 4242 4242 4242",
    "full_name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "gb",
}


@pytest.fixture
def lot(shop, merchant, variant):
    show = show_go_live(show=show_create(shop=shop, title="Bids", scheduled_start=timezone.now()))
    return lot_start(show=show, user=merchant, variant_id=variant.pk, starting_price="10.00")


def _bid(client, lot, body, *, content_type="application/json"):
    url = reverse("lot_bid", kwargs={"show_id": lot.show_id, "lot_id": lot.pk})
    data = json.dumps(body) if content_type == "application/json" and not isinstance(body, str) else body
    return client.post(url, data, content_type=content_type)


def test_bid_by_post_is_placed_and_answers_with_the_lot(client, lot):
    client.force_login(make_bidder("ada"))
    response = _bid(client, lot, {"amount": "10.00"})
    assert response.status_code == 200
    assert (response.json()["leading"], response.json()["lot"]["current_price"]) == (True, "10.00")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"amount": "9.00"}, 409, "bid_too_low"),
        ({"amount": "ten"}, 400, "invalid"),
        ("{not json", 400, "invalid"),
        ([1, 2], 400, "invalid"),
    ],
)
def test_bad_bids_by_post_get_a_clear_4xx_and_change_nothing(client, lot, body, status, code):
    client.force_login(make_bidder("ada"))
    response = _bid(client, lot, body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.json()["message"]
    assert not Bid.objects.exists()


def test_bid_by_post_needs_login_and_is_refused_to_the_seller(client, lot, merchant):
    assert _bid(client, lot, {"amount": "10.00"}).status_code == 401
    client.force_login(merchant)
    response = _bid(client, lot, {"amount": "10.00"})
    assert (response.status_code, response.json()["code"]) == (403, "bid_not_allowed")


def test_a_lot_of_another_show_is_not_found(client, lot, other_shop):
    other = show_go_live(show=show_create(shop=other_shop, title="Other", scheduled_start=timezone.now()))
    client.force_login(make_bidder("ada"))
    url = reverse("lot_bid", kwargs={"show_id": other.pk, "lot_id": lot.pk})
    assert client.post(url, {"amount": "10.00"}).status_code == 404


def test_bidding_setup_saves_a_card_and_an_address(client, shopper):
    client.force_login(shopper)
    assert client.get(reverse("bidding_setup")).status_code == 200
    response = client.post(reverse("bidding_setup") + "?next=https://evil.example/", CARD_FORM)
    assert response.status_code == 302 and response["Location"] == reverse("bidding_setup")
    method = PaymentMethod.objects.get(user=shopper)
    assert (method.card_last4, method.is_default, "4242424242424242" in method.token) == ("4242", True, False)
    assert Address.objects.get(user=shopper).country == "GB"
    assert "ready to bid" in client.get(reverse("bidding_setup")).content.decode()


def test_bidding_setup_refuses_a_declined_card_and_bad_fields(client, shopper):
    client.force_login(shopper)
    response = client.post(reverse("bidding_setup"), {**CARD_FORM, "card_number": "4000 0000 0000 0002"})
    assert response.status_code == 402 and "declined" in response.content.decode()
    assert client.post(reverse("bidding_setup"), {**CARD_FORM, "country": "Narnia"}).status_code == 400
    assert not PaymentMethod.objects.exists()


def test_bidding_setup_needs_login(client):
    assert client.get(reverse("bidding_setup")).status_code == 302
