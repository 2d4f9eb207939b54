"""The order state machine, cancellation and refunds, unpaid-order expiry, and show bundling."""

import uuid
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from catalog.models import Stock
from orders.exceptions import IllegalTransition, RefundError
from orders.lifecycle import TRANSITIONS, actor_label_for, order_lock, order_transition
from orders.models import Order, OrderEvent, Payment, Refund, Shipment, ShippingMethod
from orders.services import (
    cart_add,
    cart_get_or_create,
    checkout_complete,
    order_cancel,
    order_fulfil,
    order_mark_delivered,
    order_refund,
    order_ship,
    orders_expire_unpaid,
)
from shops.models import Shop
from tests.catalog.factories import VariantFactory
from tests.concurrency import race
from tests.shops.factories import UserFactory

S = Order.Status
GOOD_CARD = "4242 4242 4242 4242"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "1 Analytical Way",
    "city": "London",
    "postal_code": "N1 1AA",
    "country": "GB",
}
ILLEGAL = [(f, t) for f in S for t in S if t not in TRANSITIONS[f]]
LEGAL = [(f, t) for f in S for t in sorted(TRANSITIONS[f])]


class _GatewayTimeout:
    """A provider that never answers: checkout stops after placing the order, before payment."""

    name = "test"

    def authorize(self, **kwargs):
        raise ConnectionError("gateway timed out")


def _checkout(user, *, variant_id: int, quantity: int = 1, show_id: int | None = None) -> Order:
    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, variant_id=variant_id, quantity=quantity, show_id=show_id)
    (order,) = checkout_complete(
        user=user,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number=GOOD_CARD,
    )
    return order


def _unpaid_order(user, *, variant_id: int, quantity: int = 1) -> Order:
    with (
        mock.patch("orders.checkout.get_gateway", return_value=_GatewayTimeout()),
        pytest.raises(ConnectionError),
    ):
        _checkout(user, variant_id=variant_id, quantity=quantity)
    order = Order.objects.get(user=user, status=S.PENDING_PAYMENT)
    # The attempt the time-out left open is past the in-flight window: recovery may settle it.
    Payment.objects.filter(order=order).update(created_at=timezone.now() - timedelta(minutes=5))
    return order


def _order_in(status: str, *, user, merchant, variant_id: int) -> Order:
    """An order brought to `status` through the real services."""
    if status == S.PENDING_PAYMENT:
        return _unpaid_order(user, variant_id=variant_id)
    order = _checkout(user, variant_id=variant_id)
    if status == S.FULFILLING:
        order_fulfil(order_id=order.pk)
    elif status in (S.SHIPPED, S.DELIVERED):
        order_ship(order=order, actor=merchant, carrier="DHL", tracking_number="TRACK1")
        if status == S.DELIVERED:
            order_mark_delivered(order=order, actor=merchant)
    elif status == S.CANCELLED:
        order_cancel(order=order, actor=user, reason="Changed my mind")
    elif status == S.REFUNDED:
        order_refund(order=order, actor=merchant)
    order.refresh_from_db()
    assert order.status == status
    return order


def _stock(variant):
    stock = Stock.objects.get(variant=variant)
    return stock.on_hand, stock.allocated


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL, ids=[f"{f}->{t}" for f, t in ILLEGAL])
def test_illegal_transition_raises_and_records_nothing(from_status, to_status, shopper, merchant, variant):
    order = _order_in(from_status, user=shopper, merchant=merchant, variant_id=variant.pk)
    events_before = list(order.events.values_list("pk", flat=True))

    with transaction.atomic():  # the block commits: anything written before the refusal would stay
        locked = order_lock(order_id=order.pk)
        with pytest.raises(IllegalTransition):
            order_transition(order=locked, to=to_status, actor=shopper)
        assert locked.status == from_status

    after = Order.objects.get(pk=order.pk)
    assert after.status == from_status
    assert (after.paid_at, after.shipped_at, after.delivered_at, after.cancelled_at) == (
        order.paid_at,
        order.shipped_at,
        order.delivered_at,
        order.cancelled_at,
    )
    assert list(after.events.values_list("pk", flat=True)) == events_before


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), LEGAL, ids=[f"{f}->{t}" for f, t in LEGAL])
def test_each_allowed_transition_writes_one_event_with_its_actor(
    from_status, to_status, shopper, merchant, variant
):
    order = _order_in(from_status, user=shopper, merchant=merchant, variant_id=variant.pk)
    merchant.refresh_from_db()
    before = order.events.count()

    with transaction.atomic():
        order_transition(order=order_lock(order_id=order.pk), to=to_status, actor=merchant, message="m")

    order.refresh_from_db()
    assert order.status == to_status
    assert order.events.count() == before + 1
    event = order.events.last()
    assert (
        event.kind,
        event.from_status,
        event.to_status,
        event.actor_id,
        event.actor_label,
        event.message,
    ) == (
        OrderEvent.Kind.STATUS,
        from_status,
        to_status,
        merchant.pk,
        "merchant",
        "m",
    )
    stamp = {
        S.PAID: "paid_at",
        S.SHIPPED: "shipped_at",
        S.DELIVERED: "delivered_at",
        S.CANCELLED: "cancelled_at",
    }
    if to_status in stamp:
        assert getattr(order, stamp[to_status]) is not None


