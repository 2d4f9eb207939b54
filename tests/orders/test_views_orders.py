"""The shopper's order pages: the list, the order with its timeline and tracking, and cancelling."""

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.models import Stock
from catalog.stock import stock_set_on_hand
from orders.models import Order, Refund
from orders.services import (
    cart_add,
    cart_get_or_create,
    order_cancel,
    order_refund,
    order_ship,
    waitlist_join,
)
from tests.catalog.factories import VariantFactory
from tests.orders.test_admin_orders import place_order
from tests.orders.test_reservations_waitlist import DECLINED_CARD
from tests.orders.test_services_checkout import GOOD_CARD
from tests.orders.test_views_shopper_journey import _checkout_form, _checkout_key


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _cancel_url(order) -> str:
    return reverse("order_cancel", kwargs={"number": order.number})


@pytest.mark.django_db
def test_order_list_shows_status_badges(client, shopper, variant):
    order = place_order(shopper, variant)
    client.force_login(shopper)
    html = client.get(reverse("order_list")).content.decode()
    assert order.number in html
    assert "badge-status-paid" in html


@pytest.mark.django_db
def test_order_page_shows_timeline_tracking_refunds_and_shipping(
    client, shopper, merchant, variant, django_capture_on_commit_callbacks
):
    order = place_order(shopper, variant, quantity=2, capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order=order, actor=merchant, carrier="DHL", tracking_number="JD0142")
        order_refund(order=order, actor=merchant, amount=Decimal("5.00"), reason="Scuffed sleeve")
    client.force_login(shopper)

    html = client.get(order.get_absolute_url()).content.decode()

    assert "badge-status-shipped" in html
    assert "DHL" in html and "JD0142" in html
    assert "Scuffed sleeve" in html and "5.00 USD" in html
    assert "Payment received" in html and "Being packed" in html and "Shipped" in html
    assert "Refund sent" in html
    assert "E-mail sent" not in html  # internal markers stay in the admin
    assert order.shipping_method_name in html
    assert "Cancel order" not in html


@pytest.mark.django_db
def test_order_page_escapes_what_the_merchant_typed(client, shopper, merchant, variant):
    order = place_order(shopper, variant)
    order_refund(order=order, actor=merchant, amount=Decimal("1.00"), reason="<script>x</script>")
    client.force_login(shopper)
    html = client.get(order.get_absolute_url()).content.decode()
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


@pytest.mark.django_db
def test_shopper_cancels_own_paid_order_and_gets_stock_back_and_a_refund(
    client, shopper, variant, mailoutbox, django_capture_on_commit_callbacks
):
    order = place_order(shopper, variant, quantity=2)  # paid, not packed yet
    client.force_login(shopper)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Cancel order" in page and _cancel_url(order) in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_cancel_url(order))

    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert ("success", "Your order was cancelled. 63.00 USD is on its way back to your card.") in _messages(
        response
    )
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.cancel_reason == "Cancelled by shopper"
    assert order.refunded_total == order.total
    assert Refund.objects.get(order=order).amount == Decimal("63.00")
    stock = Stock.objects.get(variant=variant)
    assert (stock.on_hand, stock.allocated) == (5, 0)
    assert [m.subject for m in mailoutbox] == [f"Your order {order.number} from Vinyl Vault was cancelled"]
    html = client.get(order.get_absolute_url()).content.decode()
    assert "badge-status-cancelled" in html and "Cancel order" not in html


@pytest.mark.django_db
def test_shopper_cannot_cancel_a_shipped_order(
    client, shopper, merchant, variant, django_capture_on_commit_callbacks
):
    order = place_order(shopper, variant, capture=django_capture_on_commit_callbacks)
    order_ship(order=order, actor=merchant, carrier="DHL", tracking_number="JD1")
    client.force_login(shopper)

    response = client.post(_cancel_url(order))

    assert response.status_code == 409
    html = response.content.decode()
    assert "already shipped" in html and order.number in html
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.refunded_total == 0


@pytest.mark.django_db
def test_cancelling_twice_says_it_is_already_cancelled(client, shopper, variant):
    order = place_order(shopper, variant)
    client.force_login(shopper)
    client.post(_cancel_url(order))
    response = client.post(_cancel_url(order))
    assert response.status_code == 409
    assert "This order is already cancelled." in response.content.decode()
    assert Refund.objects.filter(order=order).count() == 1


