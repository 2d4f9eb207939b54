"""Buy-now holds and the waitlist: who gets a freed unit, and when it goes back to open sale."""

import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

import orders.tasks
from catalog.exceptions import InsufficientStock
from catalog.models import Stock
from orders.exceptions import PaymentDeclined, ReservationError
from orders.models import CartLine, Order, Reservation, WaitlistEntry
from orders.services import (
    cart_add,
    cart_get_or_create,
    checkout_complete,
    reservation_create,
    reservations_release_expired,
    waitlist_join,
)
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.shops.factories import UserFactory

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}


def _checkout(user, card=GOOD_CARD):
    return checkout_complete(
        user=user,
        cart=cart_get_or_create(user=user),
        checkout_key=uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number=card,
    )


def _expire(*reservations):
    """Move holds past their end (the clock is not patched: only the rows change)."""
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def _stock(variant):
    stock = Stock.objects.get(variant=variant)
    return stock.on_hand, stock.allocated


def _cart_quantities(user):
    return dict(CartLine.objects.filter(cart__user=user).values_list("variant_id", "quantity"))


def _offer_for(user, variant):
    return WaitlistEntry.objects.get(user=user, variant=variant)


@pytest.mark.django_db
def test_buy_now_hold_allocates_stock_and_puts_the_units_in_the_cart(shopper, variant):
    hold = reservation_create(user=shopper, variant_id=variant.pk, quantity=2, show_id=7)

    assert (hold.status, hold.quantity, hold.from_waitlist) == (Reservation.Status.ACTIVE, 2, False)
    assert hold.expires_at > timezone.now()
    assert _stock(variant) == (5, 2)
    line = CartLine.objects.get(cart__user=shopper)
    assert (line.variant_id, line.quantity, line.show_id) == (variant.pk, 2, 7)


@pytest.mark.django_db
def test_asking_to_hold_again_returns_the_same_hold_without_allocating_more(shopper, variant):
    first = reservation_create(user=shopper, variant_id=variant.pk)
    again = reservation_create(user=shopper, variant_id=variant.pk)

    assert again.pk == first.pk
    assert Reservation.objects.filter(user=shopper).count() == 1
    assert _stock(variant) == (5, 1)
    assert _cart_quantities(shopper) == {variant.pk: 1}


@pytest.mark.django_db
def test_holder_of_the_last_units_asking_again_gets_the_hold_back_and_others_get_sold_out(
    shopper, other_shopper, variant
):
    first = reservation_create(user=shopper, variant_id=variant.pk, quantity=5)

    assert reservation_create(user=shopper, variant_id=variant.pk).pk == first.pk
    with pytest.raises(InsufficientStock):
        reservation_create(user=other_shopper, variant_id=variant.pk)
    assert _stock(variant) == (5, 5)
    assert not CartLine.objects.filter(cart__user=other_shopper).exists()


@pytest.mark.django_db
def test_hold_quantity_outside_one_to_five_is_refused(shopper, variant):
    for quantity in (0, 6):
        with pytest.raises(ReservationError):
            reservation_create(user=shopper, variant_id=variant.pk, quantity=quantity)
    assert _stock(variant) == (5, 0)


@pytest.mark.django_db
def test_expired_hold_returns_its_units_to_open_sale(shopper, variant):
    hold = reservation_create(user=shopper, variant_id=variant.pk, quantity=3)
    assert reservations_release_expired() == 0  # not yet due
    _expire(hold)

    assert reservations_release_expired() == 1

    hold.refresh_from_db()
    assert hold.status == Reservation.Status.EXPIRED
    assert _stock(variant) == (5, 0)
    assert reservations_release_expired() == 0  # nothing left to release


@pytest.mark.django_db
def test_freed_unit_goes_to_the_first_waiting_shopper_who_is_emailed_the_offer(
    shopper, other_shopper, django_capture_on_commit_callbacks, mailoutbox
):
    variant = VariantFactory(on_hand=1)
    hold = reservation_create(user=shopper, variant_id=variant.pk)
    first = waitlist_join(user=other_shopper, variant_id=variant.pk, show_id=9)
    second_shopper = UserFactory()
    waitlist_join(user=second_shopper, variant_id=variant.pk)
    _expire(hold)

    with django_capture_on_commit_callbacks(execute=True):
        assert reservations_release_expired() == 1

    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.OFFERED
    offer = first.reservation
    assert (offer.user_id, offer.from_waitlist, offer.status, offer.quantity) == (
        other_shopper.pk,
        True,
        Reservation.Status.ACTIVE,
        1,
    )
    assert _stock(variant) == (1, 1)  # the unit never went back to open sale
    assert _cart_quantities(other_shopper) == {variant.pk: 1}
    assert _offer_for(second_shopper, variant).status == WaitlistEntry.Status.WAITING
    assert [m.to for m in mailoutbox] == [[other_shopper.email]]
    assert variant.product.title in mailoutbox[0].subject


