"""Bid bounds (issue 17, "absurd bids"): a bid or a maximum bid far above a lot's price, or above the
seller's ceiling, is refused by `bid_place` under the lot's lock, whichever edge it comes from (room
socket, HTTP POST), with `bid_too_high` and a message naming the allowed maximum; nothing is saved.
Hostile amounts get `invalid` (a 4xx), never a 500. The seller sets the ceiling from the host console
and the API when a lot starts, and changes an open lot's ceiling in the admin."""

from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from catalog.models import Stock
from shows.auctions import bid_place, lot_bid_bounds, lot_ceiling_set, lot_close, lot_relist
from shows.exceptions import BidTooHigh, InvalidMessage, LotClosed, NotAllowed, ShowError
from shows.models import Bid, Lot
from tests.api.conftest import key_client
from tests.concurrency import race
from tests.shows.bid_bounds import BID_BOUNDS_TRIED, BID_JUMP, MAX_BID_JUMP
from tests.shows.roomkit import clear_rate_limits, join, next_of
from tests.shows.test_auctions import SAVES_THEN_DECLINES, expire, make_bidder, start

pytestmark = pytest.mark.django_db


def opened_at_ten(show, merchant, item, **terms) -> Lot:
    """A lot at 10.00 (increment 1.00) whose first bid, by someone else, is in."""
    lot = start(show, merchant, item, **terms)
    bid_place(show=show, user=make_bidder("opener"), lot_id=lot.pk, amount="10.00")
    return Lot.objects.get(pk=lot.pk)


def state(lot: Lot) -> tuple:
    """Everything a refused bid must leave as it was."""
    fresh = Lot.objects.get(pk=lot.pk)
    bids = list(Bid.objects.filter(lot=lot).order_by("id").values_list("user_id", "amount", "max_amount"))
    return (fresh.current_price, fresh.leader_id, fresh.leader_max, fresh.bid_count, fresh.ends_at, bids)


def test_the_documented_rules_are_the_settings_defaults():
    assert (settings.LIVEMARKET_BID_JUMP, settings.LIVEMARKET_MAX_BID_JUMP) == (BID_JUMP, MAX_BID_JUMP)


# --- The catalogue (docs/reliability.md, "Bid bounds") -------------------------------------------


@pytest.mark.parametrize("case", BID_BOUNDS_TRIED, ids=[case.description for case in BID_BOUNDS_TRIED])
def test_every_catalogued_bid_gets_its_outcome(case, live_show, merchant, item):
    lot = start(
        live_show,
        merchant,
        item,
        starting_price=case.price,
        increment=case.increment,
        bid_ceiling=case.ceiling,
    )
    if case.opened:
        bid_place(show=live_show, user=make_bidder("opener"), lot_id=lot.pk, amount=case.price)
    before = state(lot)
    challenger = make_bidder("challenger")
    code, *named = case.outcome.split()
    place = lambda: bid_place(  # noqa: E731 - the same call both ways
        show=live_show, user=challenger, lot_id=lot.pk, amount=case.amount, max_amount=case.max_amount
    )
    if code == "accepted":
        outcome = place()
        lot.refresh_from_db()
        assert (outcome.leading, lot.leader_id, lot.current_price) == (
            True,
            challenger.pk,
            Decimal(case.amount),
        )
        assert lot.leader_max == Decimal(case.max_amount or case.amount)
        return
    with pytest.raises(ShowError) as refused:
        place()
    assert refused.value.code == code
    for amount in named:
        assert amount in refused.value.message, refused.value.message
    assert state(lot) == before


# --- Maximum bids, the leader, the ceiling ---------------------------------------------------------


def test_the_leader_raises_their_maximum_only_within_the_max_bid_bound(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada = make_bidder("ada")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00")
    with pytest.raises(BidTooHigh, match="at most 260.00"):
        bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00", max_amount="260.01")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00", max_amount="260.00")
    lot.refresh_from_db()
    assert (lot.current_price, lot.leader_max) == (Decimal("10.00"), Decimal("260.00"))


def test_the_bounds_rise_with_the_price(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada, bob = make_bidder("ada"), make_bidder("bob")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="100.00")  # 10 x the 10.00 start
    bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="1000.00")  # 10 x 100.00
    lot.refresh_from_db()
    bounds = lot_bid_bounds(lot)
    assert (bounds.minimum, bounds.bid_limit, bounds.max_limit) == (
        Decimal("1001.00"),
        Decimal("10000.00"),
        Decimal("25000.00"),
    )


