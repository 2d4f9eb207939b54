"""Two real uvicorn processes share one room through Redis (slow: about 10 s).

Each process holds its own sockets; events cross Redis pub/sub once per process, and presence lives
in Redis so every viewer sees the count across both processes.
"""

import asyncio
import json
import time

import pytest
import redis
import websockets
from django.conf import settings
from django.test import Client
from django.utils import timezone

from shows.models import ChatMessage
from shows.services import show_create, show_go_live
from tests import servers

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/12"  # this test's own db; the servers use the plain "lm" prefix
PREFIX = "lm"
_shows_served: set[int] = set()  # forgotten again once the servers have stopped writing presence


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def forget_room_keys(show_id: int, redis_url: str = REDIS_URL) -> None:
    """Only the keys these servers made for this show: presence, peak and rate-limit windows."""
    client = redis.Redis.from_url(redis_url)
    patterns = [
        f"{PREFIX}:presence:show:{show_id}",
        f"{PREFIX}:presence:peak:{show_id}",
        f"{PREFIX}:*:rl:chat:{show_id}:*",
        f"{PREFIX}:*:rl:react:{show_id}:*",
    ]
    try:
        for pattern in patterns:
            keys = list(client.scan_iter(pattern, count=500))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


class Reader:
    """Reads one real websocket in the background, unpacking `batch` frames."""

    def __init__(self, ws):
        self.ws = ws
        self.events: list[dict] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self):
        async for text in self.ws:
            message = json.loads(text)
            self.events.extend(message["events"] if message["type"] == "batch" else [message])

    async def wait_for(self, predicate, *, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            if self.task.done():
                break
            await asyncio.sleep(0.05)
        raise AssertionError(f"not received within {timeout}s; got {self.events}")

    async def close(self):
        await self.ws.close()
        self.task.cancel()


async def ws_connect(port: int, show_id: int, *, cookie: str | None = None, origin: str | None = None):
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"} if cookie else {}
    return await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/shows/{show_id}/",
        origin=origin or f"http://127.0.0.1:{port}",
        additional_headers=headers,
        open_timeout=5,
    )


@pytest.fixture(scope="module")
def two_servers(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two servers for the module (they start in a few seconds each), on the test database."""
    tmp_path = tmp_path_factory.mktemp("uvicorn")
    ports = [servers.free_port(), servers.free_port()]
    processes = []
    try:
        with django_db_blocker.unblock():
            url = servers.database_url()
        for port in ports:
            log = tmp_path / f"uvicorn-{port}.log"
            processes.append(
                (servers.start_uvicorn(port=port, redis_url=REDIS_URL, db_url=url, log=log), log)
            )
        for port, (process, log) in zip(ports, processes, strict=True):
            servers.wait_healthy(port, process, log=log)
        yield ports
    finally:
        for process, _ in processes:
            servers.stop(process)
        for show_id in _shows_served:
            forget_room_keys(show_id)


@pytest.fixture
def live_show(shop, variant):
    show = show_go_live(
        show=show_create(
            shop=shop, title="Two rooms", scheduled_start=timezone.now(), products=[variant.product]
        )
    )
    forget_room_keys(show.pk)
    _shows_served.add(show.pk)
    yield show
    forget_room_keys(show.pk)


def test_two_processes_share_pins_chat_and_the_viewer_count(two_servers, live_show, merchant, variant):
    first, second = two_servers
    host_cookie = session_cookie(merchant)

    async def scenario():
        viewer_a = Reader(await ws_connect(first, live_show.pk))
        viewer_b = Reader(await ws_connect(second, live_show.pk))
        host = Reader(await ws_connect(first, live_show.pk, cookie=host_cookie))
        try:
            for viewer in (viewer_a, viewer_b):
                await viewer.wait_for(lambda e: e == {"type": "status", "status": "live"})
                # Three sockets over two processes; each process pushes the count at most once a second.
                await viewer.wait_for(lambda e: e == {"type": "viewers", "count": 3}, timeout=6)
            await host.ws.send(json.dumps({"action": "pin", "product_id": variant.product_id}))
            await host.ws.send(json.dumps({"action": "chat", "text": "hello, both rooms"}))
            received = []
            for viewer in (viewer_a, viewer_b):
                pinned = await viewer.wait_for(
                    lambda e: e["type"] == "pinned" and e["product"] is not None, timeout=5
                )
                chat = await viewer.wait_for(
                    lambda e: e["type"] == "chat" and e["text"] == "hello, both rooms", timeout=5
                )
                received.append((pinned["product"]["id"], chat["id"], chat["user"]))
            assert not [e for e in host.events if e["type"] == "error"]
            return received
        finally:
            for reader in (viewer_a, viewer_b, host):
                await reader.close()

    received = asyncio.run(scenario())
    saved = ChatMessage.objects.get(show=live_show, text="hello, both rooms")
    assert received == [(variant.product_id, saved.pk, merchant.public_name)] * 2
    assert saved.user_id == merchant.pk


def test_a_cross_origin_handshake_is_refused(two_servers, live_show):
    port = two_servers[0]

    async def handshake(origin):
        try:
            ws = await ws_connect(port, live_show.pk, origin=origin)
        except websockets.InvalidStatus as exc:
            return exc.response.status_code
        await ws.close()
        return 101

    assert asyncio.run(handshake("http://evil.example")) == 403
    assert asyncio.run(handshake(f"http://127.0.0.1:{port + 1}")) == 403  # another port of the same host
    assert asyncio.run(handshake(f"https://127.0.0.1:{port}")) == 403  # another scheme
    assert asyncio.run(handshake(f"http://127.0.0.1:{port}")) == 101  # the page this server served