@pytest.mark.django_db
def test_order_timeline_names_who_moved_it_at_every_step(shopper, merchant, variant):
    ops = UserFactory(is_superuser=True)
    order = _checkout(shopper, variant_id=variant.pk)
    order_fulfil(order_id=order.pk)
    order_ship(order=order, actor=merchant, carrier="DHL", tracking_number="T-1")
    order_mark_delivered(order=order, actor=merchant)
    order_refund(order=order, actor=ops, reason="Arrived broken")

    trail = [
        (e.from_status, e.to_status, e.actor_id, e.actor_label)
        for e in order.events.filter(kind=OrderEvent.Kind.STATUS)
    ]
    assert trail == [
        (S.PENDING_PAYMENT, S.PAID, shopper.pk, "shopper"),
        (S.PAID, S.FULFILLING, None, "system"),
        (S.FULFILLING, S.SHIPPED, merchant.pk, "merchant"),
        (S.SHIPPED, S.DELIVERED, merchant.pk, "merchant"),
        (S.DELIVERED, S.REFUNDED, ops.pk, "ops"),
    ]
    assert actor_label_for(ops) == "ops"
    assert order.events.filter(kind=OrderEvent.Kind.REFUND, actor=ops).count() == 1


@pytest.mark.django_db
def test_shopper_cancelling_a_paid_order_frees_its_stock_and_is_refunded_in_full(
    shopper, variant, django_capture_on_commit_callbacks, mailoutbox
):
    order = _checkout(shopper, variant_id=variant.pk, quantity=2)
    assert _stock(variant) == (5, 2)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, actor=shopper, reason="Ordered twice")

    order.refresh_from_db()
    assert (order.status, order.cancel_reason, order.refunded_total) == (
        S.CANCELLED,
        "Ordered twice",
        order.total,
    )
    assert _stock(variant) == (5, 0)
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.actor_id, refund.reference != "") == (Decimal("63.00"), shopper.pk, True)
    assert order.payments.get().refunded_amount == Decimal("63.00")
    assert order.events.filter(kind=OrderEvent.Kind.REFUND, actor=shopper).count() == 1
    assert any(order.number in m.subject and "cancelled" in m.subject for m in mailoutbox)


@pytest.mark.django_db
def test_shipped_order_cannot_be_cancelled(shopper, merchant, variant):
    order = _order_in(S.SHIPPED, user=shopper, merchant=merchant, variant_id=variant.pk)
    with pytest.raises(IllegalTransition):
        order_cancel(order=order, actor=shopper)
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (S.SHIPPED, Decimal("0.00"))


@pytest.mark.django_db
def test_full_refund_after_shipping_puts_the_units_back_on_hand(shopper, merchant, variant):
    order = _checkout(shopper, variant_id=variant.pk, quantity=2)
    order_ship(order=order, actor=merchant, carrier="DHL", tracking_number="T-2")
    assert _stock(variant) == (3, 0)  # two units left the building

    order = order_refund(order=order, actor=merchant, reason="Returned")

    assert (order.status, order.refunded_total) == (S.REFUNDED, order.total)
    assert _stock(variant) == (5, 0)
    assert order.payments.get().refunded_amount == order.total


@pytest.mark.django_db
def test_partial_refunds_add_up_to_the_total_and_never_beyond(shopper, merchant, variant):
    order = _checkout(shopper, variant_id=variant.pk, quantity=2)  # 63.00
    order_refund(order=order, actor=merchant, amount=Decimal("20.00"))

    with pytest.raises(RefundError):
        order_refund(order=order, actor=merchant, amount=Decimal("43.01"))
    for bad in (Decimal("0"), Decimal("-1.00")):
        with pytest.raises(RefundError):
            order_refund(order=order, actor=merchant, amount=bad)
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (S.PAID, Decimal("20.00"))
    assert _stock(variant) == (5, 2)  # a partial refund keeps the order going

    order = order_refund(order=order, actor=merchant, amount=Decimal("43.00"))

    assert (order.status, order.refunded_total) == (S.REFUNDED, Decimal("63.00"))
    assert sum(r.amount for r in order.refunds.all()) == Decimal("63.00")
    assert _stock(variant) == (5, 0)
    with pytest.raises(IllegalTransition):
        order_refund(order=order, actor=merchant, amount=Decimal("0.01"))


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_partial_refunds_cannot_refund_more_than_was_paid():
    variant = VariantFactory(on_hand=5, price="31.50")
    shopper, merchant = UserFactory(), UserFactory()
    order = _checkout(shopper, variant_id=variant.pk)

    outcomes = race([lambda: order_refund(order=order, actor=merchant, amount=Decimal("20.00"))] * 2)

    assert sum(isinstance(o, Order) for o in outcomes) == 1
    assert sum(isinstance(o, RefundError) for o in outcomes) == 1, outcomes
    order.refresh_from_db()
    # Packed after commit (eager fulfilment); a partial refund does not end the order.
    assert (order.status, order.refunded_total) == (S.FULFILLING, Decimal("20.00"))
    assert list(Refund.objects.values_list("amount", flat=True)) == [Decimal("20.00")]
    assert Payment.objects.get(order=order).refunded_amount == Decimal("20.00")


