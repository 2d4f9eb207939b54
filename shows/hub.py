"""The room fan-out path, built for thousands of viewers per show over several ASGI processes.

Each event is published once to Redis (`PUBLISH <prefix>:room:<show id>`). Each ASGI process holds one
pub/sub connection, subscribed to the rooms its own sockets are in, and writes every event to those
sockets itself: the event crosses Redis once per process, not once per viewer. A frame is serialised
once per process and handed to each socket's ASGI `send` as the server gave it (`RoomSendMiddleware`),
not through the consumer's send chain and Channels' session wrapper, in one pass over the room.
Chat and reactions are coalesced: the first event after a quiet tick (50 ms) goes out at once, and
whatever follows within the tick becomes one frame (a `batch`, with reactions summed per kind) at its
end. Each process also refreshes the presence of its sockets and pushes the viewer count at most once
a second.

A socket that cannot take a frame right away (its client stopped reading and the server's write buffer
is full) never holds up the others: its frames queue behind it, up to BACKLOG_BYTES, and past that
the hub closes it (code 1013, "try again later"). The page reconnects and, like any new viewer, gets the
room's state and recent chat.

Without Redis (the embedded default, a single process) publishing goes straight to the hub of the
running event loop.
"""

import asyncio
import contextlib
import json
import logging
import weakref
from collections import defaultdict, deque

import redis
import redis.asyncio as aioredis
from django.conf import settings

from . import presence

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.05
VIEWERS_EVERY_SECONDS = 1.0
COALESCED_TYPES = {"chat", "reaction"}
BACKLOG_BYTES = 1024 * 1024  # queued behind a socket that cannot keep up, beyond the socket buffers
CLOSE_TOO_SLOW = 1013  # "try again later": the page reconnects and catches up
SEND_KEY = "livemarket.room_send"  # the scope key RoomSendMiddleware keeps the server's `send` under


class RoomUnavailable(Exception):
    """The pub/sub backend cannot be reached: the caller reports it instead of hanging."""


