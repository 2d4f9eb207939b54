"""What happens around a show: go-live e-mails, the seller's summary, stream callbacks and giveaways."""

import asyncio
import json
import uuid
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

import shows.tasks
from catalog.models import Stock
from orders.models import Order, OrderLine
from orders.services import address_save, cart_get_or_create, checkout_complete
from shops.services import shop_follow
from shows import presence
from shows.exceptions import GiveawayError
from shows.models import Giveaway, GiveawayEntry, Show, ShowNotification, ShowSummary
from shows.notifications import show_live_notify
from shows.services import (
    chat_post,
    giveaway_draw,
    giveaway_enter,
    giveaway_start,
    show_buy_now,
    show_create,
    show_end,
    show_go_live,
    show_remind,
    show_summary_compute,
)
from tests.concurrency import race
from tests.shops.factories import UserFactory
from tests.shows.roomkit import ADDRESS, TimerStub, clear_rate_limits, join, next_of

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CARD = "4242 4242 4242 4242"


@pytest.fixture(autouse=True)
def _no_rate_limits_from_earlier_runs():
    clear_rate_limits()


@pytest.fixture
def scheduled_show(shop, variant):
    return show_create(
        shop=shop, title="Sunday jazz", scheduled_start=timezone.now(), products=[variant.product]
    )


# --- Go-live e-mails -----------------------------------------------------------------------------


@pytest.fixture
def audience(shop, scheduled_show):
    """Two who asked for a reminder, two followers, and one who did both."""
    reminded = [UserFactory(), UserFactory()]
    followers = [UserFactory(), UserFactory()]
    both = UserFactory()
    for user in [*reminded, both]:
        show_remind(show=scheduled_show, user=user)
    for user in [*followers, both]:
        shop_follow(user=user, shop=shop)
    UserFactory()  # neither: gets nothing
    return sorted(user.email for user in [*reminded, *followers, both])


def _recipients(outbox) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def test_going_live_emails_every_reminded_user_and_follower_exactly_once(
    scheduled_show, audience, mailoutbox
):
    show_go_live(show=scheduled_show)  # the notification task runs after commit (eager here)
    assert _recipients(mailoutbox) == audience
    assert "is live now: Sunday jazz" in mailoutbox[0].subject
    assert f"/shows/{scheduled_show.pk}/" in mailoutbox[0].body

    assert show_live_notify(show_id=scheduled_show.pk) == 0
    assert show_live_notify(show_id=scheduled_show.pk) == 0
    assert _recipients(mailoutbox) == audience
    assert ShowNotification.objects.filter(show=scheduled_show).count() == len(audience)


def test_two_notifiers_at_once_still_email_each_person_once(
    scheduled_show, audience, mailoutbox, monkeypatch
):
    monkeypatch.setattr(shows.tasks, "show_live_notify_task", TimerStub())  # we run it ourselves
    show_go_live(show=scheduled_show)
    assert mailoutbox == []
    sent = race([lambda: show_live_notify(show_id=scheduled_show.pk)] * 2)
    assert all(isinstance(n, int) for n in sent), sent
    assert sum(sent) == len(audience)
    assert _recipients(mailoutbox) == audience


def test_a_show_that_is_not_live_emails_nobody(scheduled_show, audience, mailoutbox):
    assert show_live_notify(show_id=scheduled_show.pk) == 0
    assert mailoutbox == []


# --- The seller's summary ------------------------------------------------------------------------


def _buy_and_pay(show, user, variant):
    show_buy_now(show=show, user=user, variant_id=variant.pk)
    return checkout_complete(
        user=user,
        cart=cart_get_or_create(user=user),
        checkout_key=uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number=GOOD_CARD,
    )