def test_maxima_meeting_at_the_ceiling_the_earlier_wins_and_the_lot_takes_no_more(live_show, merchant, item):
    lot = start(live_show, merchant, item, bid_ceiling="50.00")
    ada, bob, cy = make_bidder("ada"), make_bidder("bob"), make_bidder("cy")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00", max_amount="50.00")
    assert not bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="50.00").leading
    lot.refresh_from_db()
    assert (lot.leader_id, lot.current_price) == (ada.pk, Decimal("50.00"))
    with pytest.raises(BidTooHigh, match="ceiling of 50.00"):
        bid_place(show=live_show, user=cy, lot_id=lot.pk, amount="50.00")
    assert lot_close(lot_id=lot.pk, force=True).winning_price == Decimal("50.00")


def test_a_ceiling_below_the_starting_price_is_refused_and_no_lot_starts(live_show, merchant, item):
    with pytest.raises(InvalidMessage, match="below the starting price"):
        start(live_show, merchant, item, bid_ceiling="9.99")
    assert not Lot.objects.exists()
    assert Stock.objects.get(variant=item).allocated == 0


def test_the_seller_changes_an_open_lots_ceiling_but_never_below_what_was_accepted(
    live_show, merchant, item, other_merchant
):
    lot = opened_at_ten(live_show, merchant, item)
    ada = make_bidder("ada")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="11.00", max_amount="30.00")
    with pytest.raises(InvalidMessage, match=r"leader's maximum \(30.00\)"):
        lot_ceiling_set(lot_id=lot.pk, user=merchant, bid_ceiling="29.99")
    with pytest.raises(NotAllowed):
        lot_ceiling_set(lot_id=lot.pk, user=other_merchant, bid_ceiling="40.00")
    assert Lot.objects.get(pk=lot.pk).bid_ceiling is None
    lot_ceiling_set(lot_id=lot.pk, user=merchant, bid_ceiling="30.00")
    with pytest.raises(BidTooHigh, match="at most 30.00"):
        bid_place(show=live_show, user=make_bidder("bob"), lot_id=lot.pk, amount="30.01")
    lot_ceiling_set(lot_id=lot.pk, user=merchant, bid_ceiling=None)
    assert lot_bid_bounds(Lot.objects.get(pk=lot.pk)).bid_limit == Decimal("110.00")  # 10 x 11.00
    lot_close(lot_id=lot.pk, force=True)
    with pytest.raises(LotClosed):
        lot_ceiling_set(lot_id=lot.pk, user=merchant, bid_ceiling="40.00")


@pytest.mark.django_db(transaction=True)
def test_a_relisted_lot_keeps_its_ceiling(live_show, merchant, item):
    lot = start(live_show, merchant, item, bid_ceiling="40.00")
    bid_place(
        show=live_show, user=make_bidder("winner", card=SAVES_THEN_DECLINES), lot_id=lot.pk, amount="20.00"
    )
    expire(lot)
    lot_close(lot_id=lot.pk)  # the charge (eager, after commit) is declined
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PAYMENT_FAILED
    relisted = lot_relist(lot_id=lot.pk, user=merchant)
    assert (relisted.bid_ceiling, lot_bid_bounds(relisted).bid_limit) == (Decimal("40.00"), Decimal("40.00"))


@pytest.mark.django_db(transaction=True)
def test_a_bid_racing_a_lower_ceiling_never_ends_above_it(live_show, merchant, item):
    for round_ in range(4):
        lot = opened_at_ten(live_show, merchant, item) if round_ == 0 else start(live_show, merchant, item)
        bidder = make_bidder(f"racer{round_}")
        outcomes = race(
            [
                lambda lot=lot, bidder=bidder: bid_place(
                    show=live_show, user=bidder, lot_id=lot.pk, amount="40.00"
                ),
                lambda lot=lot: lot_ceiling_set(lot_id=lot.pk, user=merchant, bid_ceiling="20.00"),
            ]
        )
        lot.refresh_from_db()
        bid_won = not isinstance(outcomes[0], Exception)
        assert bid_won != (lot.bid_ceiling == Decimal("20.00")), outcomes  # exactly one of the two
        assert lot.bid_ceiling is None or lot.current_price is None or lot.current_price <= lot.bid_ceiling
        assert isinstance(outcomes[1] if bid_won else outcomes[0], InvalidMessage | BidTooHigh)
        lot_close(lot_id=lot.pk, force=True)


# --- Over HTTP --------------------------------------------------------------------------------------


