"""Who is watching a show, kept in Redis so every ASGI process sees one count.

Each socket is a member of a sorted set scored by its expiry time; a process that dies without
saying goodbye stops refreshing, and its sockets fall out after PRESENCE_TTL seconds. Without
Redis (the embedded default, one process) an in-process dict does the same job.
"""

import time

from django.conf import settings

PRESENCE_TTL = 90
_local: dict[int, dict[str, float]] = {}
_client = None


def _redis():
    global _client
    if _client is None:
        import redis.asyncio as aioredis

        _client = aioredis.Redis.from_url(settings.REDIS_URL)
    return _client


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