@pytest.mark.django_db
def test_another_shopper_gets_404_for_cancel(client, shopper, other_shopper, variant):
    order = place_order(shopper, variant)
    client.force_login(other_shopper)
    assert client.post(_cancel_url(order)).status_code == 404
    assert client.get(order.get_absolute_url()).status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


@pytest.mark.django_db
def test_cancel_is_post_only_and_needs_login(client, shopper, variant):
    order = place_order(shopper, variant)
    assert client.post(_cancel_url(order)).status_code == 302  # to the login page
    client.force_login(shopper)
    assert client.get(_cancel_url(order)).status_code == 405
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


@pytest.mark.django_db
def test_cancelled_unit_is_offered_to_the_waitlist_by_email(
    client, shopper, other_shopper, variant, mailoutbox, django_capture_on_commit_callbacks
):
    stock_set_on_hand(variant_id=variant.pk, on_hand=1)
    order = place_order(shopper, variant)
    waitlist_join(user=other_shopper, variant_id=variant.pk)
    client.force_login(shopper)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_cancel_url(order))

    (offer,) = [m for m in mailoutbox if m.to == [other_shopper.email]]
    assert offer.subject == "Your turn: Blue Train LP is held for you"
    assert "Blue Train LP (180g)" in offer.body and reverse("checkout") in offer.body
    assert "a few minutes" in offer.body
    assert f'href="{settings.LIVEMARKET_SITE_URL}{reverse("checkout")}"' in offer.alternatives[0][0]


@pytest.mark.django_db
def test_emails_escape_merchant_text_in_html_only(
    shopper, merchant, variant, mailoutbox, django_capture_on_commit_callbacks
):
    order = place_order(shopper, variant)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order=order, actor=merchant, reason="Sold <b>out</b> & sorry")
    (email,) = [m for m in mailoutbox if "cancelled" in m.subject]
    assert "Sold <b>out</b> & sorry" in email.body
    assert "Sold &lt;b&gt;out&lt;/b&gt; &amp; sorry" in email.alternatives[0][0]


@pytest.mark.django_db
def test_my_orders_hides_orders_the_shopper_never_placed_but_the_merchant_still_sees_them(
    client, shopper, merchant, variant
):
    """A declined checkout and a checkout replaced by a newer one leave cancelled orders behind; the
    shopper never placed those, so My orders leaves them out. A real cancellation stays listed."""
    client.force_login(shopper)
    client.post(reverse("cart_add"), {"variant_id": variant.pk, "quantity": 1})
    declined_page = client.post(
        "/checkout/", _checkout_form(_checkout_key(client.get("/checkout/").content.decode()), DECLINED_CARD)
    )
    assert declined_page.status_code == 402
    declined = Order.objects.get(status=Order.Status.CANCELLED, cancel_reason="Payment declined")
    placed = client.post(
        "/checkout/", _checkout_form(_checkout_key(declined_page.content.decode()), GOOD_CARD)
    )
    assert placed.status_code == 302
    paid = Order.objects.get(status=Order.Status.PAID)
    replaced = order_cancel(
        order=place_order(shopper, variant), actor=shopper, reason="Replaced by a newer checkout"
    )
    cancelled = order_cancel(
        order=place_order(shopper, variant), actor=shopper, reason="Cancelled by shopper"
    )

    html = client.get(reverse("order_list")).content.decode()
    assert paid.number in html and cancelled.number in html
    assert declined.number not in html and replaced.number not in html

    client.force_login(merchant)
    admin_list = client.get(reverse("admin:orders_order_changelist")).content.decode()
    assert all(o.number in admin_list for o in (declined, paid, replaced, cancelled))


@pytest.mark.django_db
def test_my_orders_counts_items_in_units_not_lines(client, shopper, shop, variant):
    other = VariantFactory(product=variant.product, sku="BT-LP-2", name="Mono", price="20.00", on_hand=5)
    cart_add(cart=cart_get_or_create(user=shopper), variant_id=other.pk, quantity=2)
    order = place_order(shopper, variant, quantity=3)  # checks out the whole cart
    client.force_login(shopper)
    html = client.get(reverse("order_list")).content.decode()
    assert order.lines.count() == 2
    assert re.findall(r'data-label="Items" class="num">\s*(\d+)\s*<', html) == ["5"]


def test_my_orders_hides_exactly_the_reasons_checkout_cancels_with():
    """The list's filter and the checkout's cancel reasons are the same strings (orders/checkout.py)."""
    from orders import checkout
    from orders.selectors import NOT_PLACED_REASONS

    assert set(NOT_PLACED_REASONS) == {checkout.DECLINED_REASON, checkout.REPLACED_REASON}
