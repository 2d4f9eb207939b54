"""The room fan-out path, built for thousands of viewers per show over several ASGI processes.

Each event is published once to Redis (`PUBLISH <prefix>:room:<show id>`). Each ASGI process holds one
pub/sub connection, subscribed to the rooms its own sockets are in, and writes every event to those
sockets itself: the event crosses Redis once per process, not once per viewer. Events are queued per
room and flushed after a short tick, so a burst of chat and reactions becomes one frame (a `batch`,
with reactions summed per kind) and is serialised once per process. Each process also refreshes the
presence of its sockets and pushes the viewer count at most once a second.

Without Redis (the embedded default, a single process) publishing goes straight to the hub of the
running event loop.
"""

import asyncio
import contextlib
import json
import logging
import weakref
from collections import defaultdict

import redis
import redis.asyncio as aioredis
from django.conf import settings

from . import presence

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.05
VIEWERS_EVERY_SECONDS = 1.0
COALESCED_TYPES = {"chat", "reaction"}


class RoomUnavailable(Exception):
    """The pub/sub backend cannot be reached: the caller reports it instead of hanging."""


def _prefix() -> str:
    return settings.CACHES["default"].get("KEY_PREFIX", "lm")


def room_channel(show_id: int) -> str:
    return f"{_prefix()}:room:{show_id}"


def coalesce(events: list[dict]) -> dict:
    """One frame for a tick's events: reactions summed per kind, everything else in order."""
    if len(events) == 1:
        return events[0]
    reactions: dict[str, int] = defaultdict(int)
    others = []
    for event in events:
        if event.get("type") == "reaction":
            reactions[event.get("kind", "heart")] += int(event.get("count", 1))
        else:
            others.append(event)
    merged = others + [{"type": "reaction", "kind": kind, "count": n} for kind, n in reactions.items()]
    return merged[0] if len(merged) == 1 else {"type": "batch", "events": merged}


class Hub:
    """The rooms of one event loop (one ASGI process)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.rooms: dict[int, set] = defaultdict(set)
        self.pending: dict[int, list[dict]] = defaultdict(list)
        self.flush_scheduled: set[int] = set()
        self.viewers_sent: dict[int, int] = {}
        self.pubsub = None
        self.listener: asyncio.Task | None = None
        self.ticker: asyncio.Task | None = None

    # --- membership -----------------------------------------------------------------------
    async def join(self, show_id: int, consumer) -> int:
        first = not self.rooms[show_id]
        self.rooms[show_id].add(consumer)
        if first and settings.REDIS_URL:
            await self._subscribe(show_id)
        if self.ticker is None or self.ticker.done():
            self.ticker = self.loop.create_task(self._tick_viewers())
        return await presence.presence_touch(show_id, consumer.channel_name)

    async def leave(self, show_id: int, consumer) -> None:
        members = self.rooms.get(show_id)
        if members is None:
            return
        members.discard(consumer)
        with contextlib.suppress(Exception):
            await presence.presence_leave(show_id, consumer.channel_name)
        if not members:
            self.rooms.pop(show_id, None)
            self.viewers_sent.pop(show_id, None)
            if self.pubsub is not None:
                with contextlib.suppress(Exception):
                    await self.pubsub.unsubscribe(room_channel(show_id))

    async def _subscribe(self, show_id: int) -> None:
        if self.pubsub is None:
            client = aioredis.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=2, health_check_interval=30
            )
            self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(room_channel(show_id))
        if self.listener is None or self.listener.done():
            self.listener = self.loop.create_task(self._listen())

    async def _listen(self) -> None:
        prefix = f"{_prefix()}:room:"
        while True:
            try:
                message = await self.pubsub.get_message(timeout=1.0)
            except Exception:  # noqa: BLE001 - Redis went away: keep the sockets, retry
                logger.warning("room pub/sub lost; retrying", exc_info=True)
                await asyncio.sleep(1)
                await self._resubscribe()
                continue
            if message is None:
                if not self.rooms:
                    return
                continue
            channel = (
                message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            )
            try:
                show_id = int(channel[len(prefix) :])
                payload = json.loads(message["data"])
            except (ValueError, TypeError):
                continue
            self.deliver(show_id, payload)

    async def _resubscribe(self) -> None:
        with contextlib.suppress(Exception):
            channels = [room_channel(show_id) for show_id in self.rooms]
            if channels:
                await self.pubsub.subscribe(*channels)

    # --- delivery -------------------------------------------------------------------------
    def deliver(self, show_id: int, payload: dict) -> None:
        """Queue an event for this process's sockets in the room; flushed within one tick."""
        if show_id not in self.rooms:
            return
        self.pending[show_id].append(payload)
        if show_id not in self.flush_scheduled:
            self.flush_scheduled.add(show_id)
            delay = TICK_SECONDS if payload.get("type") in COALESCED_TYPES else 0
            self.loop.call_later(delay, lambda: self.loop.create_task(self._flush(show_id)))

    async def _flush(self, show_id: int) -> None:
        self.flush_scheduled.discard(show_id)
        events = self.pending.pop(show_id, [])
        if events:
            await self.send_local(show_id, coalesce(events))

    async def send_local(self, show_id: int, frame: dict) -> None:
        text = json.dumps(frame)
        for consumer in list(self.rooms.get(show_id, ())):
            try:
                await consumer.send(text_data=text)
            except Exception:  # noqa: BLE001 - one broken socket must not stop the room
                logger.debug("dropping a dead socket", exc_info=True)
                self.rooms[show_id].discard(consumer)

    async def _tick_viewers(self) -> None:
        """Once a second: refresh this process's presence and push changed viewer counts."""
        while self.rooms:
            await asyncio.sleep(VIEWERS_EVERY_SECONDS)
            for show_id, members in list(self.rooms.items()):
                try:
                    count = await presence.presence_refresh(show_id, [c.channel_name for c in members])
                except Exception:  # noqa: BLE001
                    logger.warning("presence refresh failed for show %s", show_id, exc_info=True)
                    continue
                if self.viewers_sent.get(show_id) != count:
                    self.viewers_sent[show_id] = count
                    await self.send_local(show_id, {"type": "viewers", "count": count})
                    await presence.peak_record(show_id, count)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()
_sync_client: redis.Redis | None = None


def hub() -> Hub:
    loop = asyncio.get_running_loop()
    instance = _hubs.get(loop)
    if instance is None:
        instance = _hubs[loop] = Hub(loop)
    return instance


def _redis_sync() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2, max_connections=50
        )
    return _sync_client


def publish(show_id: int, payload: dict) -> None:
    """Send an event to everyone in the room, from sync code (services, after commit)."""
    if settings.REDIS_URL:
        try:
            _redis_sync().publish(room_channel(show_id), json.dumps(payload))
        except redis.RedisError as exc:
            raise RoomUnavailable("The live room is unavailable right now.") from exc
        return
    for loop, instance in list(_hubs.items()):
        if not loop.is_closed():
            loop.call_soon_threadsafe(instance.deliver, show_id, payload)


async def apublish(show_id: int, payload: dict) -> None:
    """The same from async code (a consumer's reaction)."""
    if settings.REDIS_URL:
        try:
            await presence.redis_client().publish(room_channel(show_id), json.dumps(payload))
        except redis.RedisError as exc:
            raise RoomUnavailable("The live room is unavailable right now.") from exc
        return
    hub().deliver(show_id, payload)