async def test_the_summary_after_the_show_ends_counts_peak_viewers_chat_orders_units_and_sales(
    scheduled_show, merchant, shopper, other_shopper, variant
):
    show = await sync_to_async(show_go_live)(show=scheduled_show)
    sockets = [(await join(show))[0] for _ in range(3)]
    try:
        await next_of(sockets[0], "viewers")  # wait for the hub's once-a-second count (and peak)
        for _ in range(20):
            if await sync_to_async(presence.peak_read)(show.pk) == 3:
                break
            await asyncio.sleep(0.1)
    finally:
        for socket in sockets:
            await socket.disconnect()

    def sell_and_end():
        chat_post(show=show, user=shopper, text="love it")
        chat_post(show=show, user=other_shopper, text="me too")
        chat_post(show=show, user=shopper, text="bought!")
        _buy_and_pay(show, shopper, variant)
        _buy_and_pay(show, other_shopper, variant)
        show_end(show=show, user=merchant)  # the summary task runs after commit (eager here)
        return ShowSummary.objects.get(show=show)

    try:
        summary = await sync_to_async(sell_and_end)()
        again = await sync_to_async(show_summary_compute)(show_id=show.pk)
        peak_on_show = await sync_to_async(lambda: Show.objects.get(pk=show.pk).peak_viewers)()
    finally:
        await sync_to_async(connections.close_all)()
    numbers = (
        summary.peak_viewers,
        summary.chat_messages,
        summary.orders,
        summary.units_sold,
        summary.sales_total,
        summary.currency,
    )
    assert numbers == (3, 3, 2, 2, Decimal("63.00"), "USD")
    assert (again.peak_viewers, again.orders, again.sales_total) == (3, 2, Decimal("63.00"))
    assert peak_on_show == 3


# --- Stream callbacks ----------------------------------------------------------------------------


def test_on_publish_with_the_stream_key_takes_the_show_live_and_publish_done_ends_it(client, scheduled_show):
    response = client.post("/streams/on_publish", {"name": scheduled_show.stream_key})
    assert response.status_code == 200
    assert response.json() == {"show": scheduled_show.pk, "status": "live"}
    assert Show.objects.get(pk=scheduled_show.pk).status == Show.Status.LIVE

    done = client.post("/streams/on_publish_done", {"name": scheduled_show.stream_key})
    assert done.status_code == 200 and done.json()["status"] == "ended"
    assert Show.objects.get(pk=scheduled_show.pk).status == Show.Status.ENDED


@pytest.mark.parametrize("path", ["/streams/on_publish", "/streams/on_publish_done"])
@pytest.mark.parametrize("key", ["wrong-key", "", "x" * 200])
def test_a_wrong_stream_key_gets_403_and_changes_nothing(client, scheduled_show, path, key):
    response = client.post(path, {"name": key})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    show = Show.objects.get(pk=scheduled_show.pk)
    assert (show.status, show.started_at, show.ended_at) == (Show.Status.SCHEDULED, None, None)


