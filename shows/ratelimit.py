"""The room's rate limits (chat, reactions, bids): config/ratelimit.py's fixed window, refusing clearly
when Redis is down, since the room cannot work without it anyway."""

from config.ratelimit import RateLimitUnavailable, rate_limit_hit

from .hub import RoomUnavailable


def rate_limit_exceeded(*, key: str, limit: int, window_seconds: int) -> bool:
    """Count one more hit on `key`; True when this hit is over the limit for the current window."""
    try:
        return rate_limit_hit(key=key, limit=limit, window_seconds=window_seconds)
    except RateLimitUnavailable as exc:  # Redis down: refuse clearly instead of hanging
        raise RoomUnavailable("The live room is unavailable right now; try again in a moment.") from exc
