"""Nothing lost, a clear answer instead of a hang when Redis goes away, and a viewer that stops reading
holds up nobody.

The server tests run uvicorn against a private redis-server they start (and kill) themselves; the
shared Redis on 6379 is never touched.
"""

import asyncio
import contextlib
import json
import signal
import socket
import time

import pytest
import redis
import websockets
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from shows.hub import CLOSE_TOO_SLOW, RoomUnavailable
from shows.models import ChatMessage
from shows.services import chat_post, reaction_check, show_create, show_go_live
from tests import servers
from tests.shops.factories import UserFactory
from tests.shows.roomkit import clear_rate_limits, frames, join
from tests.shows.test_room_multiprocess import Reader, session_cookie, ws_connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_rate_limits_from_earlier_runs():
    clear_rate_limits()


@pytest.fixture(autouse=True)
async def _close_sync_thread_connection():
    """Consumers query from asgiref's sync thread; close its connection so the test DB can be dropped."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def live_show(shop, variant):
    return show_go_live(
        show=show_create(
            shop=shop, title="Crates", scheduled_start=timezone.now(), products=[variant.product]
        )
    )


async def test_every_chat_message_a_viewer_received_is_in_the_database(live_show):
    speakers = [await sync_to_async(UserFactory)(display_name=f"Speaker {n}") for n in range(4)]
    listener, _ = await join(live_show)
    sockets = [(await join(live_show, user))[0] for user in speakers]
    received = {}
    try:
        for round_ in range(5):  # five each: the chat rate limit is five per ten seconds
            for n, socket in enumerate(sockets):
                await socket.send_json_to({"action": "chat", "text": f"{n}:{round_} <i>hi</i>"})
        while len(received) < 20:
            message = await listener.receive_json_from(timeout=5)
            for event in frames(message):
                assert event["type"] != "error", event
                if event["type"] == "chat":
                    received[event["id"]] = (event["user"], event["text"])
    finally:
        for socket in [listener, *sockets]:
            await socket.disconnect()
    saved = await sync_to_async(
        lambda: {
            m.pk: (m.user.public_name, m.text)
            for m in ChatMessage.objects.filter(show=live_show).select_related("user")
        }
    )()
    assert received == saved  # every broadcast message is saved as sent, and every saved one arrived
    assert sorted(text for _, text in saved.values()) == sorted(
        f"{n}:{r} <i>hi</i>" for n in range(4) for r in range(5)
    )


@pytest.fixture
def server_on_private_redis(tmp_path, live_show):
    redis_port, http_port = servers.free_port(), servers.free_port()
    redis_server = servers.start_redis(port=redis_port, log=tmp_path / "redis.log")
    uvicorn = None
    try:
        log = tmp_path / "uvicorn.log"
        uvicorn = servers.start_uvicorn(
            port=http_port, redis_url=f"redis://127.0.0.1:{redis_port}/0", log=log
        )
        servers.wait_healthy(http_port, uvicorn, log=log)
        yield http_port, redis_server, f"redis://127.0.0.1:{redis_port}/0"
    finally:
        servers.stop(uvicorn)
        servers.stop(redis_server, sig=signal.SIGKILL)


def test_with_redis_stopped_chat_is_refused_promptly_and_pages_still_load(
    server_on_private_redis, live_show, shopper
):
    port, redis_server, _ = server_on_private_redis
    cookie = session_cookie(shopper)

    async def scenario():
        viewer = Reader(await ws_connect(port, live_show.pk, cookie=cookie))
        try:
            await viewer.wait_for(lambda e: e["type"] == "deal")
            await viewer.ws.send(json.dumps({"action": "chat", "text": "before the outage"}))
            await viewer.wait_for(lambda e: e.get("text") == "before the outage")

            servers.stop(redis_server, sig=signal.SIGKILL)
            started = time.monotonic()
            await viewer.ws.send(json.dumps({"action": "chat", "text": "during the outage"}))
            error = await viewer.wait_for(lambda e: e["type"] == "error", timeout=6)
            return error, time.monotonic() - started
        finally:
            await viewer.close()

    error, took = asyncio.run(scenario())
    assert error["code"] == "unavailable" and error["message"]
    assert took < 5
    assert list(ChatMessage.objects.filter(show=live_show).values_list("text", flat=True)) == [
        "before the outage"
    ]

    for path in ("/", f"/shows/{live_show.pk}/"):
        started = time.monotonic()
        status, _ = servers.http_get(f"http://127.0.0.1:{port}{path}", timeout=10)
        assert (path, status) == (path, 200)
        assert time.monotonic() - started < 5, f"{path} took too long"
    status, body = servers.http_get(f"http://127.0.0.1:{port}/healthz", timeout=10)
    report = json.loads(body)
    assert status == 503
    assert report["redis"].startswith("error") and report["database"] == "ok"


def test_chat_post_raises_room_unavailable_quickly_and_saves_nothing_when_redis_is_down(
    settings, live_show, shopper
):
    dead = f"redis://127.0.0.1:{servers.free_port()}/0"
    settings.REDIS_URL = dead
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "KEY_PREFIX": "lmtest-dead",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    started = time.monotonic()
    with pytest.raises(RoomUnavailable):
        chat_post(show=live_show, user=shopper, text="anyone there?")
    with pytest.raises(RoomUnavailable):
        reaction_check(show=live_show, user=shopper)
    assert time.monotonic() - started < 3
    assert not ChatMessage.objects.filter(show=live_show).exists()


def test_a_viewer_that_stops_reading_is_closed_and_holds_up_nobody(server_on_private_redis, live_show):
    """Its frames queue behind it up to BACKLOG_BYTES; past that the server closes it, and every other
    viewer got every frame meanwhile. Reconnecting, it gets the room's state again."""
    port, _, redis_url = server_on_private_redis
    url, origin = f"ws://127.0.0.1:{port}/ws/shows/{live_show.pk}/", f"http://127.0.0.1:{port}"
    count, pad = 500, "x" * 32_000  # 16 MB: more than the socket buffers (up to 4 MB) and the backlog

    def publish_all():
        """Straight onto the room's channel, as a service publishes, one event at a time (events that
        reach the server together go out as one frame, and one frame is written whole)."""
        publisher = redis.Redis.from_url(redis_url)
        try:
            for n in range(count):
                time.sleep(0.005)
                publisher.publish(
                    f"lm:room:{live_show.pk}", json.dumps({"type": "filler", "n": n, "pad": pad})
                )
        finally:
            publisher.close()

    async def scenario():
        # A tiny receive buffer, and the client stops taking frames off it after the first one.
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", port))
        # No compression (the filler would shrink to nothing); events that arrive together come as one
        # `batch` frame: no size limit for the reader.
        options = {"origin": origin, "compression": None, "open_timeout": 5}
        stalled = await websockets.connect(url, sock=raw, max_queue=1, **options)
        viewer = Reader(await websockets.connect(url, max_size=None, **options))
        try:
            await viewer.wait_for(lambda e: e["type"] == "deal")
            await asyncio.to_thread(publish_all)
            await viewer.wait_for(lambda e: e.get("n") == count - 1, timeout=60)
            got_by_stalled = []

            async def read_again():  # what was buffered for it, then the close
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for text in stalled:
                        got_by_stalled.extend(
                            e["n"] for e in frames(json.loads(text)) if e["type"] == "filler"
                        )

            await asyncio.wait_for(read_again(), 30)
            again = Reader(await ws_connect(port, live_show.pk))
            try:
                status = await again.wait_for(lambda e: e["type"] == "status")
            finally:
                await again.close()
            got_by_viewer = [e["n"] for e in viewer.events if e["type"] == "filler"]
            return got_by_viewer, got_by_stalled, stalled.close_code, status
        finally:
            await viewer.close()
            await stalled.close()

    got_by_viewer, got_by_stalled, close_code, status = asyncio.run(scenario())
    assert got_by_viewer == list(range(count))
    assert close_code == CLOSE_TOO_SLOW
    # What reached it before the close is in order and with no gap, and not all of it.
    assert got_by_stalled == list(range(len(got_by_stalled)))
    assert len(got_by_stalled) < count
    assert status == {"type": "status", "status": "live"}
