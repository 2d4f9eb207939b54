"""Live auctions on PostgreSQL: concurrent bidders in real threads, proxy bids, anti-sniping, racing
closers, settling a failed payment. No mocks: the real services, stock rows and test gateway."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.exceptions import InsufficientStock
from catalog.models import Stock
from orders.models import Order, Payment
from orders.services import address_save, payment_method_save
from shows.auctions import (
    bid_place,
    lot_charge,
    lot_close,
    lot_offer_runner_up,
    lot_release,
    lot_relist,
    lot_start,
    lots_close_due,
)
from shows.exceptions import BidNotAllowed, BidTooLow, InvalidMessage, LotClosed, LotError, NotAllowed
from shows.models import Bid, Lot, ShowMute, ShowRole
from shows.services import show_buy_now, show_end
from tests.concurrency import race
from tests.shops.factories import UserFactory
from tests.shows.roomkit import ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CARD = "4242 4242 4242 4242"
SAVES_THEN_DECLINES = "4000 0000 0000 0341"


def make_bidder(name: str, *, card: str = GOOD_CARD):
    user = UserFactory(username=name, email=f"{name}@example.test", display_name=name.title())
    address_save(user=user, data=ADDRESS)
    payment_method_save(user=user, card_number=card)
    return user


def start(show, merchant, item, **terms) -> Lot:
    defaults = {"starting_price": "10.00", "increment": "1.00", "duration_seconds": 30, "mode": "extend"}
    return lot_start(show=show, user=merchant, variant_id=item.pk, **{**defaults, **terms})


def stock_of(variant) -> Stock:
    return Stock.objects.get(variant=variant)


def expire(lot: Lot) -> None:
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - timedelta(seconds=1))


def test_thirty_concurrent_bidders_highest_valid_bid_wins_and_gets_the_order(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    bidders = [make_bidder(f"bidder{n:02d}") for n in range(30)]
    amounts = {b.pk: Decimal(10 + n) for n, b in enumerate(bidders)}  # 10.00 .. 39.00, increment 1
    outcomes = race(
        [
            (lambda b=b: bid_place(show=live_show, user=b, lot_id=lot.pk, amount=str(amounts[b.pk])))
            for b in bidders
        ]
    )
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, BidTooLow)]
    assert unexpected == []
    lot.refresh_from_db()
    top = max(bidders, key=lambda b: amounts[b.pk])
    assert lot.current_price == Decimal("39.00")
    assert lot.leader_id == top.pk
    accepted = list(Bid.objects.filter(lot=lot).order_by("id"))
    assert len(accepted) == sum(1 for o in outcomes if not isinstance(o, Exception)) == lot.bid_count
    for previous, bid in zip(accepted, accepted[1:], strict=False):
        assert bid.amount >= previous.amount + Decimal("1.00"), "a bid below the increment was accepted"
    assert accepted[0].amount >= Decimal("10.00")

    expire(lot)
    lot = lot_close(lot_id=lot.pk)
    order = Order.objects.get(pk=lot.order_id)
    assert (order.user_id, order.subtotal, lot.winner_id) == (top.pk, Decimal("39.00"), top.pk)
    assert order.status in (Order.Status.PAID, Order.Status.FULFILLING)  # charged (eager tasks)
    assert order.payments.get().status == Payment.Status.CAPTURED
    assert order.lines.get().unit_price == Decimal("39.00")
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PAID
    stock = stock_of(item)
    assert (stock.on_hand, stock.allocated) == (3, 1)  # the order holds the unit until it ships


def test_bid_below_the_increment_is_refused_with_the_next_minimum(live_show, merchant, item):
    lot = start(live_show, merchant, item, increment="2.50")
    ada, bob = make_bidder("ada"), make_bidder("bob")
    with pytest.raises(BidTooLow, match="at least 10.00"):
        bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="9.99")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00")
    with pytest.raises(BidTooLow, match="at least 12.50"):
        bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="12.49")
    assert bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="12.50").leading


def test_increment_table_steps_up_with_the_price(live_show, merchant, item):
    lot = start(live_show, merchant, item, increment_table=[["0", "1"], ["20", "5"]])
    ada, bob = make_bidder("ada"), make_bidder("bob")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="20.00")
    with pytest.raises(BidTooLow, match="at least 25.00"):
        bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="21.00")


def test_late_bid_extends_the_clock_in_extension_mode(live_show, merchant, item):
    lot = start(live_show, merchant, item, extend_seconds=10)
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() + timedelta(seconds=1))  # T-1s
    bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount="10.00")
    lot.refresh_from_db()
    left = (lot.ends_at - timezone.now()).total_seconds()
    assert 8.5 < left <= 10


def test_late_bid_does_not_extend_a_sudden_death_lot(live_show, merchant, item):
    lot = start(live_show, merchant, item, mode="sudden", extend_seconds=10)
    ends = timezone.now() + timedelta(seconds=1)
    Lot.objects.filter(pk=lot.pk).update(ends_at=ends)
    bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount="10.00")
    lot.refresh_from_db()
    assert lot.ends_at == ends


def test_early_bid_does_not_extend(live_show, merchant, item):
    lot = start(live_show, merchant, item, extend_seconds=10)
    ends = lot.ends_at
    bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount="10.00")
    lot.refresh_from_db()
    assert lot.ends_at == ends


def test_two_racing_closers_close_exactly_once(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    winner = make_bidder("ada")
    bid_place(show=live_show, user=winner, lot_id=lot.pk, amount="15.00")
    expire(lot)
    results = race(
        [lambda: lot_close(lot_id=lot.pk), lambda: lots_close_due(), lambda: lot_close(lot_id=lot.pk)]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    assert Order.objects.filter(user=winner).count() == 1
    assert Payment.objects.filter(order__user=winner, status=Payment.Status.CAPTURED).count() == 1
    assert stock_of(item).allocated == 1
    assert lots_close_due() == 0  # nothing left to close


def test_a_timer_that_fires_before_the_end_closes_nothing(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    assert lot_close(lot_id=lot.pk).status == Lot.Status.OPEN


def test_shop_staff_and_the_show_team_cannot_bid(live_show, merchant, item, shop):
    lot = start(live_show, merchant, item)
    with pytest.raises(BidNotAllowed, match="staff"):
        bid_place(show=live_show, user=merchant, lot_id=lot.pk, amount="10.00")
    cohost = make_bidder("cohost")
    ShowRole.objects.create(show=live_show, user=cohost, role=ShowRole.Role.COHOST)
    with pytest.raises(BidNotAllowed, match="staff"):
        bid_place(show=live_show, user=cohost, lot_id=lot.pk, amount="10.00")
    assert not Bid.objects.exists()


def test_bidders_need_a_saved_card_and_address_and_must_not_be_muted(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    plain = UserFactory(username="plain")
    with pytest.raises(BidNotAllowed, match="Save a card"):
        bid_place(show=live_show, user=plain, lot_id=lot.pk, amount="10.00")
    muted = make_bidder("muted")
    ShowMute.objects.create(show=live_show, user=muted, muted_by=merchant)
    with pytest.raises(BidNotAllowed, match="muted"):
        bid_place(show=live_show, user=muted, lot_id=lot.pk, amount="10.00")


def test_bid_on_a_closed_lot_is_refused(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    expire(lot)
    with pytest.raises(LotClosed):
        bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount="50.00")


@pytest.mark.parametrize("amount", ["-1", "0", "abc", "1e12", "10.001", None, True])
def test_malformed_amounts_are_refused(live_show, merchant, item, amount):
    lot = start(live_show, merchant, item)
    with pytest.raises(InvalidMessage):
        bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount=amount)


# --- Proxy (maximum) bids ------------------------------------------------------------------------


def test_two_maxima_the_higher_wins_one_increment_above_the_other(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada, bob = make_bidder("ada"), make_bidder("bob")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00", max_amount="50.00")
    outcome = bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="11.00", max_amount="40.00")
    assert not outcome.leading
    lot.refresh_from_db()
    assert (lot.leader_id, lot.current_price) == (ada.pk, Decimal("41.00"))
    outcome = bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="42.00", max_amount="60.00")
    assert outcome.leading
    lot.refresh_from_db()
    assert (lot.leader_id, lot.current_price) == (bob.pk, Decimal("51.00"))
    auto = Bid.objects.filter(lot=lot, user=ada, is_auto=True).order_by("id")
    assert [b.amount for b in auto] == [Decimal("41.00"), Decimal("50.00")]


def test_equal_maxima_the_earlier_one_leads_at_that_amount(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada, bob = make_bidder("ada"), make_bidder("bob")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00", max_amount="30.00")
    bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="11.00", max_amount="30.00")
    lot.refresh_from_db()
    assert (lot.leader_id, lot.current_price) == (ada.pk, Decimal("30.00"))


def test_a_maximum_below_the_next_increment_is_refused(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada, bob = make_bidder("ada"), make_bidder("bob")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="20.00")
    with pytest.raises(BidTooLow):
        bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="20.50", max_amount="20.50")
    with pytest.raises(InvalidMessage, match="at least your bid"):
        bid_place(show=live_show, user=bob, lot_id=lot.pk, amount="25.00", max_amount="21.00")
    lot.refresh_from_db()
    assert (lot.leader_id, lot.current_price, lot.bid_count) == (ada.pk, Decimal("20.00"), 1)


def test_leader_may_raise_their_maximum_without_raising_the_price(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada = make_bidder("ada")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="10.00")
    with pytest.raises(LotError, match="already the highest"):
        bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="11.00")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="11.00", max_amount="90.00")
    lot.refresh_from_db()
    assert (lot.current_price, lot.leader_max) == (Decimal("10.00"), Decimal("90.00"))


# --- Lots and stock ----------------------------------------------------------------------------


def test_starting_a_lot_pins_its_product_and_holds_its_units(live_show, merchant, item):
    start(live_show, merchant, item, quantity=2)
    live_show.refresh_from_db()
    assert live_show.pinned_product_id == item.product_id
    assert stock_of(item).allocated == 2


def test_one_lot_at_a_time_and_a_held_unit_cannot_be_auctioned_or_bought(live_show, merchant, item):
    lot = start(live_show, merchant, item, quantity=3)  # every unit
    with pytest.raises(LotError, match="already open"):
        start(live_show, merchant, item)
    with pytest.raises(InsufficientStock):
        show_buy_now(show=live_show, user=make_bidder("ada"), variant_id=item.pk)
    expire(lot)
    lot_close(lot_id=lot.pk)  # no bids: the units go back
    show_buy_now(show=live_show, user=make_bidder("bob"), variant_id=item.pk)  # now one is held
    with pytest.raises(LotError, match="Not enough free units"):
        start(live_show, merchant, item, quantity=3)


def test_no_bids_returns_the_units_to_stock(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    expire(lot)
    assert lot_close(lot_id=lot.pk).status == Lot.Status.UNSOLD
    assert stock_of(item).allocated == 0
    assert not Order.objects.exists()


def test_only_the_shops_team_can_start_a_lot(live_show, item, other_merchant):
    with pytest.raises(NotAllowed):
        start(live_show, other_merchant, item)
    assert not Lot.objects.exists()


def test_ending_the_show_closes_the_open_lot_to_its_leader(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    ada = make_bidder("ada")
    bid_place(show=live_show, user=ada, lot_id=lot.pk, amount="12.00")
    show_end(show=live_show, user=merchant)
    lot.refresh_from_db()
    assert (lot.status, lot.winner_id) == (Lot.Status.PAID, ada.pk)


# --- When the winner's payment fails ------------------------------------------------------------


def _won_but_declined(live_show, merchant, item):
    lot = start(live_show, merchant, item)
    runner, winner = make_bidder("runner"), make_bidder("winner", card=SAVES_THEN_DECLINES)
    bid_place(show=live_show, user=runner, lot_id=lot.pk, amount="20.00")
    bid_place(show=live_show, user=winner, lot_id=lot.pk, amount="25.00")
    expire(lot)
    lot_close(lot_id=lot.pk)
    return Lot.objects.get(pk=lot.pk), runner, winner


def test_declined_winner_leaves_the_lot_holding_its_unit(live_show, merchant, item):
    lot, _runner, winner = _won_but_declined(live_show, merchant, item)
    assert lot.status == Lot.Status.PAYMENT_FAILED
    order = Order.objects.get(user=winner)
    assert (order.status, order.total >= Decimal("25.00")) == (Order.Status.CANCELLED, True)
    assert stock_of(item).allocated == 1


def test_seller_offers_the_lot_to_the_runner_up_at_their_bid(live_show, merchant, item):
    lot, runner, _winner = _won_but_declined(live_show, merchant, item)
    lot = lot_offer_runner_up(lot_id=lot.pk, user=merchant)
    lot = lot_charge(lot_id=lot.pk) or lot
    lot.refresh_from_db()
    order = Order.objects.get(user=runner)
    assert (lot.status, lot.winner_id, order.subtotal) == (Lot.Status.PAID, runner.pk, Decimal("20.00"))
    assert order.payments.get().status == Payment.Status.CAPTURED
    assert stock_of(item).allocated == 1


def test_seller_relists_or_releases_a_failed_lot(live_show, merchant, item, other_merchant):
    lot, _runner, _winner = _won_but_declined(live_show, merchant, item)
    with pytest.raises(NotAllowed):
        lot_release(lot_id=lot.pk, user=other_merchant)
    new_lot = lot_relist(lot_id=lot.pk, user=merchant)
    assert (new_lot.status, new_lot.bid_count, stock_of(item).allocated) == (Lot.Status.OPEN, 0, 1)
    expire(new_lot)
    lot_close(lot_id=new_lot.pk)
    assert stock_of(item).allocated == 0  # relisted lot got no bids: the unit is back


def test_release_returns_the_unit(live_show, merchant, item):
    lot, _runner, _winner = _won_but_declined(live_show, merchant, item)
    lot_release(lot_id=lot.pk, user=merchant)
    assert (Lot.objects.get(pk=lot.pk).status, stock_of(item).allocated) == (Lot.Status.RELEASED, 0)
    with pytest.raises(LotError):
        lot_release(lot_id=lot.pk, user=merchant)


# --- Ops and admin -------------------------------------------------------------------------------


def test_close_auctions_command_closes_due_lots_and_dry_run_changes_nothing(live_show, merchant, item):
    from io import StringIO

    from django.core.management import CommandError, call_command

    lot = start(live_show, merchant, item)
    bid_place(show=live_show, user=make_bidder("ada"), lot_id=lot.pk, amount="12.00")
    expire(lot)
    out = StringIO()
    call_command("close_auctions", "--dry-run", stdout=out)
    assert "1 lot(s) due" in out.getvalue()
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.OPEN
    call_command("close_auctions", stdout=out)
    assert "Closed 1 lot(s)" in out.getvalue()
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PAID
    call_command("close_auctions", stdout=out)  # again: nothing left
    assert "Closed 0 lot(s)" in out.getvalue()
    with pytest.raises(CommandError, match="No show with id"):
        call_command("close_auctions", "--show", "999999")


def test_seller_settles_a_failed_lot_from_the_admin_and_sees_the_bid_history(
    client, live_show, merchant, item
):
    lot, runner, _winner = _won_but_declined(live_show, merchant, item)
    client.force_login(merchant)
    change = client.get(f"/admin/shows/lot/{lot.pk}/change/")
    assert change.status_code == 200
    assert change.content.decode().count("25.00") >= 1 and "Runner" in change.content.decode()
    response = client.post(
        "/admin/shows/lot/", {"action": "offer_runner_up", "_selected_action": [lot.pk]}, follow=True
    )
    assert response.status_code == 200
    lot.refresh_from_db()
    assert (lot.winner_id, lot.status) == (runner.pk, Lot.Status.PAID)
