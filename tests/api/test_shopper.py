"""The signed-in shopper's cart, orders and reminders."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import CartLine
from orders.services import cart_add, cart_get_or_create
from shows.models import ShowReminder
from shows.services import show_create
from tests.api.conftest import assert_error, place_order

pytestmark = pytest.mark.django_db


def test_cart_add_update_remove(shopper_api, shopper, variant):
    assert shopper_api.get("/api/v1/me/cart/").json() == {"item_count": 0, "groups": []}
    added = shopper_api.post("/api/v1/me/cart/lines/", {"variant": variant.pk, "quantity": 2}, format="json")
    assert added.status_code == 201, added.content
    cart = added.json()
    assert cart["item_count"] == 2
    (group,) = cart["groups"]
    assert group["shop"] == "vinyl-vault" and group["subtotal"] == "63.00"
    line_id = group["lines"][0]["id"]
    assert (
        shopper_api.patch(f"/api/v1/me/cart/lines/{line_id}/", {"quantity": 3}, format="json").json()[
            "item_count"
        ]
        == 3
    )
    body = assert_error(
        shopper_api.patch(f"/api/v1/me/cart/lines/{line_id}/", {"quantity": 9}, format="json"),
        409,
        "insufficient_stock",
    )
    assert "available" in body["message"]
    assert shopper_api.delete(f"/api/v1/me/cart/lines/{line_id}/").status_code == 204
    assert not CartLine.objects.exists()


def test_cart_refuses_unknown_variants_and_other_shoppers_lines(shopper_api, other_shopper, variant):
    assert_error(
        shopper_api.post("/api/v1/me/cart/lines/", {"variant": 999999}, format="json"), 409, "unavailable"
    )
    theirs = cart_add(cart=cart_get_or_create(user=other_shopper), variant_id=variant.pk)
    assert_error(
        shopper_api.patch(f"/api/v1/me/cart/lines/{theirs.pk}/", {"quantity": 1}, format="json"), 404
    )
    assert_error(shopper_api.delete(f"/api/v1/me/cart/lines/{theirs.pk}/"), 404)
    assert CartLine.objects.filter(pk=theirs.pk).exists()


def test_cart_writes_need_csrf_with_a_session(shopper):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(shopper)
    assert_error(client.post("/api/v1/me/cart/lines/", {"variant": 1}, format="json"), 403)


def test_orders_are_the_shoppers_own(shopper_api, shopper, other_shopper, variant):
    mine = place_order(shopper, variant)
    theirs = place_order(other_shopper, variant)
    listed = shopper_api.get("/api/v1/me/orders/").json()["results"]
    assert [o["number"] for o in listed] == [mine.number]
    assert "email" not in listed[0]
    assert shopper_api.get(f"/api/v1/me/orders/{mine.number}/").json()["total"] == str(mine.total)
    assert_error(shopper_api.get(f"/api/v1/me/orders/{theirs.number}/"), 404)
    assert_error(shopper_api.post(f"/api/v1/me/orders/{theirs.number}/cancel/"), 404)
    assert shopper_api.post(f"/api/v1/me/orders/{mine.number}/cancel/").json()["status"] == "cancelled"


def test_reminders(shopper_api, shopper, shop):
    show = show_create(shop=shop, title="Friday drop", scheduled_start=timezone.now() + timedelta(days=1))
    created = shopper_api.post("/api/v1/me/reminders/", {"show": show.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["show"]["id"] == show.pk
    assert [r["show"]["title"] for r in shopper_api.get("/api/v1/me/reminders/").json()["results"]] == [
        "Friday drop"
    ]
    assert shopper_api.delete(f"/api/v1/me/reminders/{show.pk}/").status_code == 204
    assert not ShowReminder.objects.exists()


def test_api_keys_and_anonymous_callers_cannot_use_shopper_endpoints(api, anon):
    assert_error(api.get("/api/v1/me/cart/"), 403)
    assert_error(anon.get("/api/v1/me/orders/"), 401)
