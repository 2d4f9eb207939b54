"""Inventory sync from stock feeds: counts, idempotency, conflicts, dry runs and every kind of bad feed."""

import io
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog.models import InventorySyncRun, Stock, StockFeed
from catalog.stock import stock_allocate
from catalog.sync import services as sync_services
from catalog.sync.services import inventory_sync_now, stock_feeds_sync_due
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.servers import free_port

pytestmark = pytest.mark.django_db

S = InventorySyncRun.Status


@pytest.fixture
def catalog(shop):
    product = ProductFactory(shop=shop)
    return {
        sku: VariantFactory(product=product, sku=sku, on_hand=on_hand)
        for sku, on_hand in (("A-1", 5), ("B-2", 0), ("C-3", 7))
    }


def on_hand(variants) -> dict[str, int]:
    return {sku: Stock.objects.get(variant=v).on_hand for sku, v in variants.items()}


def sync(shop, data: bytes | str, *, format="csv", **kwargs) -> InventorySyncRun:
    raw = data.encode() if isinstance(data, str) else data
    return inventory_sync_now(
        shop=shop, trigger=InventorySyncRun.Trigger.COMMAND, file=io.BytesIO(raw), format=format, **kwargs
    )


def test_csv_feed_sets_on_hand_and_records_the_run(shop, catalog):
    run = sync(shop, "sku,quantity\nA-1,12\nB-2,3\nC-3,7\n")
    assert run.status == S.SUCCEEDED
    assert on_hand(catalog) == {"A-1": 12, "B-2": 3, "C-3": 7}
    assert (run.rows_total, run.updated, run.unchanged, run.unknown_sku, run.invalid, run.conflicts) == (
        3,
        2,
        1,
        0,
        0,
        0,
    )
    assert run.trigger == "command" and run.errors == [] and run.started_at <= run.finished_at


def test_running_the_same_feed_twice_changes_nothing_the_second_time(shop, catalog):
    feed = "sku;qty\nA-1;1\nB-2;2\nC-3;3\n"  # semicolons and the qty alias are accepted
    sync(shop, feed)
    second = sync(shop, feed)
    assert (second.updated, second.unchanged) == (0, 3)
    assert on_hand(catalog) == {"A-1": 1, "B-2": 2, "C-3": 3}


def test_a_row_below_what_is_allocated_is_a_conflict_and_left_unchanged(shop, catalog):
    stock_allocate(lines=[(catalog["A-1"].pk, 4)])
    run = sync(shop, "sku,quantity\nA-1,3\nC-3,9\n")
    assert run.status == S.SUCCEEDED
    assert (run.updated, run.conflicts) == (1, 1)
    assert on_hand(catalog)["A-1"] == 5 and on_hand(catalog)["C-3"] == 9
    assert run.errors == [
        {
            "line": 2,
            "message": "SKU 'A-1': 4 units are allocated to orders, so on hand cannot be set to 3; left unchanged",
        }
    ]


def test_dry_run_reports_what_would_change_and_changes_nothing(shop, catalog):
    stock_allocate(lines=[(catalog["A-1"].pk, 4)])
    run = sync(shop, "sku,quantity\nA-1,3\nB-2,8\nZZ,1\n", dry_run=True)
    assert run.dry_run and run.status == S.SUCCEEDED
    assert (run.updated, run.conflicts, run.unknown_sku) == (1, 1, 1)
    assert on_hand(catalog) == {"A-1": 5, "B-2": 0, "C-3": 7}


def test_json_feed_as_a_list_or_an_items_object(shop, catalog):
    sync(shop, json.dumps([{"sku": "A-1", "quantity": 2}, {"sku": "B-2", "on_hand": "4"}]), format="json")
    assert on_hand(catalog) == {"A-1": 2, "B-2": 4, "C-3": 7}
    sync(shop, json.dumps({"items": [{"sku": "C-3", "quantity": 0}]}), format="json")
    assert on_hand(catalog)["C-3"] == 0


