"""Fixed-window rate limits in the cache (Redis in production), so they hold across processes."""

from django.core.cache import cache

from .hub import RoomUnavailable


def rate_limit_exceeded(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one more hit on `key`; True when this hit is over the limit for the current window."""
    full_key = f"rl:{key}"
    try:
        cache.add(full_key, 0, timeout=window_seconds)
        hits = cache.incr(full_key)
    except ValueError:  # the key expired between add and incr
        cache.set(full_key, 1, timeout=window_seconds)
        hits = 1
    except Exception as exc:  # noqa: BLE001 - Redis down: refuse clearly instead of hanging
        raise RoomUnavailable("The live room is unavailable right now; try again in a moment.") from exc
    return hits > limit
