"""1-tap buy in a live show: an order paid by the saved card and shipped to the saved address, with no
hold and no checkout; a double tap buys once, a decline frees the unit, and racing buyers never oversell."""

import uuid
from decimal import Decimal

import pytest

from catalog.exceptions import InsufficientStock
from catalog.models import Stock
from orders.exceptions import OneTapNotReady
from orders.models import CartLine, Order, Payment, Reservation
from shows.services import deal_start, show_buy_one_tap
from tests.concurrency import race
from tests.shows.test_auctions import SAVES_THEN_DECLINES, make_bidder


@pytest.fixture
def live_show(pinned_live_show):
    return pinned_live_show


def _tap(show, user, variant, key=None):
    return show_buy_one_tap(show=show, user=user, variant_id=variant.pk, checkout_key=key or uuid.uuid4())


@pytest.mark.django_db
def test_one_tap_places_a_paid_order_with_no_hold_and_no_cart(
    live_show, variant, django_capture_on_commit_callbacks
):
    buyer = make_bidder("tapper")
    with django_capture_on_commit_callbacks(execute=True):
        order = _tap(live_show, buyer, variant)
    assert order.status == Order.Status.PENDING_PAYMENT  # placed; the card is charged after commit
    order.refresh_from_db()
    assert order.paid_at is not None  # charged after commit, then packing starts (eager Celery in tests)
    line = order.lines.get()
    assert (line.variant_id, line.quantity, line.unit_price, line.product_title) == (
        variant.pk,
        1,
        Decimal("31.50"),
        "Blue Train LP",
    )
    assert order.total == order.subtotal + order.shipping_total and order.show_id == live_show.pk
    assert (order.city, order.email) == ("London", buyer.email)
    assert Payment.objects.get(order=order).status == Payment.Status.CAPTURED
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.allocated) == (5, 1)
    assert not Reservation.objects.filter(user=buyer).exists()
    assert not CartLine.objects.filter(cart__user=buyer).exists()


@pytest.mark.django_db
def test_a_double_tap_with_the_same_key_buys_once(live_show, variant):
    buyer = make_bidder("double")
    key = uuid.uuid4()
    first, second = _tap(live_show, buyer, variant, key), _tap(live_show, buyer, variant, key)
    assert first.pk == second.pk
    assert Order.objects.filter(user=buyer).count() == 1
    assert Stock.objects.get(variant=variant).allocated == 1


@pytest.mark.django_db
def test_a_declined_card_cancels_the_order_and_frees_the_unit(
    live_show, variant, django_capture_on_commit_callbacks
):
    buyer = make_bidder("declined", card=SAVES_THEN_DECLINES)
    with django_capture_on_commit_callbacks(execute=True):
        order = _tap(live_show, buyer, variant)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED and order.cancel_reason == "Payment declined"
    assert Payment.objects.get(order=order).status == Payment.Status.DECLINED
    assert Stock.objects.get(variant=variant).allocated == 0


@pytest.mark.django_db
def test_without_a_saved_card_nothing_is_bought(live_show, variant, shopper):
    with pytest.raises(OneTapNotReady):
        _tap(live_show, shopper, variant)
    assert not Order.objects.exists()
    assert Stock.objects.get(variant=variant).allocated == 0


@pytest.mark.django_db
def test_a_running_flash_deal_takes_the_hold_path_at_the_deal_price(live_show, variant, merchant):
    deal_start(
        show=live_show,
        user=merchant,
        variant_id=variant.pk,
        price="20.00",
        units=2,
        per_buyer_limit=1,
        duration_seconds=120,
    )
    buyer = make_bidder("dealer")
    hold = _tap(live_show, buyer, variant)
    assert isinstance(hold, Reservation) and hold.unit_price == Decimal("20.00")
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twelve_buyers_racing_for_five_units_get_exactly_five_orders(live_show, variant):
    buyers = [make_bidder(f"racer{n}") for n in range(12)]
    outcomes = race([lambda b=b: _tap(live_show, b, variant) for b in buyers])
    orders = [o for o in outcomes if isinstance(o, Order)]
    assert len(orders) == 5
    assert all(isinstance(o, InsufficientStock) for o in outcomes if not isinstance(o, Order))
    assert Order.objects.filter(paid_at__isnull=False).count() == 5
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.allocated) == (5, 5)


@pytest.mark.django_db
def test_the_show_page_offers_1_tap_only_to_a_ready_shopper_and_the_tap_lands_on_the_order(
    client, live_show, variant, shopper
):
    client.force_login(shopper)
    assert "1-tap" not in client.get(live_show.get_absolute_url()).content.decode()
    buyer = make_bidder("pager")
    client.force_login(buyer)
    page = client.get(live_show.get_absolute_url()).content.decode()
    assert "1-tap · •••• 4242" in page and 'data-one-tap-card="4242"' in page
    key = str(uuid.uuid4())
    data = {"variant_id": variant.pk, "one_tap": "1", "checkout_key": key}
    response = client.post(f"/shows/{live_show.pk}/buy/", data)
    order = Order.objects.get(user=buyer)
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert client.post(f"/shows/{live_show.pk}/buy/", data)["Location"] == order.get_absolute_url()
    assert Order.objects.filter(user=buyer).count() == 1


@pytest.mark.django_db
def test_a_tap_without_a_saved_card_gets_409_and_a_way_to_save_one(client, live_show, variant, shopper):
    client.force_login(shopper)
    response = client.post(f"/shows/{live_show.pk}/buy/", {"variant_id": variant.pk, "one_tap": "1"})
    assert response.status_code == 409
    assert "/account/bidding/" in response.content.decode()
    assert not Order.objects.exists()