def test_a_sku_listed_twice_ends_at_its_last_line(shop, catalog):
    run = sync(shop, "sku,quantity\nA-1,1\nB-2,1\nA-1,9\n")
    assert on_hand(catalog)["A-1"] == 9
    assert run.rows_total == run.updated + run.unchanged == 3


def test_a_sku_listed_twice_is_applied_in_file_order_line_by_line(shop, catalog):
    # 5 -> 7 -> 5: both lines change it, and it ends where the last line says.
    run = sync(shop, "sku,quantity\nA-1,7\nC-3,7\nA-1,5\nA-1,5\n")
    assert on_hand(catalog) == {"A-1": 5, "B-2": 0, "C-3": 7}
    assert (run.rows_total, run.updated, run.unchanged) == (4, 2, 2)


def test_a_sku_repeated_across_and_within_chunks_ends_at_its_last_line(shop, catalog, settings):
    settings.LIVEMARKET_SYNC_CHUNK_ROWS = 3
    run = sync(shop, "sku,quantity\nA-1,1\nB-2,1\nA-1,2\nA-1,3\nC-3,4\nB-2,2\nA-1,4\n")
    assert on_hand(catalog) == {"A-1": 4, "B-2": 2, "C-3": 4}
    assert (run.rows_total, run.updated, run.unchanged) == (7, 7, 0)


def test_a_variant_without_a_stock_row_gets_one_with_the_feeds_count(shop, catalog):
    Stock.objects.filter(
        variant__in=[catalog["A-1"], catalog["B-2"]]
    ).delete()  # as if made before stock rows
    dry = sync(shop, "sku,quantity\nA-1,4\nB-2,0\nNOPE,1\n", dry_run=True)
    assert (dry.updated, dry.unchanged, dry.unknown_sku) == (1, 1, 1)
    assert Stock.objects.filter(variant__in=[catalog["A-1"], catalog["B-2"]]).count() == 0
    run = sync(shop, "sku,quantity\nA-1,4\nB-2,0\nNOPE,1\n")
    assert (run.updated, run.unchanged, run.unknown_sku, run.conflicts) == (1, 1, 1, 0)
    assert on_hand(catalog) == {"A-1": 4, "B-2": 0, "C-3": 7}


# --- malformed feeds: one test per kind ---------------------------------------------------------


def assert_failed_and_nothing_applied(run, catalog, message_part: str):
    assert run.status == S.FAILED
    assert message_part in run.message
    assert on_hand(catalog) == {"A-1": 5, "B-2": 0, "C-3": 7}


def test_wrong_encoding_fails_with_a_clear_error_and_applies_nothing(shop, catalog):
    run = sync(shop, "sku,quantity\nA-1,1\nCAFÉ-1,2\n".encode("latin-1"))
    assert_failed_and_nothing_applied(run, catalog, "not UTF-8")


def test_wrong_encoding_deep_in_a_long_file_still_applies_nothing(shop, catalog):
    rows = "".join(f"A-1,{n % 9}\n" for n in range(5000)) + "CAFÉ,1\n"
    run = sync(shop, ("sku,quantity\n" + rows).encode("latin-1"))
    assert_failed_and_nothing_applied(run, catalog, "not UTF-8")


def test_missing_columns_fail_before_anything_is_read(shop, catalog):
    run = sync(shop, "sku,count\nA-1,1\n")
    assert_failed_and_nothing_applied(run, catalog, "quantity is missing (found sku, count)")


def test_a_negative_quantity_stops_the_whole_file_with_its_line_number(shop, catalog):
    run = sync(shop, "sku,quantity\nA-1,1\nB-2,-4\n")
    assert_failed_and_nothing_applied(run, catalog, "1 invalid row(s); nothing was applied")
    assert run.errors == [{"line": 3, "message": "quantity -4 is negative"}]


