"""Secrets: API keys and stream keys are shown exactly once, when made, and never again (admin pages,
host console, API reads, idempotent replays); only their hashes are stored; they never appear in a log
record (every logger at DEBUG, SQL included) while they are made, used or refused; and they travel in
headers or bodies, never in URLs that access logs keep.
"""

import json
import logging
import re

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from shops.apikeys import api_key_create
from shops.idempotency import IdempotencyRecord
from shops.models import ApiKey
from shows.models import Show, stream_key_digest
from shows.services import show_create, show_go_live, show_stream_key_rotate
from tests.shops.factories import UserFactory

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/v1/merchant/products/"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += " " + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name} {text} {record.__dict__.get('request', '')!s}")


@pytest.fixture
def every_log():
    """Every log record, from every logger at DEBUG (root, django.request, django.server, celery...,
    and SQL with its parameters), as text. Loggers that don't propagate get the handler too."""
    collect = _Collect()
    names = {
        "",
        "django",
        "django.request",
        "django.server",
        "django.db.backends",
        "celery",
        "celery.app.trace",
    }
    names |= set(logging.root.manager.loggerDict)
    saved = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if name == "" or not logger.propagate:
            logger.addHandler(collect)
    debug_cursor, connection.force_debug_cursor = connection.force_debug_cursor, True
    yield collect.lines
    connection.force_debug_cursor = debug_cursor
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.removeHandler(collect)


def _absent(secret: str, lines: list[str]) -> None:
    assert lines, "nothing was logged at all: the capture is broken"
    leaked = [line for line in lines if secret in line]
    assert not leaked, leaked[:3]


# --- API keys --------------------------------------------------------------------------------------