@pytest.mark.django_db
def test_lapsed_offer_passes_to_the_next_in_line_and_only_then_returns_to_open_sale(shopper):
    variant = VariantFactory(on_hand=1)
    reservation_create(user=shopper, variant_id=variant.pk)
    waiting = [UserFactory() for _ in range(2)]
    for user in waiting:
        waitlist_join(user=user, variant_id=variant.pk)

    _expire(*Reservation.objects.filter(status=Reservation.Status.ACTIVE))
    reservations_release_expired()
    assert _offer_for(waiting[0], variant).status == WaitlistEntry.Status.OFFERED

    _expire(*Reservation.objects.filter(status=Reservation.Status.ACTIVE))
    reservations_release_expired()
    assert _offer_for(waiting[0], variant).status == WaitlistEntry.Status.LAPSED
    assert _offer_for(waiting[1], variant).status == WaitlistEntry.Status.OFFERED
    assert _stock(variant) == (1, 1)

    _expire(*Reservation.objects.filter(status=Reservation.Status.ACTIVE))
    reservations_release_expired()
    assert _offer_for(waiting[1], variant).status == WaitlistEntry.Status.LAPSED
    assert _stock(variant) == (1, 0)  # nobody waits: back on open sale
    assert not Reservation.objects.filter(status=Reservation.Status.ACTIVE).exists()


@pytest.mark.django_db
def test_waitlist_is_refused_while_the_variant_is_in_stock(shopper, variant):
    with pytest.raises(ReservationError):
        waitlist_join(user=shopper, variant_id=variant.pk)


@pytest.mark.django_db
def test_checkout_converts_the_hold_without_allocating_twice(shopper, variant):
    hold = reservation_create(user=shopper, variant_id=variant.pk, quantity=2)
    cart_add(cart=cart_get_or_create(user=shopper), variant_id=variant.pk, quantity=1)
    assert _cart_quantities(shopper) == {variant.pk: 3}

    (order,) = _checkout(shopper)

    assert order.lines.get().quantity == 3
    assert _stock(variant) == (5, 3)  # 2 held + 1 more, not 2 + 3
    hold.refresh_from_db()
    assert (hold.status, hold.order_id) == (Reservation.Status.CONVERTED, order.pk)
    assert reservations_release_expired() == 0
    _expire(hold)
    assert reservations_release_expired() == 0  # a converted hold is never released
    assert _stock(variant) == (5, 3)


@pytest.mark.django_db
def test_declined_card_keeps_the_hold_for_another_try(shopper, variant):
    hold = reservation_create(user=shopper, variant_id=variant.pk, quantity=2)

    with pytest.raises(PaymentDeclined):
        _checkout(shopper, card=DECLINED_CARD)

    hold.refresh_from_db()
    assert (hold.status, hold.order_id) == (Reservation.Status.ACTIVE, None)
    assert _stock(variant) == (5, 2)  # still held, not released and not double-counted
    (order,) = _checkout(shopper)
    assert order.status == Order.Status.PAID
    assert _stock(variant) == (5, 2)


@pytest.mark.django_db
def test_buying_a_waitlist_offer_marks_the_entry_claimed_so_the_shopper_can_queue_again(
    shopper, other_shopper
):
    variant = VariantFactory(on_hand=1)
    hold = reservation_create(user=shopper, variant_id=variant.pk)
    entry = waitlist_join(user=other_shopper, variant_id=variant.pk)
    _expire(hold)
    reservations_release_expired()

    _checkout(other_shopper)

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.CLAIMED
    # Sold out again: the buyer may join the line for the next unit like anyone else.
    again = waitlist_join(user=other_shopper, variant_id=variant.pk)
    assert again.pk != entry.pk and again.status == WaitlistEntry.Status.WAITING


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_release_each_expired_hold_exactly_once(monkeypatch):
    emailed = []  # the offer e-mail task, recorded instead of run (its content is tested above)
    monkeypatch.setattr(
        orders.tasks, "waitlist_offer_email_task", SimpleNamespace(delay_on_commit=emailed.append)
    )
    variant = VariantFactory(on_hand=30)
    buyer = UserFactory()
    cart_add(cart=cart_get_or_create(user=buyer), variant_id=variant.pk, quantity=10)
    _checkout(buyer)  # 10 units sold: a double release would eat into them
    holders = [UserFactory() for _ in range(20)]
    holds = [reservation_create(user=u, variant_id=variant.pk) for u in holders]
    waiting = [UserFactory() for _ in range(5)]
    for user in waiting:
        waitlist_join(user=user, variant_id=variant.pk)
    _expire(*holds)

    released = race([reservations_release_expired, reservations_release_expired])

    assert all(isinstance(n, int) for n in released), released
    assert sum(released) == 20
    assert Reservation.objects.filter(pk__in=[h.pk for h in holds], status="expired").count() == 20
    offers = Reservation.objects.filter(from_waitlist=True, status=Reservation.Status.ACTIVE)
    assert sorted(offers.values_list("user_id", flat=True)) == sorted(u.pk for u in waiting)
    assert WaitlistEntry.objects.filter(status=WaitlistEntry.Status.OFFERED).count() == 5
    assert sorted(emailed) == sorted(WaitlistEntry.objects.values_list("pk", flat=True))  # once each
    assert _stock(variant) == (30, 10 + 5)  # sold units plus the five offers, nothing more, nothing less


@pytest.mark.django_db(transaction=True)
def test_double_clicked_buy_now_holds_one_unit_not_two():
    variant = VariantFactory(on_hand=5)
    shopper = UserFactory()

    outcomes = race([lambda: reservation_create(user=shopper, variant_id=variant.pk)] * 2)

    assert all(isinstance(o, Reservation) for o in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert Reservation.objects.filter(user=shopper, status=Reservation.Status.ACTIVE).count() == 1
    assert _stock(variant) == (5, 1)