def test_a_non_numeric_quantity_stops_the_whole_file_with_its_line_number(shop, catalog):
    run = sync(shop, "sku,quantity\nA-1,1\nB-2,lots\nC-3,2.5\n")
    assert_failed_and_nothing_applied(run, catalog, "2 invalid row(s)")
    assert [e["line"] for e in run.errors] == [3, 4]
    assert "'lots' is not a whole number" in run.errors[0]["message"]


def test_skip_invalid_applies_the_good_rows_and_reports_the_bad_ones(shop, catalog):
    run = sync(shop, "sku,quantity\nA-1,1\nB-2,-4\n,3\nC-3,2\n", skip_invalid=True)
    assert run.status == S.SUCCEEDED
    assert (run.updated, run.invalid) == (2, 2)
    assert on_hand(catalog) == {"A-1": 1, "B-2": 0, "C-3": 2}
    assert run.errors == [
        {"line": 3, "message": "quantity -4 is negative"},
        {"line": 4, "message": "SKU is missing"},
    ]


def test_unknown_skus_are_counted_and_reported_but_do_not_fail_the_run(shop, catalog, other_variant):
    # RP-42 exists, but in another shop: it is unknown here and that shop's stock is untouched.
    run = sync(shop, "sku,quantity\nA-1,2\nNOPE,1\nRP-42,50\n")
    assert run.status == S.SUCCEEDED
    assert (run.updated, run.unknown_sku) == (1, 2)
    assert run.errors == [
        {"line": 3, "message": "unknown SKU 'NOPE'"},
        {"line": 4, "message": "unknown SKU 'RP-42'"},
    ]
    assert Stock.objects.get(variant=other_variant).on_hand == 3


def test_malformed_json_fails_and_applies_nothing(shop, catalog):
    run = sync(shop, '[{"sku": "A-1", "quantity": 1}, {"sku": "B-2", ', format="json")
    assert_failed_and_nothing_applied(run, catalog, "the JSON is malformed")


def test_broken_csv_quoting_fails_and_applies_nothing(shop, catalog):
    run = sync(shop, 'sku,quantity\nA-1,1\n"B-2,2\n')
    assert_failed_and_nothing_applied(run, catalog, "the CSV is malformed")


def test_a_failure_inside_a_chunk_rolls_that_whole_chunk_back(shop, catalog, monkeypatch, settings):
    """Chunk 1 commits; chunk 2 writes, then fails: none of chunk 2 remains."""
    settings.LIVEMARKET_SYNC_CHUNK_ROWS = 2
    real_apply, calls = sync_services.stock_set_on_hand_from_feed, []

    def apply_then_fail(**kwargs):
        calls.append(kwargs["chunk"])
        result = real_apply(**kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return result

    monkeypatch.setattr(sync_services, "stock_set_on_hand_from_feed", apply_then_fail)
    with pytest.raises(RuntimeError):
        sync(shop, "sku,quantity\nA-1,1\nB-2,1\nC-3,1\nA-1,2\n")
    assert calls == [0, 1]
    assert on_hand(catalog) == {"A-1": 1, "B-2": 1, "C-3": 7}
    run = InventorySyncRun.objects.get()
    assert run.status == S.FAILED and "RuntimeError" in run.message and run.updated == 2


# --- URL feeds, from a real HTTP server on loopback ------------------------------------------------


class FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/stock.csv":
            self._send(200, b"sku,quantity\nA-1,21\nC-3,0\n")
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/stock.csv")
            self.end_headers()
        elif self.path == "/broken":
            self._send(500, b"oops")
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, b"sku,quantity\n")
        elif self.path == "/huge":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the cap must hold while streaming
            self.wfile.write(b"sku,quantity\n" + b"A-1,1\n" * 2000)
        else:
            self._send(404, b"no")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def feed_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    settings.LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS = True
    settings.LIVEMARKET_STOCK_FEED_TIMEOUT = 0.5
    return settings


def url_feed(shop, url: str) -> StockFeed:
    return StockFeed.objects.create(shop=shop, source=StockFeed.Source.URL, url=url)


