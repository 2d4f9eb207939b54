"""An ASGI process SIGKILLed with viewers connected (slow: about 50 s, most of it the presence expiry).

The production topology on loopback without Celery (deploy/cluster.py: nginx, least_conn, in front of
two uvicorn processes with `config.settings.production`, a private Redis). Six viewers connect through
nginx, so both processes hold some. One process is killed with SIGKILL: its sockets drop, and each
dropped viewer reconnects the way static/js/room-common.js does (exponential backoff with jitter, to
the same address: nginx sends it to the surviving process) and catches up from the 50 messages the
room replays on connect, dropping the ones it already has by id. The dead process can no longer remove
its viewers from the presence set in Redis (shows/presence.py); they fall out PRESENCE_TTL seconds
after its last refresh, so the count reads high for at most that long and then right again. The test
waits for that with a deadline of PRESENCE_TTL plus a margin: a correctness bound, not a speed check.
"""

import asyncio
import json
import random
import signal
import sys
import time

import pytest
import redis
import websockets
from django.db import connection
from django.utils import timezone

import shows.hub
from shows.presence import PRESENCE_TTL
from shows.services import chat_post, show_create, show_go_live
from tests.servers import PROJECT, consecutive_free_ports, database_url, free_port, start_redis, stop

sys.path.insert(0, str(PROJECT))
from deploy.cluster import Cluster  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

VIEWERS = 6
MARGIN_SECONDS = 15


class RoomClient:
    """A viewer with the page's reconnect logic: after an unexpected close, wait ~1 s, 2 s, 4 s …
    (capped at 20 s, half of it random) and connect again; keep chat by id so replays add nothing twice."""

    def __init__(self, url: str, origin: str):
        self.url, self.origin = url, origin
        self.opens = self.drops = 0
        self.connected = False
        self.chat: dict[int, str] = {}
        self.duplicates = (
            0  # chat the server replayed that this client already had (dropped, as the page does)
        )
        self.viewers: list[int] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        attempts = 0
        while True:
            try:
                async with websockets.connect(self.url, origin=self.origin, open_timeout=5) as ws:
                    attempts, self.connected = 0, True
                    self.opens += 1
                    try:
                        async for text in ws:
                            self._receive(json.loads(text))
                    finally:
                        self.connected = False
                        self.drops += 1
            except (OSError, TimeoutError, websockets.WebSocketException):
                pass
            attempts += 1
            delay = min(20.0, 2.0 ** min(attempts - 1, 5))
            await asyncio.sleep(delay / 2 + random.random() * delay / 2)  # noqa: S311 - jitter, not a secret

    def _receive(self, frame: dict) -> None:
        for event in frame["events"] if frame.get("type") == "batch" else [frame]:
            if event.get("type") == "chat":
                if event["id"] in self.chat:
                    self.duplicates += 1
                self.chat[event["id"]] = event["text"]
            elif event.get("type") == "viewers":
                self.viewers.append(event["count"])

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def _post(show, user, text: str):
    """chat_post from a worker thread (the event loop's thread may not touch the ORM), closing its connection."""
    try:
        return chat_post(show=show, user=user, text=text)
    finally:
        connection.close()


async def _until(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


@pytest.fixture
def cluster(tmp_path, settings, monkeypatch):
    """nginx and two ASGI processes on a private Redis; the test's own services publish to it too."""
    redis_port = free_port()
    redis_process = start_redis(port=redis_port, log=tmp_path / "redis.log")
    url = f"redis://127.0.0.1:{redis_port}/0"
    settings.REDIS_URL = url  # chat posted by the test reaches the servers' rooms ("lm" prefix, as theirs)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "lm",
        }
    }
    monkeypatch.setattr(shows.hub, "_sync_client", None)
    topology = Cluster(
        workdir=tmp_path / "cluster",
        database_url=database_url(),
        redis_url=url,
        port=consecutive_free_ports(3),  # fresh random secrets: production refuses the defaults
    )
    try:
        topology.start(celery=False)
        yield topology
    finally:
        topology.stop()
        if shows.hub._sync_client is not None:
            shows.hub._sync_client.close()
        stop(redis_process)