def _bid_url(lot) -> str:
    return reverse("lot_bid", kwargs={"show_id": lot.show_id, "lot_id": lot.pk})


def test_an_absurd_bid_by_post_is_refused_naming_the_maximum(client, live_show, merchant, item):
    lot = opened_at_ten(live_show, merchant, item)
    before = state(lot)
    client.force_login(make_bidder("troll"))
    response = client.post(_bid_url(lot), {"amount": "999999999.99"}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (409, "bid_too_high")
    assert "at most 100.00" in response.json()["message"]
    response = client.post(_bid_url(lot), {"amount": "11.00", "max_amount": "999999999.99"})  # a form
    assert (response.status_code, response.json()["code"]) == (409, "bid_too_high")
    assert "at most 260.00" in response.json()["message"]
    assert state(lot) == before
    response = client.post(_bid_url(lot), {"amount": "100.00"}, content_type="application/json")
    assert (response.status_code, response.json()["lot"]["current_price"]) == (200, "100.00")


HOSTILE_BODIES = [
    '{"amount": NaN}',
    '{"amount": "NaN"}',
    '{"amount": Infinity}',
    '{"amount": 1e999}',
    '{"amount": -5}',
    '{"amount": "1e9"}',
    '{"amount": "1E+9"}',
    '{"amount": "' + "9" * 5000 + '"}',
    '{"amount": 1' + "0" * 5000 + "}",  # past Python's 4,300-digit integer limit
    '{"amount": {"value": 5}}',
    '{"amount": [20]}',
    '{"amount": "20", "max_amount": "NaN"}',
    '{"amount": "20", "max_amount": "1e9"}',
    '{"amount": "20", "max_amount": -1}',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_hostile_amounts_by_post_get_a_400_and_change_nothing(client, live_show, merchant, item, body):
    lot = opened_at_ten(live_show, merchant, item)
    before = state(lot)
    client.force_login(make_bidder("troll"))
    response = client.post(_bid_url(lot), body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid"), response.content[:300]
    assert state(lot) == before


@pytest.mark.parametrize("amount", ["1e9", "-1", "NaN", "9" * 200, "12,50"])
def test_hostile_amounts_in_a_form_post_get_a_400(client, live_show, merchant, item, amount):
    lot = opened_at_ten(live_show, merchant, item)
    before = state(lot)
    client.force_login(make_bidder("troll"))
    response = client.post(_bid_url(lot), {"amount": amount})
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert state(lot) == before


# --- Over the room socket ---------------------------------------------------------------------------


@pytest.fixture
async def _close_sync_thread_connection():
    yield
    from django.db import close_old_connections, connections

    await sync_to_async(connections.close_all)()
    close_old_connections()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_sync_thread_connection")
async def test_absurd_and_hostile_bids_over_the_socket_get_error_events_and_change_nothing(
    live_show, merchant, item
):
    lot = await sync_to_async(opened_at_ten)(live_show, merchant, item)
    troll = await sync_to_async(make_bidder)("troll")
    await sync_to_async(clear_rate_limits)()
    before = await sync_to_async(state)(lot)
    room, _ = await join(live_show, troll)
    try:
        await room.send_json_to({"action": "bid", "lot_id": lot.pk, "amount": "999999999.99"})
        refused = await next_of(room, "error")
        assert refused["code"] == "bid_too_high" and "at most 100.00" in refused["message"]
        await room.send_json_to({"action": "bid", "lot_id": lot.pk, "amount": "11", "max_amount": "5000"})
        refused = await next_of(room, "error")
        assert refused["code"] == "bid_too_high" and "at most 260.00" in refused["message"]
        for body in HOSTILE_BODIES:
            await room.send_to(text_data=body.replace("{", f'{{"action": "bid", "lot_id": {lot.pk}, ', 1))
            refused = await next_of(room, "error")
            assert refused["code"] == "invalid", (body[:40], refused)
        assert await sync_to_async(state)(lot) == before

        await room.send_json_to({"action": "bid", "lot_id": lot.pk, "amount": "100.00"})  # the limit
        placed = await next_of(room, "bid_placed")
        assert (placed["leading"], placed["price"]) == (True, "100.00")
    finally:
        await room.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_sync_thread_connection")
async def test_the_host_console_starts_a_lot_with_a_ceiling_the_room_sees(live_show, merchant, item):
    host, _ = await join(live_show, merchant)
    terms = {"action": "lot_start", "variant_id": item.pk, "starting_price": "10.00", "increment": "1.00"}
    try:
        await host.send_json_to({**terms, "bid_ceiling": "9.00"})
        assert (await next_of(host, "error"))["code"] == "invalid"
        await host.send_json_to({**terms, "bid_ceiling": "40.00"})
        started = (await next_of(host, "lot"))["lot"]
        assert (started["bid_ceiling"], started["bid_limit"], started["max_limit"]) == (
            "40.00",
            "40.00",
            "40.00",
        )
        assert started["confirm_above"] == "20.00"  # 2 x the 10.00 start = 10.00 + 10 increments
    finally:
        await host.disconnect()
    lot = await sync_to_async(Lot.objects.get)(pk=started["id"])
    assert lot.bid_ceiling == Decimal("40.00")


def test_the_host_console_offers_the_ceiling_field(client, live_show, merchant):
    client.force_login(merchant)
    page = client.get(reverse("host_console", args=[live_show.pk])).content.decode()
    assert 'name="bid_ceiling"' in page


# --- The API ---------------------------------------------------------------------------------------


def test_the_api_starts_a_lot_with_a_ceiling_and_refuses_a_bad_one(
    shop, merchant, other_shop, other_merchant, live_show, item
):
    api, other_api = key_client(shop, merchant), key_client(other_shop, other_merchant)
    url = f"/api/v1/merchant/shows/{live_show.pk}/lots/"
    body = {"variant": item.pk, "starting_price": "10.00", "bid_ceiling": "40.00"}
    assert other_api.post(url, body, format="json").status_code == 404  # another shop's show
    for bad in ("9.99", "abc", "-1", "1e12"):
        response = api.post(url, {**body, "bid_ceiling": bad}, format="json")
        assert (response.status_code, response.json()["code"]) == (400, "invalid"), (bad, response.content)
    assert not Lot.objects.exists()
    created = api.post(url, body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["bid_ceiling"], created.json()["bid_limit"]) == ("40.00", "40.00")
    assert Lot.objects.get().bid_ceiling == Decimal("40.00")
    listed = api.get(url).json()
    assert [(lot["id"], lot["bid_ceiling"]) for lot in listed] == [(created.json()["id"], "40.00")]


# --- The admin ---------------------------------------------------------------------------------------


def _admin_change(client, lot, **fields):
    """Post the lot's change form as the browser does: the fields plus the inline's management form."""
    url = reverse("admin:shows_lot_change", args=[lot.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = dict(fields)
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data |= {management.add_prefix(name): value for name, value in management.initial.items()}
    return client.post(url, data)


def test_the_seller_sets_an_open_lots_ceiling_in_the_admin(client, live_show, merchant, item):
    lot = opened_at_ten(live_show, merchant, item)
    client.force_login(merchant)
    response = _admin_change(client, lot, bid_ceiling="30.00")
    assert response.status_code == 302, response.content[:500]
    assert Lot.objects.get(pk=lot.pk).bid_ceiling == Decimal("30.00")
    assert LogEntry.objects.filter(object_id=str(lot.pk), user=merchant).exists()
    with pytest.raises(BidTooHigh, match="at most 30.00"):
        bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount="30.01")

    response = _admin_change(client, lot, bid_ceiling="9.00")  # below the 10.00 already bid
    assert response.status_code == 200
    assert "can&#x27;t be below" in response.content.decode()
    assert Lot.objects.get(pk=lot.pk).bid_ceiling == Decimal("30.00")

    assert _admin_change(client, lot, bid_ceiling="").status_code == 302  # cleared
    assert Lot.objects.get(pk=lot.pk).bid_ceiling is None


def test_a_closed_lots_ceiling_is_read_only_in_the_admin(client, live_show, merchant, item):
    lot = opened_at_ten(live_show, merchant, item, bid_ceiling="50.00")
    lot_close(lot_id=lot.pk, force=True)
    client.force_login(merchant)
    assert _admin_change(client, lot, bid_ceiling="20.00").status_code == 302
    assert Lot.objects.get(pk=lot.pk).bid_ceiling == Decimal("50.00")


def test_another_shops_lot_is_not_found_in_the_admin(
    client, live_show, merchant, item, other_shop, other_merchant
):
    lot = opened_at_ten(live_show, merchant, item)
    client.force_login(other_merchant)
    url = reverse("admin:shows_lot_change", args=[lot.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"bid_ceiling": "20.00"}).status_code == 404
    assert Lot.objects.get(pk=lot.pk).bid_ceiling is None