def sync_feed(shop) -> InventorySyncRun:
    return inventory_sync_now(shop=shop, trigger=InventorySyncRun.Trigger.COMMAND)


def test_url_feed_is_fetched_and_applied(shop, catalog, feed_server, loopback_allowed):
    url_feed(shop, f"{feed_server}/moved")  # a redirect is followed
    run = sync_feed(shop)
    assert run.status == S.SUCCEEDED, run.message
    assert on_hand(catalog) == {"A-1": 21, "B-2": 0, "C-3": 0}
    assert run.source_label.endswith("/moved")


def test_unreachable_url_fails_clearly(shop, catalog, loopback_allowed):
    url_feed(shop, f"http://127.0.0.1:{free_port()}/stock.csv")  # nothing listens there
    assert_failed_and_nothing_applied(sync_feed(shop), catalog, "the feed URL is unreachable")


def test_a_url_that_does_not_answer_in_time_fails_clearly(shop, catalog, feed_server, loopback_allowed):
    url_feed(shop, f"{feed_server}/slow")
    assert_failed_and_nothing_applied(sync_feed(shop), catalog, "did not answer in time (0.5 s)")


def test_an_http_error_fails_clearly(shop, catalog, feed_server, loopback_allowed):
    url_feed(shop, f"{feed_server}/broken")
    assert_failed_and_nothing_applied(sync_feed(shop), catalog, "answered HTTP 500 Internal Server Error")


def test_an_oversized_feed_is_cut_off_and_applies_nothing(shop, catalog, feed_server, loopback_allowed):
    loopback_allowed.LIVEMARKET_STOCK_FEED_MAX_BYTES = 1000
    url_feed(shop, f"{feed_server}/huge")
    assert_failed_and_nothing_applied(sync_feed(shop), catalog, "larger than")


def test_feed_urls_on_private_or_loopback_addresses_are_refused(shop, catalog, feed_server):
    url_feed(shop, f"{feed_server}/stock.csv")
    assert_failed_and_nothing_applied(sync_feed(shop), catalog, "private or local address")


PUBLIC = "93.184.215.14"  # a global address: the check passes it


