"""Fixed-window rate limits in the cache (Redis in production), so they hold across processes.

A limit is `(hits, seconds)` from settings (`LIVEMARKET_*_RATE`). Counting writes only a cache key that
expires with its window: going over a limit never deactivates an account or writes a row, so the
caller is back in once the window has passed. Views answer 429 with a `Retry-After` header and a
message (JSON for JSON endpoints, a page otherwise); the chat and bid services raise RateLimited.
"""

import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


class RateLimitUnavailable(Exception):
    """The cache (Redis) did not answer, so the hit could not be counted."""


def rate_limit_hit(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one more hit on `key`; True when this hit is over the limit for the current window."""
    full_key = f"rl:{key}"
    try:
        cache.add(full_key, 0, timeout=window_seconds)
        hits = cache.incr(full_key)
    except ValueError:  # the key expired between add and incr
        cache.set(full_key, 1, timeout=window_seconds)
        hits = 1
    except Exception as exc:  # noqa: BLE001 - Redis down: callers decide to refuse or to let it pass
        raise RateLimitUnavailable(str(exc)) from exc
    return hits > limit


def rate_limit_count(*, key: str) -> int:
    """The hits on `key` in its current window, without counting one more (0 when Redis is down)."""
    try:
        return int(cache.get(f"rl:{key}") or 0)
    except Exception:  # noqa: BLE001 - Redis down: nothing to refuse on
        return 0


def rate(name: str) -> tuple[int, int]:
    """The `(hits, seconds)` limit in the setting `name`, read on every call (tests override it)."""
    hits, seconds = getattr(settings, name)
    return int(hits), int(seconds)


def over_limit(*, setting: str, key: str, fail_open: bool = True) -> tuple[int, int] | None:
    """(hits, seconds) when this hit on `key` is over the limit in `setting`, else None.

    With Redis down the hit is let through (`fail_open`): a shopper's purchase or a provider's webhook
    matters more than the flood guard, which the DRF throttles and nginx back up."""
    limit, window = rate(setting)
    try:
        exceeded = rate_limit_hit(key=key, limit=limit, window_seconds=window)
    except RateLimitUnavailable:
        if not fail_open:
            raise
        logger.warning("rate limit %s not counted: the cache is unavailable", setting)
        return None
    return (limit, window) if exceeded else None


def client_ip(request: HttpRequest) -> str:
    """The caller's address as allauth sees it (REMOTE_ADDR, or X-Forwarded-For behind
    ALLAUTH_TRUSTED_PROXY_COUNT proxies), so every per-IP limit counts the same way."""
    from allauth.account.adapter import get_adapter
    from django.core.exceptions import PermissionDenied

    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:  # no address at all (never under a real server)
        return "unknown"


def too_many_message(limit: int, window: int, what: str) -> str:
    period = f"{window} seconds" if window < 120 else f"{window // 60} minutes"
    return f"Too many {what}: at most {limit} every {period}. Try again in a little while."


def json_429(*, limit: int, window: int, what: str) -> JsonResponse:
    response = JsonResponse(
        {"code": "rate_limited", "message": too_many_message(limit, window, what)}, status=429
    )
    response["Retry-After"] = str(window)
    return response
