"""Checkout under real contention: threads on their own PostgreSQL connections, no mocks.

Every test here is `transaction=True`, so rows are committed and each thread sees the others' locks.
"""

import re
import uuid
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from catalog.models import Stock
from orders.exceptions import InsufficientStock
from orders.models import Order, OrderLine, Reservation
from orders.services import (
    cart_add,
    cart_get_or_create,
    checkout_complete,
    reservation_create,
    reservations_release_expired,
)
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.concurrency import race
from tests.shops.factories import ShopFactory, UserFactory

GOOD_CARD = "4242 4242 4242 4242"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}
LIVE = (Order.Status.PENDING_PAYMENT, Order.Status.PAID, Order.Status.FULFILLING)


def _checkout_key(html: str) -> str:
    return re.search(r'name="checkout_key" value="([0-9a-f-]{36})"', html).group(1)


def _checkout_form(key: str) -> dict:
    return {
        "checkout_key": key,
        "email": "racer@example.test",
        "full_name": "Race Runner",
        "line1": "5 Main Street",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "us",
        "card_number": GOOD_CARD,
        "save_address": "on",
    }


def _checkout(user, key=None):
    return checkout_complete(
        user=user,
        cart=cart_get_or_create(user=user),
        checkout_key=key or uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number=GOOD_CARD,
    )


def _buyer_with(*variant_ids: int):
    buyer = UserFactory()
    cart = cart_get_or_create(user=buyer)
    for variant_id in variant_ids:
        cart_add(cart=cart, variant_id=variant_id, quantity=1)
    return buyer


def _units_in_live_orders(variant_id: int) -> int:
    return (
        OrderLine.objects.filter(variant_id=variant_id, order__status__in=LIVE).aggregate(n=Sum("quantity"))[
            "n"
        ]
        or 0
    )


def _units_held(variant_id: int) -> int:
    return (
        Reservation.objects.filter(variant_id=variant_id, status=Reservation.Status.ACTIVE).aggregate(
            n=Sum("quantity")
        )["n"]
        or 0
    )


@pytest.mark.django_db(transaction=True)
def test_fifty_buyers_racing_for_ten_units_over_http_get_ten_orders_and_forty_sold_out_pages(mailoutbox):
    variant = VariantFactory(on_hand=10, price="12.00")
    clients, forms = [], []
    for _ in range(50):
        buyer = _buyer_with(variant.pk)
        client = Client()
        client.force_login(buyer)
        page = client.get("/checkout/")
        assert page.status_code == 200
        clients.append(client)
        forms.append(_checkout_form(_checkout_key(page.content.decode())))

    responses = race([lambda c=c, f=f: c.post("/checkout/", f) for c, f in zip(clients, forms, strict=True)])

    # Every thread finished (a hung thread leaves None), none raised (a 500 or a deadlock would).
    assert not [r for r in responses if r is None or isinstance(r, Exception)], responses
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302] * 10 + [409] * 40
    for response in responses:
        if response.status_code == 409:
            assert "Some items sold out while you were checking out" in response.content.decode()
            assert "sold out." in response.content.decode()
        else:
            assert response["Location"].startswith("/checkout/complete/")
    paid = Order.objects.filter(paid_at__isnull=False)
    assert paid.count() == 10
    assert paid.values("user").distinct().count() == 10
    assert Order.objects.count() == 10  # a sold-out buyer leaves no order behind
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.allocated, stock.available) == (10, 10, 0)
    assert len([m for m in mailoutbox if "Your Livemarket order" in m.subject]) == 10


@pytest.mark.django_db(transaction=True)
def test_buyers_of_two_items_in_opposite_cart_orders_never_deadlock_or_split_a_cart():
    a = VariantFactory(on_hand=15, product=ProductFactory(shop=ShopFactory()))
    b = VariantFactory(on_hand=15, product=ProductFactory(shop=ShopFactory(currency="EUR")))
    buyers = [_buyer_with(a.pk, b.pk) if i % 2 else _buyer_with(b.pk, a.pk) for i in range(30)]

    outcomes = race([lambda u=u: _checkout(u) for u in buyers])

    assert None not in outcomes  # every thread finished
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientStock)]
    assert not unexpected, unexpected  # psycopg's DeadlockDetected would land here
    placed = [o for o in outcomes if isinstance(o, list)]
    assert len(placed) == 15
    assert all(len(orders) == 2 for orders in placed)  # one order per shop, both or neither
    for variant in (a, b):
        stock = Stock.objects.get(variant=variant)
        assert (stock.on_hand, stock.allocated) == (15, 15)
        assert _units_in_live_orders(variant.pk) == 15
    assert Order.objects.count() == 30