def test_a_feed_is_fetched_from_the_address_that_was_checked_not_a_rebound_one(
    shop, catalog, feed_server, settings, monkeypatch
):
    """DNS rebinding: the name answers a public address to the check, then 127.0.0.1 (where our own
    feed server listens). Connecting by name again would fetch and apply the local feed."""
    settings.LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS = False
    port = int(feed_server.rsplit(":", 1)[1])
    lookups, connects = [], []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection

    def rebinding(host, *args, **kwargs):
        if host != "feeds.example.test":
            return real_getaddrinfo(host, *args, **kwargs)
        lookups.append(host)
        return real_getaddrinfo(PUBLIC if len(lookups) == 1 else "127.0.0.1", *args, **kwargs)

    def connect(address, *args, **kwargs):
        connects.append(tuple(address[:2]))
        if address[0] == PUBLIC:
            raise ConnectionRefusedError("the public address is not reachable from the test")
        return real_connect(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", connect)
    url_feed(shop, f"http://feeds.example.test:{port}/stock.csv")

    assert_failed_and_nothing_applied(sync_feed(shop), catalog, "the feed URL is unreachable")
    assert connects == [(PUBLIC, port)]
    assert lookups == ["feeds.example.test"]


def test_uploaded_feed_file_is_read(shop, catalog):
    StockFeed.objects.create(shop=shop, file=ContentFile(b"sku,quantity\nB-2,6\n", name="feed.csv"))
    assert sync_feed(shop).status == S.SUCCEEDED
    assert on_hand(catalog)["B-2"] == 6


# --- the schedule ------------------------------------------------------------------------------


def test_due_url_feeds_are_started_once_even_when_the_sweeper_runs_twice(
    shop, catalog, feed_server, loopback_allowed, django_capture_on_commit_callbacks
):
    feed = url_feed(shop, f"{feed_server}/stock.csv")
    StockFeed.objects.create(shop=ProductFactory().shop, source="url", url=feed.url, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert stock_feeds_sync_due() == 1
    assert stock_feeds_sync_due() == 0  # its interval has not passed
    run = InventorySyncRun.objects.get()
    assert (run.trigger, run.status, run.feed) == ("schedule", S.SUCCEEDED, feed)
    assert on_hand(catalog)["A-1"] == 21


def test_a_run_is_executed_once_even_if_its_job_is_delivered_twice(shop, catalog):
    StockFeed.objects.create(shop=shop, file=ContentFile(b"sku,quantity\nB-2,6\n", name="feed.csv"))
    run = sync_services.inventory_sync_run_create(
        shop=shop, feed=shop.stock_feeds.get(), trigger=InventorySyncRun.Trigger.API
    )
    first = sync_services.inventory_sync_execute(run_id=run.pk)
    again = sync_services.inventory_sync_execute(run_id=run.pk)
    assert first.status == again.status == S.SUCCEEDED
    assert again.finished_at == first.finished_at and again.updated == 1


@pytest.mark.django_db(transaction=True)
def test_two_schedule_sweeps_at_once_start_one_run(shop, catalog, feed_server, loopback_allowed, monkeypatch):
    from catalog import tasks
    from tests.concurrency import race

    enqueued = []
    monkeypatch.setattr(tasks.inventory_sync_task, "delay_on_commit", enqueued.append)
    url_feed(shop, f"{feed_server}/stock.csv")
    assert sorted(race([stock_feeds_sync_due, stock_feeds_sync_due])) == [0, 1]
    run = InventorySyncRun.objects.get()
    assert enqueued == [run.pk] and run.trigger == "schedule"


def test_lost_jobs_are_re_enqueued_and_runs_of_dead_workers_marked_failed(shop, catalog, monkeypatch):
    from datetime import timedelta

    from catalog import tasks

    enqueued = []
    monkeypatch.setattr(tasks.inventory_sync_task, "delay", enqueued.append)
    create = sync_services.inventory_sync_run_create
    lost = create(shop=shop, trigger=InventorySyncRun.Trigger.SCHEDULE)
    fresh = create(shop=shop, trigger=InventorySyncRun.Trigger.SCHEDULE)
    dead = create(shop=shop, trigger=InventorySyncRun.Trigger.ADMIN)
    ago = timezone.now() - timedelta(minutes=40)
    InventorySyncRun.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    InventorySyncRun.objects.filter(pk=dead.pk).update(status=S.RUNNING, started_at=ago, created_at=ago)

    assert sync_services.inventory_sync_runs_repair() == (1, 1)
    assert enqueued == [lost.pk]
    dead.refresh_from_db()
    assert dead.status == S.FAILED and dead.message.startswith("Abandoned")
    assert InventorySyncRun.objects.get(pk=fresh.pk).status == S.PENDING
    assert sync_services.inventory_sync_runs_repair() == (1, 0)  # still lost: asked again, nothing new


def test_a_live_show_pinning_a_synced_product_gets_its_new_units_left(
    shop, merchant, catalog, monkeypatch, django_capture_on_commit_callbacks
):
    from shows import hub
    from shows.services import show_create, show_go_live, show_pin_product

    product = catalog["A-1"].product
    show = show_go_live(
        show=show_create(shop=shop, title="Live", scheduled_start=timezone.now(), products=[product])
    )
    show_pin_product(show=show, user=merchant, product_id=product.pk)
    published = []
    monkeypatch.setattr(hub, "publish", lambda show_id, payload: published.append((show_id, payload)))
    with django_capture_on_commit_callbacks(execute=True):
        sync(shop, "sku,quantity\nA-1,40\n")
        sync(shop, "sku,quantity\nA-1,40\n", dry_run=True)  # nothing changes: nothing sent
    ((show_id, payload),) = published
    assert show_id == show.pk and payload["type"] == "stock"
    assert {"id": catalog["A-1"].pk, "available": 40} in payload["variants"]
