"""Watching over shows from the beat (`shows_watch_task`) and `run_timers`, and Redis housekeeping.

Stream heartbeats: the media server's `on_publish` and periodic `on_update` callbacks (nginx-rtmp's
`notify_update_timeout`, 30 s by default) record when a show's stream was last seen, in the cache
(Redis in production). With that:
- a live show whose stream has been silent for LIVEMARKET_STREAM_STALE_SECONDS is ended (the
  `on_publish_done` callback was lost, or the encoder died). A live show that never sent a heartbeat
  (the host went live from the console without streaming) is left alone;
- a scheduled show whose stream is up is taken live (its `on_publish` callback was lost);
- a scheduled show LIVEMARKET_LATE_SHOW_MINUTES past its start, with no stream, gets one alert
  (logged, and e-mailed to the shop's owners).
Every step goes through show_go_live / show_end, which lock the show row and do nothing the second
time, so two sweeps at once are harmless; the late alert is sent once through an atomic cache.add.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from config.mail import subject_line
from shops.models import ShopMembership

from .exceptions import ShowError, ShowNotLive
from .models import Show
from .services import _show_for_key, show_end, show_go_live

logger = logging.getLogger(__name__)

HEARTBEAT_TTL = 24 * 3600
LATE_ALERT_TTL = 3 * 24 * 3600
START_WINDOW = timedelta(hours=1)  # a stream may start this long before the scheduled time


def _heartbeat_key(show_id: int) -> str:
    return f"stream:seen:{show_id}"


def stream_heartbeat_record(show_id: int) -> None:
    try:
        cache.set(_heartbeat_key(show_id), time.time(), timeout=HEARTBEAT_TTL)
    except Exception:  # noqa: BLE001 - a heartbeat is best effort; the callback must still answer
        logger.warning("show %s: stream heartbeat not recorded (cache unavailable)", show_id)


def stream_heartbeats(show_ids: list[int]) -> dict[int, float]:
    """Seconds since each show's stream was last seen, for the shows that have a heartbeat."""
    if not show_ids:
        return {}
    seen = cache.get_many([_heartbeat_key(pk) for pk in show_ids])
    now = time.time()
    return {pk: now - seen[_heartbeat_key(pk)] for pk in show_ids if _heartbeat_key(pk) in seen}


def stream_alive(*, stream_key: str) -> Show:
    """The media server's on_update callback: the stream is still up. A scheduled show goes live
    (its on_publish was lost); an ended show raises ShowNotLive so the server drops the stream."""
    show = _show_for_key(stream_key)
    stream_heartbeat_record(show.pk)
    if show.status == Show.Status.SCHEDULED:
        show = show_go_live(show=show)
    elif show.status != Show.Status.LIVE:
        raise ShowNotLive("This show has ended.")
    return show


