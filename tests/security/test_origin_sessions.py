"""The room's websocket through the real ASGI stack (config/asgi.py): a cross-origin handshake is
refused, and a socket's login ends on its next action after a logout or a password change made
through the real allauth views. (tests/shows/test_room_multiprocess.py checks the origin on real
servers; tests/shows/test_consumer_room.py ends sessions by editing them directly.)
"""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from config.asgi import application
from shows.models import ChatMessage
from shows.services import show_create, show_go_live
from tests.shows.test_consumer_room import _expect_signed_out, _receive_until

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pass-word-123"  # tests/shops/factories.py
SITE = "http://testserver"


@pytest.fixture(autouse=True)
async def _close_sync_thread_connections():
    """Views and consumers query from asgiref's sync thread; close it so the test DB can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def live_show(shop):
    return show_go_live(show=show_create(shop=shop, title="Late night", scheduled_start=timezone.now()))


async def _handshake(
    show, *, origin: str | None, cookie: str | None = None, host: str = "testserver", scheme: str = "ws"
):
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/shows/{show.pk}/", headers=headers)
    communicator.scope["scheme"] = scheme  # "wss" as uvicorn sets it behind TLS (or X-Forwarded-Proto)
    connected, code = await communicator.connect(timeout=10)
    return communicator, connected, code


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://testserver.evil.example", "https://evil.example:443", "null", None],
    ids=["other-site", "lookalike-host", "other-site-port", "opaque-null", "no-origin"],
)
async def test_a_cross_origin_handshake_is_refused(live_show, origin):
    communicator, connected, _ = await _handshake(live_show, origin=origin)
    assert connected is False  # closed before accept: servers answer the HTTP upgrade with 403
    assert await communicator.receive_nothing(timeout=0.2)  # not one frame of the room's state


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        ("http://127.0.0.1:9999", "127.0.0.1:8000", "ws"),
        ("http://testserver:8000", "testserver", "ws"),
        ("https://testserver", "testserver", "ws"),
        ("http://testserver", "testserver", "wss"),
        ("http://rebound.test:8000", "rebound.test:8000", "ws"),  # a host ALLOWED_HOSTS lacks
    ],
    ids=["other-port", "port-on-a-portless-site", "https-page-on-ws", "http-page-on-wss", "unlisted-host"],
)
async def test_a_handshake_from_another_port_or_scheme_of_an_allowed_host_is_refused(
    live_show, settings, origin, host, scheme
):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.LIVEMARKET_SITE_URL = "http://127.0.0.1:8000"
    communicator, connected, _ = await _handshake(live_show, origin=origin, host=host, scheme=scheme)
    assert connected is False
    assert await communicator.receive_nothing(timeout=0.2)


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        (SITE, "testserver", "ws"),
        ("http://testserver:80", "testserver", "ws"),
        ("https://testserver", "testserver", "wss"),
        ("http://127.0.0.1:8000", "testserver", "ws"),  # LIVEMARKET_SITE_URL
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
        ("https://shop.example.test", "10.0.0.5:8000", "ws"),  # behind a proxy: CSRF_TRUSTED_ORIGINS
        ("https://eu.example.test", "10.0.0.5:8000", "ws"),  # a "https://*.example.test" entry
    ],
)
async def test_a_handshake_from_the_sites_own_origin_is_accepted(live_show, settings, origin, host, scheme):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver", "10.0.0.5"]
    settings.LIVEMARKET_SITE_URL = "http://127.0.0.1:8000"
    settings.CSRF_TRUSTED_ORIGINS = ["https://shop.example.test", "https://*.example.test"]
    communicator, connected, _ = await _handshake(live_show, origin=origin, host=host, scheme=scheme)
    try:
        assert connected
        assert await communicator.receive_json_from(timeout=10) == {"type": "status", "status": "live"}
    finally:
        await communicator.disconnect()


# --- Logout and password change end open sockets' logins ---------------------------------------------


def _log_in(user) -> tuple[Client, str]:
    """A browser logged in through allauth's login view; returns it and its session cookie."""
    browser = Client()
    response = browser.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return browser, browser.cookies[settings.SESSION_COOKIE_NAME].value


async def _socket_of(show, user):
    browser, cookie = await sync_to_async(_log_in)(user)
    communicator, connected, _ = await _handshake(show, origin=SITE, cookie=cookie)
    assert connected
    await _receive_until(communicator, "deal")  # the last frame of the on-connect state
    return browser, communicator


async def _still_chats(communicator, text: str) -> None:
    await communicator.send_json_to({"action": "chat", "text": text})
    event = await _receive_until(communicator, "chat")
    assert event["text"] == text
    assert await sync_to_async(ChatMessage.objects.filter(text=text).exists)()


async def test_logging_out_through_the_logout_view_ends_that_sockets_login(live_show, shopper, other_shopper):
    browser, mine = await _socket_of(live_show, shopper)
    _, theirs = await _socket_of(live_show, other_shopper)
    try:
        response = await sync_to_async(browser.post)("/accounts/logout/")
        assert response.status_code == 302
        await mine.send_json_to({"action": "chat", "text": "am I still here?"})
        await _expect_signed_out(mine)
        await _still_chats(theirs, "someone else is unaffected")
    finally:
        await mine.disconnect()
        await theirs.disconnect()
    assert not await sync_to_async(ChatMessage.objects.filter(text="am I still here?").exists)()


async def test_a_password_change_through_allauth_ends_every_socket_of_that_user(
    live_show, shopper, other_shopper
):
    browser, here = await _socket_of(live_show, shopper)
    _, elsewhere = await _socket_of(live_show, shopper)  # another device, another session
    _, theirs = await _socket_of(live_show, other_shopper)
    try:
        response = await sync_to_async(browser.post)(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": "A-brand-new-pass-77", "password2": "A-brand-new-pass-77"},
        )
        assert response.status_code == 302
        await elsewhere.send_json_to({"action": "bid", "lot_id": 1, "amount": "10.00"})
        await _expect_signed_out(elsewhere)
        await here.send_json_to({"action": "chat", "text": "after my change"})
        await _expect_signed_out(here)
        await _still_chats(theirs, "still fine over here")
    finally:
        for communicator in (here, elsewhere, theirs):
            await communicator.disconnect()
    assert not await sync_to_async(ChatMessage.objects.filter(text="after my change").exists)()
    await sync_to_async(shopper.refresh_from_db)()
    assert shopper.check_password("A-brand-new-pass-77")
