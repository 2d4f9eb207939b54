"""Beat jobs run twice at the same instant (two beats, a slow run overlapping the next) do the work once."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from catalog.models import Stock
from orders.models import Order, OrderEvent
from orders.services import orders_expire_unpaid
from shows.models import Show
from shows.services import show_create, show_go_live
from shows.watch import shows_watch
from tests.concurrency import race
from tests.orders.test_lifecycle_refunds import _unpaid_order

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_show_watches_at_once_end_a_silent_show_and_alert_a_late_one_once(shop, settings):
    settings.LIVEMARKET_STREAM_STALE_SECONDS = 60
    silent = show_go_live(show=show_create(shop=shop, title="Silent", scheduled_start=timezone.now()))
    cache.set(f"stream:seen:{silent.pk}", time.time() - 300, timeout=600)
    late = show_create(shop=shop, title="Late", scheduled_start=timezone.now() - timedelta(minutes=30))
    cache.delete(f"show:late-alert:{late.pk}")

    outcomes = race([shows_watch, shows_watch])

    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sum(o["ended"] for o in outcomes) == 1 and sum(o["late_alerts"] for o in outcomes) == 1
    assert Show.objects.get(pk=silent.pk).status == Show.Status.ENDED
    assert len([m for m in mail.outbox if "Late" in m.subject]) == 1


def test_two_unpaid_order_sweeps_at_once_cancel_each_order_once(shopper, variant):
    order = _unpaid_order(shopper, variant_id=variant.pk, quantity=2)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(hours=2))

    outcomes = race([orders_expire_unpaid, orders_expire_unpaid])

    assert sorted(outcomes) == [0, 1]
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert OrderEvent.objects.filter(order=order, to_status=Order.Status.CANCELLED).count() == 1
    assert Stock.objects.get(variant=variant).allocated == 0