def _alert_late(show: Show, minutes_late: int) -> None:
    owners = list(
        ShopMembership.objects.filter(shop_id=show.shop_id, role=ShopMembership.Role.OWNER)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    logger.warning(
        "show %s (%s, shop %s) is %s min late and not live; alerting %s",
        show.pk,
        show.title,
        show.shop.slug,
        minutes_late,
        ", ".join(owners) or "nobody (no owner e-mail)",
    )
    if owners:
        send_mail(
            subject=subject_line(f"Your show “{show.title}” should have started {minutes_late} minutes ago"),
            message=render_to_string(
                "shows/email/late_show.txt",
                {"show": show, "scheduled": timezone.localtime(show.scheduled_start)},
            ),
            from_email=None,
            recipient_list=owners,
        )


def _take(show_id: int, status: str) -> Show | None:
    """The show, locked, if it is still in `status` and no other sweep holds it (call in a transaction)."""
    return Show.objects.select_for_update(skip_locked=True).filter(pk=show_id, status=status).first()


def shows_watch() -> dict[str, int]:
    """One pass of the watch; returns what it did."""
    now = timezone.now()
    done = {"started": 0, "ended": 0, "late_alerts": 0}

    live = list(Show.objects.filter(status=Show.Status.LIVE).values_list("pk", flat=True))
    for show_id, silent_for in stream_heartbeats(live).items():
        if silent_for > settings.LIVEMARKET_STREAM_STALE_SECONDS:
            with transaction.atomic():
                show = _take(show_id, Show.Status.LIVE)
                if show is None:  # another sweep has it, or it has ended meanwhile
                    continue
                show_end(show=show)
            done["ended"] += 1
            logger.info("show %s ended: no stream heartbeat for %.0f s", show_id, silent_for)

    upcoming = list(
        Show.objects.filter(
            status=Show.Status.SCHEDULED, scheduled_start__lte=now + START_WINDOW
        ).values_list("pk", flat=True)
    )
    for show_id, silent_for in stream_heartbeats(upcoming).items():
        if silent_for <= settings.LIVEMARKET_STREAM_STALE_SECONDS:
            try:
                with transaction.atomic():
                    show = _take(show_id, Show.Status.SCHEDULED)
                    if show is None:
                        continue
                    show_go_live(show=show)
            except ShowError as exc:
                logger.warning("show %s has a stream but cannot go live: %s", show_id, exc)
                continue
            done["started"] += 1
            logger.info("show %s taken live: its stream is up (on_publish was missed)", show_id)

    late_cutoff = now - timedelta(minutes=settings.LIVEMARKET_LATE_SHOW_MINUTES)
    # Shows late by up to a day; older ones were forgotten, not late (the alert's mark lasts 3 days).
    late = Show.objects.filter(
        status=Show.Status.SCHEDULED,
        scheduled_start__lte=late_cutoff,
        scheduled_start__gt=now - timedelta(days=1),
    ).select_related("shop")
    for show in late:
        if cache.add(f"show:late-alert:{show.pk}", 1, timeout=LATE_ALERT_TTL):
            _alert_late(show, int((now - show.scheduled_start).total_seconds() // 60))
            done["late_alerts"] += 1
    return done


def redis_keys_clean() -> int:
    """Housekeeping in Redis: presence members past their expiry, presence and peak keys of shows no
    longer live, stream heartbeats of ended shows, and rate-limit counters that lost their expiry.
    Returns how many keys or members it removed. Safe any time: live shows' keys are kept."""
    if not settings.REDIS_URL:
        return 0
    import redis

    from .presence import PRESENCE_TTL

    prefix = settings.CACHES["default"].get("KEY_PREFIX", "lm")
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    removed = 0
    try:
        live = {str(pk) for pk in Show.objects.filter(status=Show.Status.LIVE).values_list("pk", flat=True)}
        now = time.time()
        for key in client.scan_iter(f"{prefix}:presence:show:*", count=500):
            removed += client.zremrangebyscore(key, "-inf", now)
            show_id = key.decode().rsplit(":", 1)[-1]
            if show_id not in live and client.zcard(key) == 0:
                removed += client.delete(key)
            elif client.ttl(key) == -1:
                client.expire(key, PRESENCE_TTL * 2)
        # Peak counts feed the end-of-show summary; a day after the show they are done with. Stream
        # heartbeats matter only while a show is scheduled or live.
        recent = {
            str(pk)
            for pk in Show.objects.filter(ended_at__gt=timezone.now() - timedelta(days=1)).values_list(
                "pk", flat=True
            )
        }
        scheduled = {
            str(pk) for pk in Show.objects.filter(status=Show.Status.SCHEDULED).values_list("pk", flat=True)
        }
        for pattern, keep in (
            (f"{prefix}:presence:peak:*", live | recent),
            (f"{prefix}:*:{_heartbeat_key('*')}", live | scheduled),
        ):
            for key in client.scan_iter(pattern, count=500):
                if key.decode().rsplit(":", 1)[-1] not in keep:
                    removed += client.delete(key)
        for key in client.scan_iter(f"{prefix}:*:rl:*", count=500):
            if client.ttl(key) == -1:  # a counter with no window would block its user for ever
                removed += client.delete(key)
    finally:
        client.close()
    if removed:
        logger.info("redis housekeeping removed %s stale keys or presence members", removed)
    return removed
