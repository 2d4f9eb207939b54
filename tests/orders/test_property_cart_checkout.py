"""Property test: whatever shoppers and merchants do, no unit and no cent goes astray.

A Hypothesis state machine drives the real services (cart, holds, checkout with good and declined
cards, the sweeper, cancel, full and partial refunds, packing, shipping) over three variants in two
shops with little stock, and checks after every step that

* for each variant: the starting on_hand == available + units in live orders + units held + units
  shipped (and more precisely allocated == live + held, on_hand == start - shipped);
* for each order: line_total == unit_price * quantity, subtotal == sum of line totals,
  total == subtotal + shipping, 0 <= refunded == sum of refunds <= total;
* show bundling: a shopper never pays more than the shop's cap for shipping within one show.

Each example runs in its own savepoint that is rolled back, so examples never see each other's rows.
After-commit work (fulfilment job, e-mails) does not run inside it; the machine packs orders itself.
"""

import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from catalog.models import Stock
from orders.exceptions import (
    EmptyCart,
    IllegalTransition,
    InsufficientStock,
    PaymentDeclined,
    RefundError,
    ReservationError,
    VariantUnavailable,
)
from orders.models import CartLine, Order, OrderLine, Payment, Reservation, ShippingMethod
from orders.services import (
    cart_add,
    cart_get_or_create,
    cart_line_remove,
    cart_line_set_quantity,
    checkout_complete,
    order_cancel,
    order_fulfil,
    order_refund,
    order_ship,
    reservation_create,
    reservations_release_expired,
)
from shops.models import Shop
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.shops.factories import ShopFactory, UserFactory

S = Order.Status
LIVE = (S.PENDING_PAYMENT, S.PAID, S.FULFILLING)
SHIPPED = (S.SHIPPED, S.DELIVERED)
GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
ADDRESS = {
    "full_name": "Pat Tester",
    "line1": "2 Loop Road",
    "city": "Leeds",
    "postal_code": "LS1",
    "country": "GB",
}
SHIPPING_PRICE = Decimal("4.50")
SHOW_CAP = Decimal("6.00")
# Refusals a shopper or merchant can meet; anything else is a bug.
REFUSALS = (
    EmptyCart,
    IllegalTransition,
    InsufficientStock,
    PaymentDeclined,
    RefundError,
    ReservationError,
    VariantUnavailable,
)

index = st.integers(min_value=0, max_value=50)


class CartCheckoutMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        shop_a, shop_b = ShopFactory(), ShopFactory(currency="EUR")
        ShippingMethod.objects.create(shop=shop_a, name="Tracked", price=SHIPPING_PRICE)
        Shop.objects.filter(pk=shop_a.pk).update(show_shipping_cap=SHOW_CAP)
        self.variants = [
            VariantFactory(product=ProductFactory(shop=shop_a), on_hand=3, price=Decimal("9.99")),
            VariantFactory(product=ProductFactory(shop=shop_a), on_hand=2, price=Decimal("0.35")),
            VariantFactory(product=ProductFactory(shop=shop_b), on_hand=4, price=Decimal("120.00")),
        ]
        self.start_on_hand = {v.pk: Stock.objects.get(variant=v).on_hand for v in self.variants}
        self.users = [UserFactory(), UserFactory()]
        self.merchant = UserFactory()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers --------------------------------------------------------------------------------

    def _user(self, i):
        return self.users[i % len(self.users)]

    def _variant(self, i):
        return self.variants[i % len(self.variants)]

    def _line(self, user, i):
        lines = list(CartLine.objects.filter(cart__user=user).order_by("id"))
        return lines[i % len(lines)] if lines else None

    def _order(self, i):
        orders = list(Order.objects.filter(user__in=self.users).order_by("id"))
        return orders[i % len(orders)] if orders else None

    def _try(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except REFUSALS:
            return None

    # --- shoppers -------------------------------------------------------------------------------

    @rule(u=index, v=index, quantity=st.integers(1, 3), show_id=st.sampled_from([None, 5]))
    def add_to_cart(self, u, v, quantity, show_id):
        cart = cart_get_or_create(user=self._user(u))
        self._try(cart_add, cart=cart, variant_id=self._variant(v).pk, quantity=quantity, show_id=show_id)

    @rule(u=index, line=index, quantity=st.integers(0, 4))
    def change_quantity(self, u, line, quantity):
        user = self._user(u)
        found = self._line(user, line)
        if found is not None:
            cart = cart_get_or_create(user=user)
            self._try(cart_line_set_quantity, cart=cart, line_id=found.pk, quantity=quantity)

    @rule(u=index, line=index)
    def remove_line(self, u, line):
        user = self._user(u)
        found = self._line(user, line)
        if found is not None:
            cart_line_remove(cart=cart_get_or_create(user=user), line_id=found.pk)

    @rule(u=index, v=index, quantity=st.integers(1, 2))
    def buy_now_hold(self, u, v, quantity):
        self._try(reservation_create, user=self._user(u), variant_id=self._variant(v).pk, quantity=quantity)

    @rule()
    def holds_expire_and_sweeper_runs(self):
        Reservation.objects.filter(status=Reservation.Status.ACTIVE).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        reservations_release_expired()

    @rule(u=index, good_card=st.booleans())
    def checkout(self, u, good_card):
        user = self._user(u)
        self._try(
            checkout_complete,
            user=user,
            cart=cart_get_or_create(user=user),
            checkout_key=uuid.uuid4(),
            email=user.email,
            address=ADDRESS,
            card_number=GOOD_CARD if good_card else DECLINED_CARD,
        )

    @rule(u=index, v=index, show_id=st.sampled_from([None, 5]))
    def add_one_and_check_out(self, u, v, show_id):
        """The common path, as one step, so sequences reach packing, shipping and refunds."""
        self.add_to_cart(u, v, 1, show_id)
        self.checkout(u, good_card=True)

    @rule(o=index)
    def shopper_cancels(self, o):
        order = self._order(o)
        if order is not None:
            self._try(order_cancel, order=order, actor=order.user, reason="Changed my mind")

    # --- merchants and jobs ---------------------------------------------------------------------

    @rule(o=index, cents=st.one_of(st.none(), st.integers(1, 30000)))
    def merchant_refunds(self, o, cents):
        order = self._order(o)
        if order is not None:
            amount = None if cents is None else Decimal(cents) / 100
            self._try(order_refund, order=order, actor=self.merchant, amount=amount)

    @rule(o=index)
    def fulfilment_job_packs(self, o):
        order = self._order(o)
        if order is not None:
            order_fulfil(order_id=order.pk)

    @rule(o=index)
    def merchant_ships(self, o):
        order = self._order(o)
        if order is not None:
            self._try(order_ship, order=order, actor=self.merchant, carrier="DHL", tracking_number=f"T{o}")

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def every_unit_is_accounted_for(self):
        units = defaultdict(int)  # (variant id, "live" | "shipped") -> units
        for variant_id, status, quantity in OrderLine.objects.filter(variant__in=self.variants).values_list(
            "variant_id", "order__status", "quantity"
        ):
            units[variant_id, "live" if status in LIVE else "shipped" if status in SHIPPED else "gone"] += (
                quantity
            )
        held = defaultdict(int)
        for variant_id, quantity in Reservation.objects.filter(
            variant__in=self.variants, status=Reservation.Status.ACTIVE
        ).values_list("variant_id", "quantity"):
            held[variant_id] += quantity
        for stock in Stock.objects.filter(variant__in=self.variants):
            v = stock.variant_id
            live, shipped = units[v, "live"], units[v, "shipped"]
            assert self.start_on_hand[v] == stock.available + live + held[v] + shipped
            assert stock.allocated == live + held[v], (stock.allocated, live, held[v])
            assert stock.on_hand == self.start_on_hand[v] - shipped
            assert 0 <= stock.allocated <= stock.on_hand

    @invariant()
    def every_order_adds_up(self):
        orders = Order.objects.filter(user__in=self.users).prefetch_related("lines", "refunds", "payments")
        for order in orders:
            lines = list(order.lines.all())
            assert lines
            for line in lines:
                assert line.line_total == line.unit_price * line.quantity
            assert order.subtotal == sum(line.line_total for line in lines)
            assert order.total == order.subtotal + order.shipping_total
            assert Decimal("0") <= order.refunded_total <= order.total
            assert order.refunded_total == sum((r.amount for r in order.refunds.all()), Decimal("0"))
            captured = [p for p in order.payments.all() if p.status == Payment.Status.CAPTURED]
            assert sum((p.refunded_amount for p in captured), Decimal("0")) == order.refunded_total
            if order.status not in (S.PENDING_PAYMENT, S.CANCELLED) or order.refunded_total:
                assert sum((p.amount for p in captured), Decimal("0")) == order.total

    @invariant()
    def show_shipping_never_exceeds_the_cap(self):
        paid_in_show: dict[tuple, Decimal] = defaultdict(Decimal)
        for order in Order.objects.filter(user__in=self.users, show_id__isnull=False).exclude(
            status=S.CANCELLED
        ):
            paid_in_show[(order.user_id, order.shop_id, order.show_id)] += order.shipping_total
        assert all(total <= SHOW_CAP for total in paid_in_show.values()), paid_in_show


@pytest.mark.django_db
def test_any_sequence_of_cart_checkout_cancel_and_refund_keeps_stock_and_money_consistent():
    run_state_machine_as_test(
        CartCheckoutMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            database=None,  # no .hypothesis/ directory in the project
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