class RoomSendMiddleware:
    """Keeps the server's own ASGI `send` on the websocket scope, for the hub to write room frames to.

    Channels' session middleware wraps `send` to save sessions on HTTP responses, and does nothing for a
    websocket frame but look the session up: thousands of frames a second skip that."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        return await self.app(dict(scope, **{SEND_KEY: send}), receive, send)


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


async def _finish(coro, waiting) -> None:
    """Run a coroutine that was stepped by hand and is suspended on `waiting` to its end, as a task would.

    `Outlet.write` starts each ASGI send eagerly (what Python 3.12's eager tasks do): a socket that can
    take the frame is written at once with no task; only one that must wait gets a task (this one)."""
    while True:
        if waiting is None:  # a bare yield: give the loop one turn
            await asyncio.sleep(0)
        else:
            waiting._asyncio_future_blocking = False  # taken over, as a task takes a future it is handed
            try:
                await waiting
            except BaseException:
                if not waiting.done():
                    coro.close()
                    raise
                # else the coroutine reads the outcome from the future itself, next step
        try:
            waiting = coro.send(None)
        except StopIteration:
            return


class Outlet:
    """One socket of a room: its ASGI `send`, and the frames waiting while a write of it has to wait."""

    __slots__ = ("show_id", "consumer", "member", "send", "backlog", "queued", "busy")

    OK, GONE, TOO_SLOW = range(3)

    def __init__(self, show_id: int, consumer):
        self.show_id = show_id
        self.consumer = consumer
        self.member = consumer.channel_name  # its presence entry
        self.send = consumer.scope.get(SEND_KEY) or consumer.base_send
        self.backlog: deque[dict] = deque()
        self.queued = 0  # bytes of text in the backlog
        self.busy = False  # a task is finishing a write; later frames queue behind it, in order

    def write(self, message: dict, loop: asyncio.AbstractEventLoop, on_error) -> int:
        if self.busy:
            if self.queued >= BACKLOG_BYTES:
                return self.TOO_SLOW
            self.backlog.append(message)
            self.queued += len(message["text"])
            return self.OK
        coro = self.send(message)
        try:
            waiting = coro.send(None)
        except StopIteration:
            return self.OK
        except Exception:  # noqa: BLE001 - the socket is closed or closing
            logger.debug("dropping a dead socket", exc_info=True)
            return self.GONE
        self.busy = True
        loop.create_task(self._drain(coro, waiting, on_error))
        return self.OK

    async def _drain(self, coro, waiting, on_error) -> None:
        try:
            await _finish(coro, waiting)
            while self.backlog:
                message = self.backlog.popleft()
                self.queued -= len(message.get("text", ""))
                await self.send(message)
        except Exception:  # noqa: BLE001
            logger.debug("dropping a dead socket", exc_info=True)
            self.backlog.clear()
            self.queued = 0
            on_error(self)
        finally:
            self.busy = False


class Hub:
    """The rooms of one event loop (one ASGI process)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.rooms: dict[int, dict[object, Outlet]] = {}  # show id -> {consumer: outlet}
        self.pending: dict[int, list[dict]] = defaultdict(list)
        self.flushes: dict[int, tuple[asyncio.Handle, bool]] = {}  # show id -> (handle, delayed)
        self.flushed_at: dict[int, float] = {}
        self.viewers_sent: dict[int, int] = {}
        self.pubsub = None
        self.listener: asyncio.Task | None = None
        self.ticker: asyncio.Task | None = None

    # --- membership -----------------------------------------------------------------------
    async def join(self, show_id: int, consumer) -> int:
        room = self.rooms.get(show_id)
        first = room is None
        if first:
            room = self.rooms[show_id] = {}
        room[consumer] = Outlet(show_id, consumer)
        if first and settings.REDIS_URL:
            await self._subscribe(show_id)
        if self.ticker is None or self.ticker.done():
            self.ticker = self.loop.create_task(self._tick_viewers())
        return await presence.presence_touch(show_id, consumer.channel_name)

    async def leave(self, show_id: int, consumer) -> None:
        outlet = self.rooms.get(show_id, {}).get(consumer)
        if outlet is not None:
            self._discard(outlet)
        with contextlib.suppress(Exception):
            await presence.presence_leave(show_id, consumer.channel_name)

    def _discard(self, outlet: Outlet) -> None:
        """Take a socket out of its room; the last one out unsubscribes the process from the room."""
        room = self.rooms.get(outlet.show_id)
        if room is None or room.get(outlet.consumer) is not outlet:
            return
        del room[outlet.consumer]
        if room:
            return
        show_id = outlet.show_id
        del self.rooms[show_id]
        self.viewers_sent.pop(show_id, None)
        self.pending.pop(show_id, None)
        self.flushed_at.pop(show_id, None)
        flush = self.flushes.pop(show_id, None)
        if flush is not None:
            flush[0].cancel()
        if self.pubsub is not None:
            self.loop.create_task(self._unsubscribe(show_id))

    async def _unsubscribe(self, show_id: int) -> None:
        if show_id not in self.rooms:  # nobody joined again meanwhile
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(room_channel(show_id))

    def _evict(self, outlet: Outlet) -> None:
        """A socket too far behind: out of the room, and closed once it can be written to again."""
        logger.info("room %s: closing a socket %s bytes behind", outlet.show_id, outlet.queued)
        self._discard(outlet)
        outlet.backlog.clear()
        outlet.queued = 0
        outlet.backlog.append({"type": "websocket.close", "code": CLOSE_TOO_SLOW})

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
        """Queue an event for this process's sockets in the room.

        Anything but chat and reactions goes out at once (with whatever chat is waiting, in order). Chat
        and reactions go out at once after a quiet tick, else at the end of the current one."""
        if show_id not in self.rooms:
            return
        self.pending[show_id].append(payload)
        urgent = payload.get("type") not in COALESCED_TYPES
        scheduled = self.flushes.get(show_id)
        if scheduled is not None:
            handle, delayed = scheduled
            if not (urgent and delayed):
                return
            handle.cancel()
        wait = (
            0.0 if urgent else self.flushed_at.get(show_id, -TICK_SECONDS) + TICK_SECONDS - self.loop.time()
        )
        if wait > 0:
            self.flushes[show_id] = (self.loop.call_later(wait, self._flush, show_id), True)
        else:
            self.flushes[show_id] = (self.loop.call_soon(self._flush, show_id), False)

    def _flush(self, show_id: int) -> None:
        self.flushes.pop(show_id, None)
        self.flushed_at[show_id] = self.loop.time()
        events = self.pending.pop(show_id, None)
        if events:
            self.send_local(show_id, coalesce(events))

    def send_local(self, show_id: int, frame: dict) -> None:
        """Write one frame to every socket of the room in this process, serialised once."""
        room = self.rooms.get(show_id)
        if not room:
            return
        message = {"type": "websocket.send", "text": json.dumps(frame)}
        failed = []
        for outlet in tuple(room.values()):
            outcome = outlet.write(message, self.loop, self._discard)
            if outcome != Outlet.OK:
                failed.append((outlet, outcome))
        for outlet, outcome in failed:
            if outcome == Outlet.TOO_SLOW:
                self._evict(outlet)
            else:
                self._discard(outlet)

    async def _tick_viewers(self) -> None:
        """Once a second: refresh this process's presence and push changed viewer counts."""
        while self.rooms:
            await asyncio.sleep(VIEWERS_EVERY_SECONDS)
            for show_id, room in list(self.rooms.items()):
                try:
                    count = await presence.presence_refresh(show_id, [o.member for o in room.values()])
                except Exception:  # noqa: BLE001
                    logger.warning("presence refresh failed for show %s", show_id, exc_info=True)
                    continue
                if self.viewers_sent.get(show_id) != count:
                    self.viewers_sent[show_id] = count
                    self.send_local(show_id, {"type": "viewers", "count": count})
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
