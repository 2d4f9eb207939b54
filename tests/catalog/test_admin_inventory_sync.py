"""Stock feeds and sync runs in the admin: "Sync now" records and runs a sync; merchants see their own."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from catalog.models import InventorySyncRun, Stock, StockFeed

pytestmark = pytest.mark.django_db


@pytest.fixture
def feeds(shop, other_shop, variant, other_variant):
    own = StockFeed.objects.create(shop=shop, file=ContentFile(b"sku,quantity\nBT-LP,11\n", name="own.csv"))
    foreign = StockFeed.objects.create(
        shop=other_shop, file=ContentFile(b"sku,quantity\nRP-42,40\n", name="foreign.csv")
    )
    return own, foreign


def _sync_now(client, feed_ids, action="sync_now"):
    return client.post(
        reverse("admin:catalog_stockfeed_changelist"), {"action": action, "_selected_action": feed_ids}
    )


def test_sync_now_records_who_started_it_and_applies_the_feed(
    client, merchant, feeds, variant, django_capture_on_commit_callbacks
):
    client.force_login(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = _sync_now(client, [feeds[0].pk])
    assert response.status_code == 302
    run = InventorySyncRun.objects.get()
    assert (run.trigger, run.started_by, run.status, run.updated) == ("admin", merchant, "succeeded", 1)
    assert Stock.objects.get(variant=variant).on_hand == 11

    page = client.get(reverse("admin:catalog_inventorysyncrun_change", args=[run.pk])).content.decode()
    assert "Succeeded" in page and run.source_label.startswith("stock-feeds/") and run.source_label in page


def test_dry_run_action_changes_nothing(client, merchant, feeds, variant, django_capture_on_commit_callbacks):
    client.force_login(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        _sync_now(client, [feeds[0].pk], action="dry_run_now")
    assert InventorySyncRun.objects.get().dry_run
    assert Stock.objects.get(variant=variant).on_hand == 5


def test_a_merchant_cannot_sync_another_shops_feed(
    client, merchant, feeds, other_variant, django_capture_on_commit_callbacks
):
    client.force_login(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        _sync_now(client, [feeds[1].pk])
    assert not InventorySyncRun.objects.exists()
    assert Stock.objects.get(variant=other_variant).on_hand == 3


def test_a_url_feed_needs_its_url_and_an_upload_feed_its_file(client, merchant, shop):
    client.force_login(merchant)
    response = client.post(
        reverse("admin:catalog_stockfeed_add"),
        {"source": "url", "url": "", "format": "csv", "interval_minutes": 60, "enabled": "on"},
    )
    assert "A URL feed needs its URL." in response.content.decode()
    response = client.post(
        reverse("admin:catalog_stockfeed_add"), {"source": "upload", "format": "csv", "interval_minutes": 60}
    )
    assert "Upload the feed file" in response.content.decode()
    assert not StockFeed.objects.exists()


def test_an_uploaded_feed_is_stored_where_no_url_serves_it(feeds, settings):
    own, _ = feeds
    path = own.file.path
    assert path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT) + "/")


def test_only_http_urls_are_accepted(client, merchant, shop):
    client.force_login(merchant)
    response = client.post(
        reverse("admin:catalog_stockfeed_add"),
        {"source": "url", "url": "ftp://example.com/stock.csv", "format": "csv", "interval_minutes": 60},
    )
    assert "The URL must start with http:// or https://." in response.content.decode()
