"""The show room over a real channel layer (Redis)."""

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from shows.models import ChatMessage
from shows.routing import websocket_urlpatterns
from shows.services import chat_post, show_create, show_go_live

pytestmark = pytest.mark.django_db(transaction=True)


def _application():
    return AuthMiddlewareStack(URLRouter(websocket_urlpatterns))


def login_session_key(user) -> str:
    """A real login session for `user` (as the login view makes), so the room can re-check it."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


async def _connect(show, user=None):
    headers = []
    if user is not None:
        from django.conf import settings

        key = await sync_to_async(login_session_key)(user)
        headers = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={key}".encode())]
    communicator = WebsocketCommunicator(_application(), f"/ws/shows/{show.pk}/", headers=headers)
    if user is not None:
        communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def _receive_until(communicator, type_, limit=60):
    """The next event of `type_`, looking inside coalesced `batch` frames."""
    for _ in range(limit):
        message = await communicator.receive_json_from(timeout=10)
        for event in message["events"] if message["type"] == "batch" else [message]:
            if event["type"] == type_:
                return event
    raise AssertionError(f"no {type_} message")


@pytest.fixture
def live_show(shop, variant, merchant, shopper):
    show = show_create(
        shop=shop, title="Friday crate digging", scheduled_start=timezone.now(), products=[variant.product]
    )
    show = show_go_live(show=show)
    chat_post(show=show, user=shopper, text="first!")
    return show


async def test_connect_sends_status_pinned_viewers_and_chat_history(live_show):
    communicator = await _connect(live_show)
    assert await communicator.receive_json_from() == {"type": "status", "status": "live"}
    assert await communicator.receive_json_from() == {"type": "pinned", "product": None}
    viewers = await communicator.receive_json_from()
    assert viewers == {"type": "viewers", "count": 1}
    history = await communicator.receive_json_from()
    assert (history["type"], history["user"], history["text"]) == ("chat", "Ada", "first!")
    await communicator.disconnect()


async def test_chat_is_saved_then_broadcast_to_every_viewer(live_show, shopper, other_shopper):
    speaker = await _connect(live_show, user=shopper)
    listener = await _connect(live_show, user=other_shopper)
    await speaker.send_json_to({"action": "chat", "text": "<b>hi</b> there"})
    received = await _receive_until(listener, "chat", limit=60)
    while received["text"] == "first!":
        received = await _receive_until(listener, "chat")
    assert received["text"] == "<b>hi</b> there"  # text, for the client to insert as text
    assert await sync_to_async(ChatMessage.objects.filter(text="<b>hi</b> there").exists)()
    await speaker.disconnect()
    await listener.disconnect()


async def test_anonymous_viewer_cannot_chat(live_show):
    communicator = await _connect(live_show)
    await communicator.send_json_to({"action": "chat", "text": "hello"})
    error = await _receive_until(communicator, "error")
    assert error["code"] == "forbidden"
    await communicator.disconnect()


async def test_viewer_cannot_pin_but_host_can(live_show, shopper, merchant, variant):
    viewer = await _connect(live_show, user=shopper)
    await viewer.send_json_to({"action": "pin", "product_id": variant.product_id})
    error = await _receive_until(viewer, "error")
    assert error["code"] == "forbidden"

    host = await _connect(live_show, user=merchant)
    await host.send_json_to({"action": "pin", "product_id": variant.product_id})
    pinned = await _receive_until(viewer, "pinned")
    assert pinned["product"]["title"] == "Blue Train LP"
    assert pinned["product"]["available"] == 5
    assert pinned["product"]["price"] == "31.50"
    await viewer.disconnect()
    await host.disconnect()


async def test_unknown_show_is_refused():
    communicator = WebsocketCommunicator(_application(), "/ws/shows/999999/")
    connected, _ = await communicator.connect()
    assert not connected


@pytest.fixture(autouse=True)
async def _close_sync_thread_connection():
    """Consumers query from asgiref's sync thread; close its connection so the test DB can be dropped."""
    yield
    from django.db import close_old_connections, connections

    await sync_to_async(connections.close_all)()
    close_old_connections()


async def _session_key_of(communicator) -> str:
    from django.conf import settings

    cookie = dict(communicator.scope["headers"])[b"cookie"].decode()
    return cookie.split(f"{settings.SESSION_COOKIE_NAME}=", 1)[1]


async def _expect_signed_out(communicator):
    event = await _receive_until(communicator, "error")
    assert event["code"] == "session_expired"
    output = await communicator.receive_output(timeout=10)
    assert output == {"type": "websocket.close", "code": 4401}


async def test_logging_out_elsewhere_ends_the_sockets_login_on_its_next_action(live_show, shopper):
    from importlib import import_module

    from django.conf import settings

    communicator = await _connect(live_show, shopper)
    key = await _session_key_of(communicator)
    await sync_to_async(import_module(settings.SESSION_ENGINE).SessionStore(key).delete)()  # logout
    await communicator.send_json_to({"action": "chat", "text": "still here?"})
    await _expect_signed_out(communicator)
    assert not await sync_to_async(ChatMessage.objects.filter(text="still here?").exists)()


async def test_a_password_change_ends_other_sockets_logins(live_show, shopper):
    communicator = await _connect(live_show, shopper)

    def change_password():
        shopper.set_password("a-brand-new-password-9")
        shopper.save(update_fields=["password"])

    await sync_to_async(change_password)()
    await communicator.send_json_to({"action": "chat", "text": "after the change"})
    await _expect_signed_out(communicator)
    assert not await sync_to_async(ChatMessage.objects.filter(text="after the change").exists)()


async def test_a_current_login_keeps_working(live_show, shopper):
    communicator = await _connect(live_show, shopper)
    await communicator.send_json_to({"action": "chat", "text": "all good"})
    assert (await _receive_until(communicator, "chat"))["text"] in ("first!", "all good")
    await communicator.disconnect()
