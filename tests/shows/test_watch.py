"""The show watch (beat job `shows-watch`) and Redis housekeeping (`redis-keys-clean`)."""

import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from shows.models import Show
from shows.services import show_create, show_go_live
from shows.watch import redis_keys_clean, shows_watch, stream_heartbeat_record

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_heartbeats_and_alerts():
    """Ids restart with every test database: drop this worker's heartbeats and alert marks (never
    cache.clear(), which would flush the Redis database other workers share)."""
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    for pattern in (f"{prefix}:*:stream:seen:*", f"{prefix}:*:show:late-alert:*", f"{prefix}:*:rl:*"):
        keys = list(client.scan_iter(pattern, count=500))
        if keys:
            client.delete(*keys)
    client.close()


def make_show(shop, *, minutes_from_now=0, live=False) -> Show:
    show = show_create(
        shop=shop, title="Crate digging", scheduled_start=timezone.now() + timedelta(minutes=minutes_from_now)
    )
    return show_go_live(show=show) if live else show


def heartbeat_seconds_ago(show, seconds: float) -> None:
    cache.set(f"stream:seen:{show.pk}", time.time() - seconds, timeout=3600)


def test_a_live_show_whose_stream_went_silent_is_ended(shop, settings):
    settings.LIVEMARKET_STREAM_STALE_SECONDS = 60
    silent, streaming, console_only = (make_show(shop, live=True) for _ in range(3))
    heartbeat_seconds_ago(silent, 61)
    heartbeat_seconds_ago(streaming, 5)
    assert shows_watch()["ended"] == 1
    statuses = {s.pk: s.status for s in Show.objects.all()}
    # A show that never streamed (live from the console) is left alone.
    assert statuses == {silent.pk: "ended", streaming.pk: "live", console_only.pk: "live"}
    assert shows_watch()["ended"] == 0  # a second pass changes nothing


def test_a_scheduled_show_whose_stream_is_up_is_taken_live(shop):
    show = make_show(shop, minutes_from_now=5)
    stream_heartbeat_record(show.pk)  # on_update arrived, but the on_publish callback was lost
    assert shows_watch()["started"] == 1
    assert Show.objects.get(pk=show.pk).status == "live"


def test_a_late_show_alerts_its_owner_once(shop, merchant, settings):
    settings.LIVEMARKET_LATE_SHOW_MINUTES = 10
    late = make_show(shop, minutes_from_now=-15)
    make_show(shop, minutes_from_now=-5)  # not late yet
    make_show(shop, minutes_from_now=-2 * 24 * 60)  # forgotten long ago: not alerted
    assert shows_watch()["late_alerts"] == 1
    assert shows_watch()["late_alerts"] == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [merchant.email] and late.title in mail.outbox[0].subject


def test_on_publish_and_on_update_record_heartbeats_and_an_ended_show_is_refused(client, shop):
    show = make_show(shop)
    assert client.post(reverse("stream_on_publish"), {"name": show.stream_key}).status_code == 200
    assert cache.get(f"stream:seen:{show.pk}") is not None
    cache.delete(f"stream:seen:{show.pk}")
    url = reverse("stream_on_update")
    assert client.post(url, {"name": show.stream_key}).status_code == 200
    assert cache.get(f"stream:seen:{show.pk}") is not None
    assert client.post(url, {"name": "wrong"}).status_code == 403
    Show.objects.filter(pk=show.pk).update(status=Show.Status.ENDED)
    assert client.post(url, {"name": show.stream_key}).status_code == 409


def test_redis_housekeeping_drops_stale_keys_and_keeps_live_ones(shop):
    live, ended = make_show(shop, live=True), make_show(shop, live=True)
    Show.objects.filter(pk=ended.pk).update(status="ended", ended_at=timezone.now() - timedelta(days=2))
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(settings.REDIS_URL)
    now = time.time()
    client.zadd(f"{prefix}:presence:show:{live.pk}", {"fresh": now + 30, "gone": now - 5})
    client.zadd(f"{prefix}:presence:show:{ended.pk}", {"gone": now - 5})
    client.set(f"{prefix}:presence:peak:{live.pk}", 3)
    client.set(f"{prefix}:presence:peak:{ended.pk}", 9)
    stream_heartbeat_record(live.pk)
    stream_heartbeat_record(ended.pk)
    client.set(f"{prefix}:1:rl:chat:1:{live.pk}", 4)  # a rate-limit counter that lost its expiry
    cache.set("rl:chat:2:1", 1, timeout=10)  # a healthy one

    # Two expired members (the emptied set goes with its last one), the old peak, the ended show's
    # heartbeat and the counter without expiry.
    assert redis_keys_clean() == 5
    assert client.zrange(f"{prefix}:presence:show:{live.pk}", 0, -1) == [b"fresh"]
    assert not client.exists(f"{prefix}:presence:show:{ended.pk}", f"{prefix}:presence:peak:{ended.pk}")
    assert client.exists(f"{prefix}:presence:peak:{live.pk}")
    assert cache.get(f"stream:seen:{live.pk}") and cache.get(f"stream:seen:{ended.pk}") is None
    assert cache.get("rl:chat:2:1") == 1 and not client.exists(f"{prefix}:1:rl:chat:1:{live.pk}")
    client.close()