def test_an_api_key_is_shown_once_and_never_logged_while_made_used_or_refused(
    client, merchant, shop, every_log
):
    client.force_login(merchant)
    made = client.post(reverse("admin:shops_apikey_add"), {"shop": shop.pk, "name": "Label printer"})
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    page = made.content.decode()
    raw = re.search(r'value="(lm_[^"]+)"', page).group(1)
    secret = raw.split("_", 2)[2]
    assert page.count(secret) == 1  # in the one field to copy, nowhere else
    key = ApiKey.objects.get(name="Label printer")
    assert secret not in key.secret_hash and key.prefix not in secret

    for url in (
        reverse("admin:shops_apikey_changelist"),
        reverse("admin:shops_apikey_change", args=[key.pk]),
    ):
        again = client.get(url).content.decode()
        assert f"lm_{key.prefix}_" in again  # the prefix, to tell keys apart
        assert secret not in again and key.secret_hash not in again

    api = APIClient()
    assert api.get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert api.get(PRODUCTS, HTTP_X_API_KEY=raw).status_code == 200
    wrong = f"lm_{key.prefix}_{secret[:-2]}xx"
    assert api.get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code == 401
    assert api.post(PRODUCTS, {"title": "x"}, format="json", HTTP_X_API_KEY=wrong).status_code == 401
    client.post(reverse("admin:shops_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    revoked = api.get(PRODUCTS, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert revoked.status_code == 401 and secret not in revoked.content.decode()

    _absent(secret, every_log)
    assert any("django.request" in line for line in every_log)  # the refusals were logged, without it


def test_an_api_key_is_taken_from_headers_only_and_error_answers_never_echo_it(merchant, shop):
    _, raw = api_key_create(shop=shop, name="tests", created_by=merchant)
    secret = raw.split("_", 2)[2]
    api = APIClient()
    # In the URL (where access logs would keep it) a key is not accepted at all.
    for query in ({"api_key": raw}, {"key": raw}, {"token": raw}):
        assert api.get(PRODUCTS, query).status_code == 401
    for header in ({"HTTP_AUTHORIZATION": f"Bearer {raw}x"}, {"HTTP_X_API_KEY": raw[:-1]}):
        answer = api.get(PRODUCTS, **header)
        assert answer.status_code == 401 and secret[:-1] not in answer.content.decode()


# --- Stream keys -----------------------------------------------------------------------------------


@pytest.fixture
def api(merchant, shop):
    _, raw = api_key_create(shop=shop, name="tests", created_by=merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _start():
    return (timezone.now() + timezone.timedelta(hours=1)).isoformat()


def test_the_api_shows_a_new_shows_stream_key_once_and_never_keeps_it(api, every_log):
    created = api.post(
        "/api/v1/merchant/shows/",
        {"title": "Crates", "scheduled_start": _start()},
        format="json",
        HTTP_IDEMPOTENCY_KEY="make-the-show-1",
    )
    assert created.status_code == 201 and "no-store" in created["Cache-Control"]
    key = created.json()["stream_key"]
    show = Show.objects.get(pk=created.json()["id"])
    assert len(key) >= 32 and show.stream_key_hash == stream_key_digest(key)
    assert created.json()["stream_key_hint"] == key[-4:] == show.stream_key_hint

    replay = api.post(
        "/api/v1/merchant/shows/",
        {"title": "Crates", "scheduled_start": created.json()["scheduled_start"]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="make-the-show-1",
    )
    if replay.status_code == 201:  # the same request again: the stored answer, without the key
        assert replay["Idempotent-Replayed"] == "true" and replay.json()["stream_key"] is None
    assert key not in json.dumps(list(IdempotencyRecord.objects.values("response_body")))
    for url in (f"/api/v1/merchant/shows/{show.pk}/", "/api/v1/merchant/shows/"):
        read = api.get(url)
        assert read.status_code == 200 and key not in read.content.decode()
        assert "stream_key" not in (
            read.json() if "results" not in read.json() else read.json()["results"][0]
        )
    _absent(key, every_log)


def test_the_admin_shows_a_new_shows_key_once_then_only_its_last_characters(
    client, merchant, shop, every_log
):
    client.force_login(merchant)
    start = timezone.localtime(timezone.now() + timezone.timedelta(hours=1))
    data = {
        "shop": shop.pk,
        "title": "Admin-made",
        "description": "",
        "scheduled_start_0": start.strftime("%Y-%m-%d"),
        "scheduled_start_1": start.strftime("%H:%M:%S"),
        "playback_url": "",
        "replay_url": "",
    }
    for prefix in ("lineup_items", "roles"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    made = client.post(reverse("admin:shows_show_add"), data)
    assert made.status_code == 200 and "no-store" in made["Cache-Control"], made.content[:500]
    key = re.search(r'id="new-stream-key"[^>]*value="([^"]+)"', made.content.decode()).group(1)
    show = Show.objects.get(title="Admin-made")
    assert show.stream_key_hash == stream_key_digest(key)

    change = client.get(reverse("admin:shows_show_change", args=[show.pk])).content.decode()
    console = client.get(reverse("host_console", args=[show.pk])).content.decode()
    for page in (change, console, client.get(reverse("admin:shows_show_changelist")).content.decode()):
        assert key not in page and show.stream_key_hash not in page
    assert f"…{key[-4:]}" in change and f"…{key[-4:]}" in console

    # Asking for a new key is a confirmation page first (GET changes nothing), then a POST.
    url = reverse("admin:shows_show_stream_key", args=[show.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200 and key not in confirm.content.decode()
    assert Show.objects.get(pk=show.pk).stream_key_hash == show.stream_key_hash
    rotated = client.post(url)
    new_key = re.search(r'id="new-stream-key"[^>]*value="([^"]+)"', rotated.content.decode()).group(1)
    assert new_key != key and Show.objects.get(pk=show.pk).stream_key_hash == stream_key_digest(new_key)
    assert client.post("/streams/on_publish", {"name": key}).status_code == 403  # the old key is retired
    assert client.post("/streams/on_publish", {"name": new_key}).status_code == 200
    _absent(key, every_log)
    _absent(new_key, every_log)


def test_another_shops_merchant_cannot_see_or_rotate_the_key(client, shop, other_merchant, other_shop):
    show = show_create(shop=shop, title="Mine", scheduled_start=timezone.now())
    before = show.stream_key_hash
    client.force_login(other_merchant)
    assert client.get(reverse("admin:shows_show_stream_key", args=[show.pk])).status_code == 404
    assert client.post(reverse("admin:shows_show_stream_key", args=[show.pk])).status_code == 404
    assert client.post(reverse("host_stream_key", args=[show.pk])).status_code == 404
    assert Show.objects.get(pk=show.pk).stream_key_hash == before


def test_the_host_console_makes_a_new_key_and_shows_it_once_only_to_hosts(client, merchant, shop, every_log):
    show = show_create(shop=shop, title="Console", scheduled_start=timezone.now())
    old = show.stream_key
    from shows.models import ShowRole

    cohost = UserFactory(username="cohost")
    ShowRole.objects.create(show=show, user=cohost, role=ShowRole.Role.COHOST)
    client.force_login(cohost)  # a co-host runs the room but does not broadcast: no key for them
    assert client.post(reverse("host_stream_key", args=[show.pk])).status_code == 404
    assert client.get(reverse("host_stream_key", args=[show.pk])).status_code in (404, 405)

    client.force_login(merchant)
    made = client.post(reverse("host_stream_key", args=[show.pk]))
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    new_key = re.search(r'id="stream-key"[^>]*value="([^"]+)"', made.content.decode()).group(1)
    assert made.content.decode().count(new_key) == 1
    assert new_key not in client.get(reverse("host_console", args=[show.pk])).content.decode()
    assert client.post("/streams/on_update", {"name": old}).status_code == 403
    assert client.post("/streams/on_update", {"name": new_key}).status_code == 200
    _absent(old, every_log)
    _absent(new_key, every_log)


def test_the_media_servers_callbacks_never_log_the_key_and_never_take_it_in_the_url(client, shop, every_log):
    show = show_create(shop=shop, title="Hooks", scheduled_start=timezone.now())
    key = show.stream_key
    assert client.post("/streams/on_publish", {"name": key}).status_code == 200
    body = json.dumps({"path": f"live/{key}"})
    assert client.post("/streams/on_update", body, content_type="application/json").status_code == 200
    for wrong in (key[:-1], key + "x", key.upper()):
        assert client.post("/streams/on_update", {"name": wrong}).status_code == 403
    assert Show.objects.get(pk=show.pk).status == Show.Status.LIVE
    assert client.post("/streams/on_publish_done", {"name": key}).status_code == 200
    assert Show.objects.get(pk=show.pk).status == Show.Status.ENDED
    _absent(key[:-1], every_log)  # the key, nor the near-miss guess
    # A key in a query string (which access logs keep) is refused before it is looked at.
    for path in ("/streams/on_publish", "/streams/on_update", "/streams/on_publish_done"):
        assert client.get(path, {"name": key}).status_code == 405


def test_a_show_made_outside_show_create_has_a_key_nobody_knows(shop):
    show = Show.objects.create(shop=shop, title="Raw row", scheduled_start=timezone.now())
    assert len(show.stream_key_hash) == 64 and not show.stream_key_hint
    key = show_stream_key_rotate(show=show)
    assert Show.objects.get(pk=show.pk).stream_key_hash == stream_key_digest(key)
    assert show_go_live(show=show).status == Show.Status.LIVE