@pytest.mark.django_db(transaction=True)
def test_concurrent_full_refund_and_cancel_refund_once_and_return_the_stock_once():
    variant = VariantFactory(on_hand=5)
    shopper, merchant = UserFactory(), UserFactory()
    _checkout(UserFactory(), variant_id=variant.pk, quantity=2)  # another shopper's 2 units stay sold
    order = _checkout(shopper, variant_id=variant.pk, quantity=1)

    outcomes = race(
        [lambda: order_refund(order=order, actor=merchant)] * 3
        + [lambda: order_cancel(order=order, actor=shopper, reason="No longer needed")] * 2
    )

    winners = [o for o in outcomes if isinstance(o, Order)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, IllegalTransition) for o in outcomes if not isinstance(o, Order)), outcomes
    order.refresh_from_db()
    assert order.status in (S.REFUNDED, S.CANCELLED)
    assert order.refunded_total == order.total
    assert Refund.objects.filter(order=order).count() == 1
    assert _stock(variant) == (5, 2)  # one unit came back, the other order's two are untouched


@pytest.mark.django_db
def test_orders_left_unpaid_too_long_are_cancelled_and_free_their_stock(shopper, other_shopper, variant):
    stale = _unpaid_order(shopper, variant_id=variant.pk, quantity=2)
    recent = _unpaid_order(other_shopper, variant_id=variant.pk, quantity=1)
    assert _stock(variant) == (5, 3)
    Order.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=31))

    assert orders_expire_unpaid() == 1

    stale.refresh_from_db()
    recent.refresh_from_db()
    assert (stale.status, stale.cancel_reason) == (S.CANCELLED, "Not paid in time")
    assert stale.events.filter(
        from_status=S.PENDING_PAYMENT, to_status=S.CANCELLED, actor_label="system"
    ).exists()
    assert recent.status == S.PENDING_PAYMENT
    assert _stock(variant) == (5, 1)
    assert orders_expire_unpaid() == 0  # running again changes nothing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cap", "expected_shipping"),
    [(None, ["5.00", "0.00"]), (Decimal("7.00"), ["5.00", "2.00"])],
    ids=["no-cap-one-fee", "cap-7"],
)
def test_orders_from_one_shop_in_one_show_ship_together_and_pay_shipping_up_to_the_cap(
    cap, expected_shipping, shopper, merchant, shop, variant, django_capture_on_commit_callbacks
):
    Shop.objects.filter(pk=shop.pk).update(show_shipping_cap=cap)  # no service sets the cap yet
    ShippingMethod.objects.create(shop=shop, name="Tracked", price=Decimal("5.00"))

    with django_capture_on_commit_callbacks(execute=True):  # the fulfilment job packs each order
        first = _checkout(shopper, variant_id=variant.pk, show_id=41)
    with django_capture_on_commit_callbacks(execute=True):
        second = _checkout(shopper, variant_id=variant.pk, quantity=2, show_id=41)
    with django_capture_on_commit_callbacks(execute=True):
        other_show = _checkout(shopper, variant_id=variant.pk, show_id=42)

    for order in (first, second, other_show):
        order.refresh_from_db()
        assert order.status == S.FULFILLING
        assert order.total == order.subtotal + order.shipping_total
    assert [str(first.shipping_total), str(second.shipping_total)] == expected_shipping
    assert other_show.shipping_total == Decimal("5.00")  # a new show starts a new parcel
    assert first.shipment_id == second.shipment_id != other_show.shipment_id
    shipment = Shipment.objects.get(pk=first.shipment_id)
    slip = shipment.packing_slip
    assert first.number in slip and second.number in slip and other_show.number not in slip
    assert slip.count("LIVEMARKET PACKING SLIP") == 1

    order_ship(order=first, actor=merchant, carrier="DHL", tracking_number="BUNDLE-1")

    second.refresh_from_db()
    assert second.status == S.SHIPPED  # the bundled order ships with the same parcel
    shipment.refresh_from_db()
    assert (shipment.status, shipment.tracking_number) == (Shipment.Status.SHIPPED, "BUNDLE-1")
    assert _stock(variant) == (2, 1)  # 3 units shipped, the other show's 1 still allocated