def test_viewers_of_a_killed_asgi_process_reconnect_catch_up_and_the_count_recovers(cluster, shop, merchant):
    show = show_go_live(show=show_create(shop=shop, title="Kill one", scheduled_start=timezone.now()))
    before = chat_post(show=show, user=merchant, text="welcome, everyone")
    presence = redis.Redis.from_url(cluster.env["REDIS_URL"])
    presence_key = f"lm:presence:show:{show.pk}"

    async def scenario() -> dict:
        ws_url = f"{cluster.url.replace('http', 'ws')}/ws/shows/{show.pk}/"
        clients = []
        for _ in range(VIEWERS):  # one after another: least_conn spreads them over both processes
            clients.append(RoomClient(ws_url, cluster.url))
            await _until(lambda: clients[-1].opens == 1, timeout=20, what="a viewer to connect")
        try:
            await _until(
                lambda: all(c.viewers and c.viewers[-1] == VIEWERS for c in clients),
                timeout=10,
                what=f"every viewer to see {VIEWERS} watching",
            )
            assert all(before.pk in c.chat for c in clients)

            stop(cluster.processes["asgi2"], sig=signal.SIGKILL)
            killed_at = time.monotonic()
            await _until(lambda: any(c.drops for c in clients), timeout=10, what="the sockets to drop")
            missed = await asyncio.to_thread(_post, show, merchant, "while you were away")
            await asyncio.sleep(2)  # every socket of the dead process has dropped by now
            dropped = [c for c in clients if c.drops]
            stayed = [c for c in clients if not c.drops]

            await _until(
                lambda: all(c.connected and c.opens == 2 for c in dropped),
                timeout=30,
                what="the dropped viewers to reconnect",
            )
            after = await asyncio.to_thread(_post, show, merchant, "back together")
            await _until(
                lambda: all(after.pk in c.chat for c in clients), timeout=10, what="chat after the reconnects"
            )

            # The dead process's viewers linger in the presence set until their expiry, then drop out.
            deadline = PRESENCE_TTL + MARGIN_SECONDS - (time.monotonic() - killed_at)
            await _until(
                lambda: (
                    presence.zcard(presence_key) == VIEWERS and all(c.viewers[-1] == VIEWERS for c in clients)
                ),
                timeout=deadline,
                what=f"the viewer count to come back to {VIEWERS}",
            )
            settled_at = time.monotonic() - killed_at
            await asyncio.sleep(2.5)  # and it stays right (the processes push changes once a second)
            return {
                "dropped": dropped,
                "stayed": stayed,
                "ids": (before.pk, missed.pk, after.pk),
                "settled_at": settled_at,
                "final": [c.viewers[-1] for c in clients] + [presence.zcard(presence_key)],
                "all_connected": all(c.connected for c in clients),
            }
        finally:
            for client in clients:
                await client.close()

    try:
        seen = asyncio.run(scenario())
    finally:
        presence.close()

    dropped, stayed = seen["dropped"], seen["stayed"]
    assert 0 < len(dropped) < VIEWERS  # nginx had put viewers on both processes
    assert cluster.processes["asgi1"].poll() is None and seen["all_connected"]
    assert all(c.opens == 1 for c in stayed) and all(c.opens == 2 for c in dropped)
    # Every viewer has all three messages once: the missed one live or from the replay on reconnect.
    for client in dropped + stayed:
        assert set(seen["ids"]) <= set(client.chat)
    assert all(c.duplicates >= 1 for c in dropped)  # the replay on reconnect repeated what they had
    # The reconnected viewers were counted beside their stale entries, then the stale ones expired.
    assert max(n for c in dropped for n in c.viewers) == VIEWERS + len(dropped)
    assert seen["settled_at"] <= PRESENCE_TTL + MARGIN_SECONDS
    assert seen["final"] == [VIEWERS] * (VIEWERS + 1)