def test_json_callbacks_with_a_path_take_the_show_live_and_end_it(client, scheduled_show):
    body = json.dumps({"path": f"live/{scheduled_show.stream_key}"})
    response = client.post("/streams/on_publish", body, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "live"
    done = client.post("/streams/on_publish_done", body, content_type="application/json")
    assert done.status_code == 200 and done.json()["status"] == "ended"
    assert Show.objects.get(pk=scheduled_show.pk).status == Show.Status.ENDED


def test_stream_callbacks_accept_only_post(client, scheduled_show):
    assert client.get("/streams/on_publish", {"name": scheduled_show.stream_key}).status_code == 405
    assert Show.objects.get(pk=scheduled_show.pk).status == Show.Status.SCHEDULED


# --- Giveaways -----------------------------------------------------------------------------------


@pytest.fixture
def giveaway_timer(monkeypatch):
    stub = TimerStub()
    monkeypatch.setattr(shows.tasks, "giveaway_draw_task", stub)
    return stub


@pytest.fixture
def live_show(scheduled_show):
    return show_go_live(show=scheduled_show)


def _entrant():
    user = UserFactory()
    address_save(user=user, data=ADDRESS)
    return user


def _open_giveaway(show, merchant, variant, **kwargs):
    return giveaway_start(show=show, user=merchant, variant_id=variant.pk, duration_seconds=60, **kwargs)


def test_a_giveaway_stays_open_until_its_entry_window_closes(live_show, merchant, variant):
    """With the real timer task: eager Celery must not draw it at once (the embedded default runs eager)."""
    giveaway = _open_giveaway(live_show, merchant, variant)
    assert Giveaway.objects.get(pk=giveaway.pk).status == Giveaway.Status.OPEN


def test_the_draw_timer_is_scheduled_for_the_close_of_the_entry_window(
    live_show, merchant, variant, giveaway_timer
):
    giveaway = _open_giveaway(live_show, merchant, variant)
    assert giveaway_timer.calls == [((giveaway.pk,), giveaway.closes_at)]


def test_each_user_enters_a_giveaway_once(live_show, merchant, variant, giveaway_timer):
    giveaway = _open_giveaway(live_show, merchant, variant)
    entrant = _entrant()
    giveaway_enter(show=live_show, user=entrant, giveaway_id=giveaway.pk)
    with pytest.raises(GiveawayError, match="already"):
        giveaway_enter(show=live_show, user=entrant, giveaway_id=giveaway.pk)
    assert GiveawayEntry.objects.filter(giveaway=giveaway).count() == 1


def test_a_followers_only_giveaway_refuses_people_who_do_not_follow(
    live_show, shop, merchant, variant, giveaway_timer
):
    giveaway = _open_giveaway(live_show, merchant, variant, followers_only=True)
    stranger, follower = _entrant(), _entrant()
    shop_follow(user=follower, shop=shop)
    with pytest.raises(GiveawayError, match="follow"):
        giveaway_enter(show=live_show, user=stranger, giveaway_id=giveaway.pk)
    giveaway_enter(show=live_show, user=follower, giveaway_id=giveaway.pk)
    assert list(GiveawayEntry.objects.values_list("user_id", flat=True)) == [follower.pk]


def test_an_entrant_without_a_saved_address_is_refused(live_show, merchant, variant, giveaway_timer):
    giveaway = _open_giveaway(live_show, merchant, variant)
    with pytest.raises(GiveawayError, match="address"):
        giveaway_enter(show=live_show, user=UserFactory(), giveaway_id=giveaway.pk)
    assert not GiveawayEntry.objects.exists()


def test_the_draw_picks_an_entrant_and_gives_them_a_free_paid_order_once(
    live_show, merchant, variant, giveaway_timer
):
    giveaway = _open_giveaway(live_show, merchant, variant)
    entrants = [_entrant() for _ in range(4)]
    for user in entrants:
        giveaway_enter(show=live_show, user=user, giveaway_id=giveaway.pk)
    allocated_before = Stock.objects.get(variant=variant).allocated

    outcomes = race([lambda: giveaway_draw(giveaway_id=giveaway.pk, user=merchant)] * 2)
    assert all(isinstance(o, Giveaway) for o in outcomes), outcomes

    drawn = Giveaway.objects.get(pk=giveaway.pk)
    assert drawn.status == Giveaway.Status.DRAWN
    assert drawn.winner_id in {user.pk for user in entrants}
    [prize] = Order.objects.filter(show_id=live_show.pk)
    assert (prize.pk, prize.user_id, prize.total, prize.subtotal, prize.shipping_total) == (
        drawn.prize_order_id,
        drawn.winner_id,
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert prize.status not in (Order.Status.PENDING_PAYMENT, Order.Status.CANCELLED)
    assert prize.events.filter(message="Prize: nothing to pay").exists()
    line = OrderLine.objects.get(order=prize)
    assert (line.variant_id, line.quantity, line.unit_price) == (variant.pk, 1, Decimal("0.00"))
    assert Stock.objects.get(variant=variant).allocated == allocated_before + 1

    again = giveaway_draw(giveaway_id=giveaway.pk, user=merchant)  # a late timer, say
    assert (again.status, again.winner_id, again.prize_order_id) == (
        drawn.status,
        drawn.winner_id,
        drawn.prize_order_id,
    )
    assert Order.objects.filter(show_id=live_show.pk).count() == 1


def test_a_draw_with_no_entrants_cancels_the_giveaway_without_an_order(
    live_show, merchant, variant, giveaway_timer
):
    giveaway = _open_giveaway(live_show, merchant, variant)
    early = giveaway_draw(giveaway_id=giveaway.pk)  # a timer firing before the window closes
    assert early.status == Giveaway.Status.OPEN
    drawn = giveaway_draw(giveaway_id=giveaway.pk, user=merchant)  # the host draws now
    assert (drawn.status, drawn.winner_id) == (Giveaway.Status.CANCELLED, None)
    assert not Order.objects.filter(show_id=live_show.pk).exists()
