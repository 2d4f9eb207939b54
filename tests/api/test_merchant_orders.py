"""Merchant orders: list with filters, detail, ship with tracking, refund, cancel, deliver."""

from decimal import Decimal

import pytest

from catalog.models import Stock
from orders.models import Order
from tests.api.conftest import assert_error, place_order

pytestmark = pytest.mark.django_db


def test_list_filters_by_status_date_and_show(api, shop, variant, shopper):
    first = place_order(shopper, variant)
    second = place_order(shopper, variant, show_id=42)
    Order.objects.filter(pk=first.pk).update(created_at="2026-01-01T00:00:00Z")
    listed = api.get("/api/v1/merchant/orders/").json()
    assert [o["number"] for o in listed["results"]] == [second.number, first.number]
    assert listed["results"][0]["lines"][0]["sku"] == "BT-LP"
    by_show = api.get("/api/v1/merchant/orders/", {"show": 42}).json()["results"]
    assert [o["number"] for o in by_show] == [second.number]
    recent = api.get("/api/v1/merchant/orders/", {"created_after": "2026-06-01T00:00:00Z"}).json()["results"]
    assert [o["number"] for o in recent] == [second.number]
    assert api.get("/api/v1/merchant/orders/", {"status": "shipped"}).json()["count"] == 0
    assert api.get("/api/v1/merchant/orders/", {"status": ["paid", "fulfilling"]}).json()["count"] == 2


def test_ship_with_tracking_goes_through_fulfilment(api, shop, variant, shopper):
    order = place_order(shopper, variant, quantity=2)
    response = api.post(
        f"/api/v1/merchant/orders/{order.number}/ship/",
        {"carrier": "UPS", "tracking_number": "1Z999"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "shipped"
    assert body["shipment"]["tracking_number"] == "1Z999" and body["shipment"]["carrier"] == "UPS"
    assert [e["to_status"] for e in body["events"]][-1] == "shipped"
    assert body["events"][-1]["actor_label"] == "merchant"
    stock = Stock.objects.get(variant_id=variant.pk)
    assert (stock.on_hand, stock.allocated) == (3, 0)
    again = api.post(f"/api/v1/merchant/orders/{order.number}/ship/", {"tracking_number": "X"}, format="json")
    assert_error(again, 409, "illegal_transition")


def test_ship_needs_a_tracking_number(api, variant, shopper):
    order = place_order(shopper, variant)
    body = assert_error(api.post(f"/api/v1/merchant/orders/{order.number}/ship/", {}, format="json"), 400)
    assert "tracking_number" in body["fields"]


def test_partial_then_full_refund(api, variant, shopper):
    order = place_order(shopper, variant)
    partial = api.post(
        f"/api/v1/merchant/orders/{order.number}/refund/",
        {"amount": "5.00", "reason": "Scuff"},
        format="json",
    )
    assert partial.status_code == 200, partial.content
    assert partial.json()["refunded_total"] == "5.00" and partial.json()["status"] == "paid"
    too_much = api.post(f"/api/v1/merchant/orders/{order.number}/refund/", {"amount": "9999"}, format="json")
    assert_error(too_much, 409, "refund_refused")
    full = api.post(f"/api/v1/merchant/orders/{order.number}/refund/", {}, format="json").json()
    assert full["status"] == "refunded" and Decimal(full["refunded_total"]) == order.total
    assert Stock.objects.get(variant_id=variant.pk).allocated == 0


def test_cancel_and_deliver(api, variant, shopper):
    order = place_order(shopper, variant)
    assert (
        api.post(
            f"/api/v1/merchant/orders/{order.number}/cancel/", {"reason": "Out of stock"}, format="json"
        ).json()["status"]
        == "cancelled"
    )
    other = place_order(shopper, variant)
    api.post(f"/api/v1/merchant/orders/{other.number}/ship/", {"tracking_number": "T1"}, format="json")
    assert api.post(f"/api/v1/merchant/orders/{other.number}/deliver/").json()["status"] == "delivered"


def test_order_list_query_count_does_not_grow(api, variant, shopper, django_assert_max_num_queries):
    place_order(shopper, variant)
    with django_assert_max_num_queries(9):
        api.get("/api/v1/merchant/orders/")
    for _ in range(4):
        place_order(shopper, variant)
    with django_assert_max_num_queries(9):
        assert api.get("/api/v1/merchant/orders/").json()["count"] == 5
