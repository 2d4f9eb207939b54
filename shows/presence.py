"""Who is watching a show, kept in Redis so every ASGI process sees one count.

Each socket is a member of a sorted set scored by its expiry time. Every process refreshes its own
sockets once a second (hub ticker); a process that dies stops refreshing, and its sockets fall out
after PRESENCE_TTL seconds. The peak count is kept beside it for the show's summary. Without Redis
(the embedded default, one process) an in-process dict does the same job.
"""

import asyncio
import time
import weakref

import redis.asyncio as aioredis
from django.conf import settings

PRESENCE_TTL = 30
_local: dict[int, dict[str, float]] = {}
_local_peak: dict[int, int] = {}
# An asyncio Redis client belongs to the loop it was made on: keep one per running loop.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()

_PEAK_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800) end
return 1
"""


def redis_client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2, max_connections=20
        )
    return client


def _prefix() -> str:
    return settings.CACHES["default"].get("KEY_PREFIX", "lm")


def _key(show_id: int) -> str:
    return f"{_prefix()}:presence:show:{show_id}"


def peak_key(show_id: int) -> str:
    return f"{_prefix()}:presence:peak:{show_id}"


async def presence_refresh(show_id: int, members: list[str]) -> int:
    """Mark `members` as watching for the next PRESENCE_TTL seconds; returns the room's viewer count."""
    now = time.time()
    if not settings.REDIS_URL:
        room = _local.setdefault(show_id, {})
        for member in members:
            room[member] = now + PRESENCE_TTL
        for key in [k for k, expiry in room.items() if expiry < now]:
            del room[key]
        return len(room)
    key = _key(show_id)
    async with redis_client().pipeline(transaction=True) as pipe:
        if members:
            pipe.zadd(key, dict.fromkeys(members, now + PRESENCE_TTL))
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zcard(key)
        pipe.expire(key, PRESENCE_TTL * 2)
        result = await pipe.execute()
    return int(result[-2])


async def presence_touch(show_id: int, member: str) -> int:
    return await presence_refresh(show_id, [member])


async def presence_leave(show_id: int, member: str) -> int:
    now = time.time()
    if not settings.REDIS_URL:
        room = _local.get(show_id, {})
        room.pop(member, None)
        return sum(1 for expiry in room.values() if expiry >= now)
    key = _key(show_id)
    async with redis_client().pipeline(transaction=True) as pipe:
        pipe.zrem(key, member)
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zcard(key)
        result = await pipe.execute()
    return int(result[2])


async def peak_record(show_id: int, count: int) -> None:
    if not settings.REDIS_URL:
        _local_peak[show_id] = max(_local_peak.get(show_id, 0), count)
        return
    await redis_client().eval(_PEAK_SCRIPT, 1, peak_key(show_id), count)


def peak_read(show_id: int) -> int:
    """The most viewers seen at once (sync, for the end-of-show summary)."""
    if not settings.REDIS_URL:
        return _local_peak.get(show_id, 0)
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        return int(client.get(peak_key(show_id)) or 0)
    finally:
        client.close()
