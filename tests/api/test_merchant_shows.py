"""Merchant shows: create, reschedule, lineup, go live, pin, deal, end; through shows.services."""

from datetime import timedelta

import pytest
from django.utils import timezone

from shows.models import FlashDeal, LineupItem, Show
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def later():
    return (timezone.now() + timedelta(days=2)).replace(microsecond=0)


def test_create_edit_lineup_live_pin_deal_end(api, shop, variant, later, django_capture_on_commit_callbacks):
    second = ProductFactory(shop=shop, title="Second LP")
    created = api.post(
        "/api/v1/merchant/shows/",
        {"title": "Friday crate dig", "scheduled_start": later.isoformat(), "products": [variant.product_id]},
        format="json",
    )
    assert created.status_code == 201, created.content
    show = created.json()
    assert show["status"] == "scheduled" and show["stream_key"] and show["ingest_url"]
    assert show["stream_key_hint"] == show["stream_key"][-4:]
    assert [item["product"] for item in show["lineup"]] == [variant.product_id]
    url = f"/api/v1/merchant/shows/{show['id']}/"

    moved = (later + timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    assert (
        api.patch(url, {"scheduled_start": moved, "title": "Friday dig"}, format="json").json()["title"]
        == "Friday dig"
    )
    lineup = api.put(f"{url}lineup/", {"products": [second.pk, variant.product_id]}, format="json").json()[
        "lineup"
    ]
    assert [item["product"] for item in lineup] == [second.pk, variant.product_id]

    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{url}go-live/").json()["status"] == "live"
    assert (
        api.post(f"{url}pin/", {"product": variant.product_id}, format="json").json()["pinned_product"]
        == variant.product_id
    )
    deal = api.post(
        f"{url}deals/",
        {"variant": variant.pk, "price": "19.00", "units": 2, "duration_seconds": 60},
        format="json",
    )
    assert deal.status_code == 201, deal.content
    assert deal.json()["price"] == "19.00" and FlashDeal.objects.get().status == "active"
    assert_error(api.patch(url, {"scheduled_start": moved}, format="json"), 409, "invalid_state")
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{url}end/").json()["status"] == "ended"
    assert FlashDeal.objects.get().status == "ended"


def test_lineup_and_pins_refuse_products_of_other_shops(api, shop, later, other_variant):
    show = api.post(
        "/api/v1/merchant/shows/", {"title": "S", "scheduled_start": later.isoformat()}, format="json"
    ).json()
    url = f"/api/v1/merchant/shows/{show['id']}/"
    assert_error(
        api.put(f"{url}lineup/", {"products": [other_variant.product_id]}, format="json"), 400, "invalid"
    )
    assert_error(
        api.post(
            "/api/v1/merchant/shows/",
            {"title": "S", "scheduled_start": later.isoformat(), "products": [other_variant.product_id]},
            format="json",
        ),
        400,
    )
    assert not LineupItem.objects.exists()


def test_deal_needs_a_live_show(api, shop, variant, later):
    show = api.post(
        "/api/v1/merchant/shows/", {"title": "S", "scheduled_start": later.isoformat()}, format="json"
    ).json()
    body = assert_error(
        api.post(
            f"/api/v1/merchant/shows/{show['id']}/deals/",
            {"variant": variant.pk, "price": "1", "units": 1},
            format="json",
        ),
        409,
        "not_live",
    )
    assert "live" in body["message"]


def test_suspended_shop_cannot_go_live(api, shop, later):
    from shops.services import shop_set_status

    show = api.post(
        "/api/v1/merchant/shows/", {"title": "S", "scheduled_start": later.isoformat()}, format="json"
    ).json()
    shop_set_status(shop=shop, status="suspended")
    assert_error(api.post(f"/api/v1/merchant/shows/{show['id']}/go-live/"), 409, "shop_suspended")
    assert Show.objects.get(pk=show["id"]).status == "scheduled"
