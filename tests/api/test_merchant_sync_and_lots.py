"""Inventory sync runs (start one, read its results) and auction lots, through the merchant API."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.models import InventorySyncRun, Stock, StockFeed
from catalog.stock import stock_allocate
from shows.services import show_create, show_go_live
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


def test_upload_a_feed_and_read_the_run(api, shop, variant):
    stock_allocate(lines=[(variant.pk, 4)])
    feed = SimpleUploadedFile("feed.csv", b"sku,quantity\nBT-LP,12\nNOPE,3\n", content_type="text/csv")
    response = api.post("/api/v1/merchant/sync-runs/", {"file": feed}, format="multipart")
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["status"] == "succeeded" and run["trigger"] == "api"
    assert (run["rows_total"], run["updated"], run["unknown_sku"]) == (2, 1, 1)
    assert Stock.objects.get(variant_id=variant.pk).on_hand == 12
    assert api.get(f"/api/v1/merchant/sync-runs/{run['id']}/").json()["updated"] == 1
    below = SimpleUploadedFile("feed.csv", b"sku,quantity\nBT-LP,1\n", content_type="text/csv")
    conflict = api.post("/api/v1/merchant/sync-runs/", {"file": below}, format="multipart").json()
    assert conflict["conflicts"] == 1 and Stock.objects.get(variant_id=variant.pk).on_hand == 12
    listed = api.get("/api/v1/merchant/sync-runs/", {"status": "succeeded"}).json()["results"]
    assert [r["id"] for r in listed] == [conflict["id"], run["id"]]


def test_start_a_run_of_the_shops_feed_in_the_background(
    api, shop, variant, django_capture_on_commit_callbacks
):
    StockFeed.objects.create(shop=shop, file=ContentFile(b"sku,quantity\nBT-LP,9\n", name="feed.csv"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/merchant/sync-runs/", {"dry_run": False}, format="json")
    assert response.status_code == 202, response.content
    run = InventorySyncRun.objects.get(pk=response.json()["id"])
    assert run.status == "succeeded" and run.updated == 1
    assert Stock.objects.get(variant_id=variant.pk).on_hand == 9


def test_without_a_feed_or_file_the_start_is_refused(api, shop):
    body = assert_error(api.post("/api/v1/merchant/sync-runs/", {}, format="json"), 409, "stock_feed_error")
    assert "no stock feed" in body["message"]
    assert not InventorySyncRun.objects.exists()


def test_start_a_lot_in_a_live_show_and_list_lots(api, shop, variant):
    show = show_go_live(show=show_create(shop=shop, title="Auction night", scheduled_start=timezone.now()))
    url = f"/api/v1/merchant/shows/{show.pk}/lots/"
    created = api.post(
        url, {"variant": variant.pk, "starting_price": "10.00", "duration_seconds": 60}, format="json"
    )
    assert created.status_code == 201, created.content
    lot = created.json()
    assert lot["status"] == "open" and lot["starting_price"] == "10.00" and lot["next_minimum"] == "10.00"
    assert Stock.objects.get(variant_id=variant.pk).allocated == 1
    assert [entry["id"] for entry in api.get(url).json()] == [lot["id"]]
    assert_error(
        api.post(url, {"variant": variant.pk, "starting_price": "5.00"}, format="json"), 409, "lot_error"
    )


def test_a_lot_needs_a_live_show_and_a_positive_price(api, shop, variant):
    show = show_create(shop=shop, title="Later", scheduled_start=timezone.now())
    url = f"/api/v1/merchant/shows/{show.pk}/lots/"
    assert_error(
        api.post(url, {"variant": variant.pk, "starting_price": "10.00"}, format="json"), 409, "not_live"
    )
    show_go_live(show=show)
    assert_error(api.post(url, {"variant": variant.pk, "starting_price": "0"}, format="json"), 400, "invalid")
