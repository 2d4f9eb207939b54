"""Flash deals under contention: real threads on their own PostgreSQL connections, no mocks."""

import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from catalog.models import Stock
from orders.models import OrderLine, Reservation
from orders.services import cart_get_or_create, checkout_complete, reservations_release_expired
from shows.exceptions import DealUnavailable
from shows.models import DealClaim, FlashDeal
from shows.services import deal_start, deals_close_due, show_buy_now, show_create, show_go_live
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.concurrency import race
from tests.shops.factories import UserFactory
from tests.shows.roomkit import ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CARD = "4242 4242 4242 4242"
DEAL_PRICE = Decimal("9.99")
LIST_PRICE = Decimal("31.50")


@pytest.fixture
def stocked(shop):
    product = ProductFactory(shop=shop, title="Kind of Blue LP")
    return VariantFactory(product=product, sku="KOB-LP", price=str(LIST_PRICE), on_hand=50)


@pytest.fixture
def live_show(shop, stocked):
    return show_go_live(
        show=show_create(shop=shop, title="Deals", scheduled_start=timezone.now(), products=[stocked.product])
    )


def _start_deal(show, merchant, variant, *, units=5, per_buyer_limit=2) -> FlashDeal:
    return deal_start(
        show=show,
        user=merchant,
        variant_id=variant.pk,
        price=str(DEAL_PRICE),
        units=units,
        per_buyer_limit=per_buyer_limit,
        duration_seconds=120,
    )


def _checkout(user):
    return checkout_complete(
        user=user,
        cart=cart_get_or_create(user=user),
        checkout_key=uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number=GOOD_CARD,
    )


def _held(variant) -> int:
    return (
        Reservation.objects.filter(variant=variant, status=Reservation.Status.ACTIVE).aggregate(
            n=Sum("quantity")
        )["n"]
        or 0
    )


def test_twenty_buyers_racing_three_times_each_never_get_more_than_the_deal_allows(
    live_show, merchant, stocked
):
    deal = _start_deal(live_show, merchant, stocked, units=5, per_buyer_limit=2)
    buyers = [UserFactory() for _ in range(20)]
    calls = [
        (lambda buyer=buyer: show_buy_now(show=live_show, user=buyer, variant_id=stocked.pk))
        for buyer in buyers
        for _ in range(3)
    ]
    outcomes = race(calls)

    won = [o for o in outcomes if isinstance(o, Reservation)]
    refused = [o for o in outcomes if not isinstance(o, Reservation)]
    assert all(isinstance(o, DealUnavailable) for o in refused), {type(o) for o in refused}
    assert len(won) == 5 and len(refused) == 55
    claims = DealClaim.objects.filter(deal=deal, reservation__status=Reservation.Status.ACTIVE)
    assert claims.aggregate(n=Sum("quantity"))["n"] == 5
    assert max(Counter(claims.values_list("user_id", flat=True)).values()) <= 2
    holds = Reservation.objects.filter(variant=stocked, status=Reservation.Status.ACTIVE)
    assert sorted(holds.values_list("pk", flat=True)) == sorted(
        claims.values_list("reservation_id", flat=True)
    )
    assert set(holds.values_list("unit_price", flat=True)) == {DEAL_PRICE}
    stock = Stock.objects.get(variant=stocked)
    assert stock.allocated == _held(stocked) == 5
    assert stock.on_hand == 50


def test_checking_out_a_deal_hold_charges_the_deal_price(live_show, merchant, shopper, stocked):
    _start_deal(live_show, merchant, stocked)
    show_buy_now(show=live_show, user=shopper, variant_id=stocked.pk)
    [order] = _checkout(shopper)
    line = OrderLine.objects.get(order=order)
    assert (line.unit_price, line.quantity, order.subtotal) == (DEAL_PRICE, 1, DEAL_PRICE)
    assert order.show_id == live_show.pk
    assert Reservation.objects.get(user=shopper).status == Reservation.Status.CONVERTED


def test_after_the_deal_is_closed_buy_now_charges_the_normal_price(live_show, merchant, shopper, stocked):
    deal = _start_deal(live_show, merchant, stocked)
    FlashDeal.objects.filter(pk=deal.pk).update(ends_at=timezone.now() - timedelta(seconds=1))  # time passes
    assert deals_close_due() == 1
    assert deals_close_due() == 0  # closed once
    assert FlashDeal.objects.get(pk=deal.pk).status == FlashDeal.Status.ENDED

    hold = show_buy_now(show=live_show, user=shopper, variant_id=stocked.pk)
    assert hold.unit_price is None
    assert not DealClaim.objects.exists()
    [order] = _checkout(shopper)
    assert OrderLine.objects.get(order=order).unit_price == LIST_PRICE


def test_buy_now_after_the_deal_time_is_up_but_before_the_sweeper_charges_the_normal_price(
    live_show, merchant, shopper, stocked
):
    """The deal timer may lag (a sweeper every 10 s; never, with eager Celery): buying must not stall."""
    deal = _start_deal(live_show, merchant, stocked)
    FlashDeal.objects.filter(pk=deal.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    hold = show_buy_now(show=live_show, user=shopper, variant_id=stocked.pk)
    assert hold.unit_price is None
    assert Stock.objects.get(variant=stocked).allocated == 1


def test_an_expired_deal_hold_frees_its_unit_for_another_buyer(live_show, merchant, shopper, stocked):
    deal = _start_deal(live_show, merchant, stocked, units=1, per_buyer_limit=1)
    late = UserFactory()
    first = show_buy_now(show=live_show, user=shopper, variant_id=stocked.pk)
    with pytest.raises(DealUnavailable):
        show_buy_now(show=live_show, user=late, variant_id=stocked.pk)

    Reservation.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reservations_release_expired() == 1
    assert Stock.objects.get(variant=stocked).allocated == 0

    second = show_buy_now(show=live_show, user=late, variant_id=stocked.pk)
    assert (second.user_id, second.unit_price) == (late.pk, DEAL_PRICE)
    assert DealClaim.objects.filter(deal=deal, reservation__status=Reservation.Status.ACTIVE).count() == 1
    assert Stock.objects.get(variant=stocked).allocated == 1
