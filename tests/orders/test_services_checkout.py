import uuid
from decimal import Decimal

import pytest

from catalog.models import Stock
from catalog.stock import stock_set_on_hand
from orders.exceptions import EmptyCart, InsufficientStock, PaymentDeclined
from orders.models import Address, CartLine, Order, Payment
from orders.services import cart_add, cart_get_or_create, cart_merge, checkout_complete
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


def _checkout(user, cart, key=None, card=GOOD_CARD):
    return checkout_complete(
        user=user,
        cart=cart,
        checkout_key=key or uuid.uuid4(),
        email=user.email,
        address=ADDRESS,
        card_number=card,
    )


@pytest.mark.django_db
def test_checkout_splits_cart_into_one_paid_order_per_shop(
    shopper, variant, other_variant, django_capture_on_commit_callbacks, mailoutbox
):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=2)
    cart_add(cart=cart, variant_id=other_variant.pk, quantity=1)

    with django_capture_on_commit_callbacks(execute=True):
        orders = _checkout(shopper, cart)

    assert [o.shop_id for o in orders] == sorted([variant.shop_id, other_variant.shop_id])
    by_shop = {o.shop_id: o for o in orders}
    vinyl = by_shop[variant.shop_id]
    assert vinyl.status == Order.Status.PAID
    assert (vinyl.currency, vinyl.subtotal, vinyl.total) == ("USD", Decimal("63.00"), Decimal("63.00"))
    assert by_shop[other_variant.shop_id].currency == "EUR"
    line = vinyl.lines.get()
    assert (line.product_title, line.sku, line.unit_price, line.quantity) == (
        "Blue Train LP",
        "BT-LP",
        Decimal("31.50"),
        2,
    )
    assert Stock.objects.get(variant=variant).available == 3
    assert Stock.objects.get(variant=other_variant).available == 2
    assert not CartLine.objects.filter(cart=cart).exists()
    assert Payment.objects.filter(order__in=orders, status=Payment.Status.CAPTURED).count() == 2
    assert Address.objects.filter(user=shopper, city="London").count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == [shopper.email, shopper.email]


@pytest.mark.django_db
def test_order_lines_keep_the_price_paid_when_the_price_changes_later(shopper, variant):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=1)
    (order,) = _checkout(shopper, cart)
    variant.price = Decimal("99.00")
    variant.save()
    assert order.lines.get().unit_price == Decimal("31.50")


@pytest.mark.django_db
def test_same_checkout_key_returns_the_first_orders_and_charges_once(shopper, variant):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=1)
    key = uuid.uuid4()
    first = _checkout(shopper, cart, key=key)
    again = _checkout(shopper, cart, key=key)
    assert [o.pk for o in again] == [o.pk for o in first]
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert Stock.objects.get(variant=variant).allocated == 1


@pytest.mark.django_db
def test_declined_card_releases_stock_and_keeps_the_cart(shopper, variant):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=2)
    with pytest.raises(PaymentDeclined, match="declined"):
        _checkout(shopper, cart, card=DECLINED_CARD)
    assert Stock.objects.get(variant=variant).allocated == 0
    assert CartLine.objects.get(cart=cart).quantity == 2
    order = Order.objects.get()
    assert (order.status, order.cancel_reason) == (Order.Status.CANCELLED, "Payment declined")
    assert order.payments.get().status == Payment.Status.DECLINED


@pytest.mark.django_db
def test_checkout_of_sold_out_line_places_nothing(shopper, variant):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=3)
    stock_set_on_hand(variant_id=variant.pk, on_hand=2)
    with pytest.raises(InsufficientStock):
        _checkout(shopper, cart)
    assert Order.objects.count() == 0
    assert Stock.objects.get(variant=variant).allocated == 0


@pytest.mark.django_db
def test_empty_cart_cannot_check_out(shopper):
    with pytest.raises(EmptyCart):
        _checkout(shopper, cart_get_or_create(user=shopper))


@pytest.mark.django_db
def test_cart_refuses_more_than_available(shopper, variant):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=4)
    with pytest.raises(InsufficientStock):
        cart_add(cart=cart, variant_id=variant.pk, quantity=2)
    assert CartLine.objects.get(cart=cart).quantity == 4


@pytest.mark.django_db
def test_anonymous_cart_merges_into_user_cart_on_login(shopper, variant, other_variant):
    token = uuid.uuid4()
    anonymous = cart_get_or_create(token=token)
    cart_add(cart=anonymous, variant_id=variant.pk, quantity=2)
    cart_add(cart=anonymous, variant_id=other_variant.pk, quantity=1)
    mine = cart_get_or_create(user=shopper)
    cart_add(cart=mine, variant_id=variant.pk, quantity=1)

    merged = cart_merge(user=shopper, token=token)

    quantities = dict(merged.lines.values_list("variant_id", "quantity"))
    assert quantities == {variant.pk: 3, other_variant.pk: 1}
    assert not CartLine.objects.filter(cart_id=anonymous.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_second_buyer_gets_sold_out_when_last_unit_taken():
    variant = VariantFactory(on_hand=1)
    buyers = [UserFactory() for _ in range(6)]
    carts = []
    for buyer in buyers:
        cart = cart_get_or_create(user=buyer)
        cart_add(cart=cart, variant_id=variant.pk, quantity=1)
        carts.append(cart)

    outcomes = race([lambda b=b, c=c: _checkout(b, c) for b, c in zip(buyers, carts, strict=True)])

    assert sum(isinstance(o, list) for o in outcomes) == 1
    assert sum(isinstance(o, InsufficientStock) for o in outcomes) == 5
    assert Order.objects.filter(paid_at__isnull=False).count() == 1
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.allocated) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_double_submit_with_one_key_places_one_order(shopper):
    variant = VariantFactory(on_hand=5)
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=1)
    key = uuid.uuid4()

    outcomes = race([lambda: tuple(o.pk for o in _checkout(shopper, cart, key=key))] * 4)

    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], tuple)
    assert Order.objects.count() == 1
    assert Stock.objects.get(variant=variant).allocated == 1