@pytest.mark.django_db(transaction=True)
def test_holds_expiring_while_buyers_check_out_and_sweepers_run_lose_and_double_sell_no_unit(settings):
    variant = VariantFactory(on_hand=10)
    # Five shoppers hold a unit; three of those holds are already past their time.
    holders = [UserFactory() for _ in range(5)]
    holds = [reservation_create(user=u, variant_id=variant.pk) for u in holders]
    Reservation.objects.filter(pk__in=[h.pk for h in holds[:3]]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    fresh_holders = holders[3:]
    # Eight more shoppers with the item in their cart (five units are still for open sale).
    buyers = [_buyer_with(variant.pk) for _ in range(8)]
    # Four late shoppers put a hold on that expires at once, mid-race.
    settings.LIVEMARKET_RESERVATION_MINUTES = 0
    late = [UserFactory() for _ in range(4)]

    def sweep():
        return sum(reservations_release_expired() for _ in range(5))

    def hold(user):
        try:
            return reservation_create(user=user, variant_id=variant.pk)
        except InsufficientStock as exc:
            return exc

    calls = (
        [lambda u=u: _checkout(u) for u in holders + buyers]
        + [lambda u=u: hold(u) for u in late]
        + [sweep] * 3
    )
    outcomes = race(calls)

    assert None not in outcomes
    checkouts, sweeps = outcomes[: len(holders) + len(buyers)], outcomes[-3:]
    unexpected = [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientStock)]
    assert not unexpected, unexpected
    # A hold that had not expired is a promise: those holders always get their unit.
    for user, outcome in zip(holders + buyers, checkouts, strict=True):
        if user in fresh_holders:
            assert isinstance(outcome, list), outcome
    assert all(isinstance(n, int) for n in sweeps)

    stock = Stock.objects.get(variant=variant)
    assert stock.on_hand == 10
    assert stock.allocated == _units_held(variant.pk) + _units_in_live_orders(variant.pk)
    assert _units_in_live_orders(variant.pk) == sum(isinstance(o, list) for o in checkouts)
    # Every converted hold belongs to a live order; no hold is converted into two orders.
    converted = Reservation.objects.filter(status=Reservation.Status.CONVERTED)
    assert all(r.order_id is not None and r.order.status in LIVE for r in converted)
    assert converted.values("order").distinct().count() == converted.count()

    # Once the last expired hold is swept, only what was bought stays allocated.
    Reservation.objects.filter(status=Reservation.Status.ACTIVE).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    reservations_release_expired()
    stock.refresh_from_db()
    assert stock.allocated == _units_in_live_orders(variant.pk) <= 10
    assert not Reservation.objects.filter(status=Reservation.Status.ACTIVE).exists()


@pytest.mark.django_db(transaction=True)
def test_repeated_rounds_of_checkout_against_the_sweeper_keep_allocation_exact(settings):
    """The same race in several rounds, since one race can miss a narrow window."""
    settings.LIVEMARKET_RESERVATION_MINUTES = 0  # every hold expires as soon as it is made
    variant = VariantFactory(on_hand=6)
    for round_ in range(4):
        shoppers = []
        for i in range(6):
            user = UserFactory()
            try:
                if i % 2:
                    reservation_create(user=user, variant_id=variant.pk)
                else:
                    cart_add(cart=cart_get_or_create(user=user), variant_id=variant.pk, quantity=1)
            except InsufficientStock:
                continue
            shoppers.append(user)

        outcomes = race([lambda u=u: _checkout(u) for u in shoppers] + [reservations_release_expired] * 2)

        assert None not in outcomes, round_
        unexpected = [
            o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientStock)
        ]
        assert not unexpected, (round_, unexpected)
        stock = Stock.objects.get(variant=variant)
        assert stock.on_hand == 6
        assert stock.allocated == _units_held(variant.pk) + _units_in_live_orders(variant.pk), round_
