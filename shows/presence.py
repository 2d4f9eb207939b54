"""Who is watching a show, kept in Redis so every ASGI process sees one count.

Each socket is a member of a sorted set scored by its expiry time; a process that dies without
saying goodbye stops refreshing, and its sockets fall out after PRESENCE_TTL seconds. Without
Redis (the embedded default, one process) an in-process dict does the same job.
"""

import asyncio
import time
import weakref

import redis.asyncio as aioredis
from django.conf import settings

PRESENCE_TTL = 90
_local: dict[int, dict[str, float]] = {}
# An asyncio Redis client belongs to the loop it was made on: keep one per running loop.
_clients: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis]" = weakref.WeakKeyDictionary()


def _redis() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client


def _key(show_id: int) -> str:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "lm")
    return f"{prefix}:presence:show:{show_id}"


async def presence_touch(show_id: int, member: str) -> int:
    """Mark `member` as watching for the next PRESENCE_TTL seconds; returns the viewer count."""
    now = time.time()
    if not settings.REDIS_URL:
        members = _local.setdefault(show_id, {})
        members[member] = now + PRESENCE_TTL
        for key in [k for k, exp in members.items() if exp < now]:
            del members[key]
        return len(members)
    client = _redis()
    key = _key(show_id)
    async with client.pipeline(transaction=True) as pipe:
        pipe.zadd(key, {member: now + PRESENCE_TTL})
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zcard(key)
        pipe.expire(key, PRESENCE_TTL * 2)
        result = await pipe.execute()
    return int(result[2])


async def presence_leave(show_id: int, member: str) -> int:
    now = time.time()
    if not settings.REDIS_URL:
        members = _local.get(show_id, {})
        members.pop(member, None)
        return sum(1 for exp in members.values() if exp >= now)
    client = _redis()
    key = _key(show_id)
    async with client.pipeline(transaction=True) as pipe:
        pipe.zrem(key, member)
        pipe.zremrangebyscore(key, "-inf", now)
        pipe.zcard(key)
        result = await pipe.execute()
    return int(result[2])
