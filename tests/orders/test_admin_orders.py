"""The merchant's order desk: ship, deliver, refund and cancel through admin actions, which call the
services and turn their domain errors into messages."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from catalog.models import Stock
from orders.models import Order, Payment, Refund, Shipment, ShippingMethod
from orders.services import cart_add, cart_get_or_create, checkout_complete, order_cancel
from shows.services import show_create, show_go_live
from tests.orders.test_services_checkout import ADDRESS, GOOD_CARD
from tests.shops.factories import UserFactory

CHANGELIST = reverse("admin:orders_order_changelist")


def place_order(user, variant, *, quantity=1, show_id=None, capture=None) -> Order:
    """Check out one variant. With `capture`, the after-commit jobs run: the order is packed."""
    cart = cart_get_or_create(user=user)
    cart_add(cart=cart, variant_id=variant.pk, quantity=quantity, show_id=show_id)

    def checkout():
        return checkout_complete(
            user=user,
            cart=cart,
            checkout_key=uuid.uuid4(),
            email=user.email,
            address=ADDRESS,
            card_number=GOOD_CARD,
        )

    if capture is None:
        (order,) = checkout()
    else:
        with capture(execute=True):
            (order,) = checkout()
    order.refresh_from_db()
    return order


def _act(client, action, orders, **data):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [o.pk for o in orders], **data})


def _apply(client, action, orders, **data):
    return _act(client, action, orders, apply="1", **data)


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _stock(variant) -> tuple[int, int]:
    stock = Stock.objects.get(variant=variant)
    return stock.on_hand, stock.allocated


@pytest.fixture
def packed_order(shopper, variant, django_capture_on_commit_callbacks):
    order = place_order(shopper, variant, quantity=2, capture=django_capture_on_commit_callbacks)
    assert order.status == Order.Status.FULFILLING and order.shipment_id
    return order


@pytest.mark.django_db
def test_merchant_marks_an_order_shipped_with_tracking_and_the_shopper_gets_an_email(
    client, merchant, variant, packed_order, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(merchant)
    mailoutbox.clear()

    page = _act(client, "mark_shipped", [packed_order])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mark orders shipped" in html and packed_order.number in html
    assert 'name="tracking_number"' in html and 'name="apply"' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(client, "mark_shipped", [packed_order], carrier="DHL", tracking_number=" JD0142 ")

    assert response.status_code == 302
    assert ("success", f"1 order marked shipped: {packed_order.number}.") in _messages(response)
    packed_order.refresh_from_db()
    assert packed_order.status == Order.Status.SHIPPED and packed_order.shipped_at
    shipment = packed_order.shipment
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == ("shipped", "DHL", "JD0142")
    assert _stock(variant) == (3, 0)  # two units left the building
    (email,) = mailoutbox
    assert email.subject == f"Your order {packed_order.number} from Vinyl Vault is on its way"
    assert "DHL" in email.body and "JD0142" in email.body
    html_body = email.alternatives[0][0]
    assert "JD0142" in html_body and "Blue Train LP" in html_body


@pytest.mark.django_db
def test_shipping_needs_a_tracking_number(client, merchant, variant, packed_order):
    client.force_login(merchant)
    response = _apply(client, "mark_shipped", [packed_order], carrier="DHL", tracking_number="  ")
    assert response.status_code == 200  # the form again, with the error
    assert "errorlist" in response.content.decode()
    packed_order.refresh_from_db()
    assert packed_order.status == Order.Status.FULFILLING
    assert _stock(variant) == (5, 2)


@pytest.mark.django_db
def test_orders_bought_in_one_show_ship_together_in_one_parcel(
    client, merchant, shop, shopper, variant, django_capture_on_commit_callbacks
):
    show = show_go_live(show=show_create(shop=shop, title="Friday crate dig", scheduled_start=timezone.now()))
    first = place_order(shopper, variant, show_id=show.pk, capture=django_capture_on_commit_callbacks)
    second = place_order(shopper, variant, show_id=show.pk, capture=django_capture_on_commit_callbacks)
    assert first.shipment_id == second.shipment_id

    client.force_login(merchant)
    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(client, "mark_shipped", [first], carrier="UPS", tracking_number="1Z999")

    assert ("info", f"Shipped in the same parcel: {second.number}.") in _messages(response)
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.SHIPPED}
    assert Shipment.objects.get().tracking_number == "1Z999"
    assert _stock(variant) == (3, 0)


@pytest.mark.django_db
def test_selecting_every_order_of_a_parcel_ships_it_once_and_a_refused_order_changes_nothing(
    client, merchant, shop, shopper, other_shopper, variant, django_capture_on_commit_callbacks
):
    from django.contrib.admin.models import LogEntry

    show = show_go_live(show=show_create(shop=shop, title="Friday crate dig", scheduled_start=timezone.now()))
    first = place_order(shopper, variant, show_id=show.pk, capture=django_capture_on_commit_callbacks)
    second = place_order(shopper, variant, show_id=show.pk, capture=django_capture_on_commit_callbacks)
    cancelled = place_order(other_shopper, variant, capture=django_capture_on_commit_callbacks)
    order_cancel(order=cancelled, actor=merchant, reason="Asked to")
    client.force_login(merchant)

    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(
            client, "mark_shipped", [first, second, cancelled], carrier="UPS", tracking_number="1Z9"
        )

    assert _messages(response) == [
        ("error", f"Order {cancelled.number} is cancelled; it cannot be shipped."),
        ("success", f"1 order marked shipped: {first.number}."),  # the parcel went out once, with both
    ]
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "shipped", second.pk: "shipped", cancelled.pk: "cancelled"}
    assert Shipment.objects.get(orders=first).tracking_number == "1Z9"
    assert _stock(variant) == (3, 0)  # the two shipped units left; the cancelled one went back
    assert list(LogEntry.objects.values_list("object_id", "change_message")) == [
        (str(first.pk), "Shipped with UPS 1Z9")
    ]


@pytest.mark.django_db
def test_partial_then_full_refund_ends_the_order_and_returns_stock(
    client, merchant, variant, packed_order, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(merchant)
    mailoutbox.clear()
    page = _act(client, "refund", [packed_order])
    assert page.status_code == 200 and 'name="amount"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        partial = _apply(
            client, "refund", [packed_order], kind="partial", amount="10.00", reason="Scuffed sleeve"
        )
    assert partial.status_code == 302
    packed_order.refresh_from_db()
    assert (packed_order.status, packed_order.refunded_total) == (Order.Status.FULFILLING, Decimal("10.00"))
    assert _stock(variant) == (5, 2)  # a partial refund keeps the order going

    with django_capture_on_commit_callbacks(execute=True):
        _apply(client, "refund", [packed_order], kind="full", amount="", reason="Out of print")

    packed_order.refresh_from_db()
    assert packed_order.status == Order.Status.REFUNDED
    assert packed_order.refunded_total == packed_order.total == Decimal("63.00")
    assert list(Refund.objects.order_by("pk").values_list("amount", flat=True)) == [
        Decimal("10.00"),
        Decimal("53.00"),
    ]
    assert Payment.objects.get(order=packed_order).refunded_amount == Decimal("63.00")
    assert _stock(variant) == (5, 0)  # unshipped units are back on sale
    assert [m.subject for m in mailoutbox] == [
        f"A refund for your order {packed_order.number} from Vinyl Vault"
    ] * 2
    assert "63.00 USD" in mailoutbox[-1].body


@pytest.mark.django_db
def test_refund_of_more_than_is_left_is_refused_with_a_message(client, merchant, packed_order):
    client.force_login(merchant)
    response = _apply(client, "refund", [packed_order], kind="partial", amount="100.00", reason="Oops")
    assert response.status_code == 302
    assert ("error", "Refund must be more than 0 and at most 63.00 USD.") in _messages(response)
    packed_order.refresh_from_db()
    assert packed_order.refunded_total == 0 and not Refund.objects.exists()


@pytest.mark.django_db
def test_partial_refund_needs_an_amount(client, merchant, packed_order):
    client.force_login(merchant)
    response = _apply(client, "refund", [packed_order], kind="partial", amount="", reason="Oops")
    assert response.status_code == 200 and "Enter the amount to refund." in response.content.decode()
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_cancel_through_the_admin_returns_stock_and_refunds(
    client, merchant, variant, packed_order, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(merchant)
    mailoutbox.clear()
    page = _act(client, "cancel", [packed_order])
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = _apply(client, "cancel", [packed_order], reason="Damaged in the warehouse")

    assert ("success", f"1 order cancelled: {packed_order.number}.") in _messages(response)
    packed_order.refresh_from_db()
    assert packed_order.status == Order.Status.CANCELLED
    assert packed_order.cancel_reason == "Damaged in the warehouse"
    assert packed_order.refunded_total == Decimal("63.00")
    assert _stock(variant) == (5, 0)
    (email,) = mailoutbox
    assert "was cancelled" in email.subject
    assert "Damaged in the warehouse" in email.body and "63.00 USD" in email.body


@pytest.mark.django_db
def test_illegal_action_shows_an_error_and_changes_nothing(client, merchant, shopper, variant):
    paid = place_order(shopper, variant)  # after-commit jobs not run: still paid, not packed
    assert paid.status == Order.Status.PAID
    client.force_login(merchant)

    response = _act(client, "mark_delivered", [paid])

    assert response.status_code == 302
    assert ("error", f"Order {paid.number} is paid; it cannot become delivered.") in _messages(response)
    paid.refresh_from_db()
    assert paid.status == Order.Status.PAID and paid.delivered_at is None
    assert _stock(variant) == (5, 1)


@pytest.mark.django_db
def test_one_bad_order_does_not_stop_the_others(client, merchant, shopper, variant, packed_order):
    paid = place_order(shopper, variant)
    order_cancel(order=packed_order, actor=merchant, reason="Out of stock")
    client.force_login(merchant)

    response = _apply(client, "cancel", [packed_order, paid], reason="Out of stock")

    levels = [level for level, _ in _messages(response)]
    assert levels == ["error", "success"]
    paid.refresh_from_db()
    assert paid.status == Order.Status.CANCELLED


@pytest.mark.django_db
def test_merchant_cannot_act_on_another_shops_orders(
    client, merchant, shopper, variant, other_variant, django_capture_on_commit_callbacks
):
    own = place_order(shopper, variant, capture=django_capture_on_commit_callbacks)
    foreign = place_order(shopper, other_variant, capture=django_capture_on_commit_callbacks)
    client.force_login(merchant)

    for action, data in [
        ("mark_shipped", {"carrier": "DHL", "tracking_number": "X1"}),
        ("refund", {"kind": "full", "reason": "x"}),
        ("cancel", {"reason": "x"}),
        ("mark_delivered", {}),
    ]:
        assert own.number not in _act(client, action, [foreign]).content.decode()
        _apply(client, action, [foreign], **data)

    foreign.refresh_from_db()
    assert (foreign.status, foreign.refunded_total) == (Order.Status.FULFILLING, 0)
    assert client.get(reverse("admin:orders_order_change", args=[foreign.pk])).status_code == 404

    # Mixed with an own order, only the own one is touched.
    _apply(client, "cancel", [own, foreign], reason="Mixed")
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.status, foreign.status) == (Order.Status.CANCELLED, Order.Status.FULFILLING)


@pytest.mark.django_db
def test_order_page_offers_the_actions_and_returns_to_the_order(
    client, merchant, packed_order, django_capture_on_commit_callbacks
):
    client.force_login(merchant)
    change_url = reverse("admin:orders_order_change", args=[packed_order.pk])
    html = client.get(change_url).content.decode()
    assert 'value="mark_shipped"' in html and 'value="cancel"' in html and 'value="refund"' in html
    assert 'value="mark_delivered"' not in html
    assert "Packing slip" in html and "Blue Train LP" in html  # inline lines and the slip
    assert "timeline" in html.lower()

    page = client.post(
        CHANGELIST, {"action": "mark_shipped", "_selected_action": [packed_order.pk], "_from_change": "1"}
    )
    assert 'name="_from_change"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST,
            {
                "action": "mark_shipped",
                "_selected_action": [packed_order.pk],
                "_from_change": "1",
                "apply": "1",
                "carrier": "DHL",
                "tracking_number": "JD1",
            },
        )
    assert response.status_code == 302 and response.url == change_url
    html = client.get(change_url).content.decode()
    assert "JD1" in html and 'value="mark_delivered"' in html


@pytest.mark.django_db
def test_order_list_filters_by_show_and_searches_by_sku(client, merchant, shopper, variant, packed_order):
    client.force_login(merchant)
    assert packed_order.number in client.get(CHANGELIST, {"q": "BT-LP"}).content.decode()
    assert packed_order.number not in client.get(CHANGELIST, {"q": "NOPE"}).content.decode()
    assert packed_order.number not in client.get(CHANGELIST, {"in_show": "yes"}).content.decode()
    assert packed_order.number in client.get(CHANGELIST, {"in_show": "no"}).content.decode()


@pytest.mark.django_db
def test_merchant_adds_a_shipping_method_to_their_own_shop(client, merchant, shop, other_shop):
    client.force_login(merchant)
    response = client.post(
        reverse("admin:orders_shippingmethod_add"),
        {
            "shop": other_shop.pk,
            "name": "Express",
            "price": "9.50",
            "min_days": "1",
            "max_days": "2",
            "is_active": "on",
            "position": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    method = ShippingMethod.objects.get(name="Express")
    assert (method.shop, method.price) == (shop, Decimal("9.50"))


@pytest.mark.django_db
def test_webhook_log_is_for_ops_only(client, merchant, shop):
    url = reverse("admin:orders_paymentwebhookevent_changelist")
    client.force_login(merchant)
    assert client.get(url).status_code == 403
    client.force_login(UserFactory(username="ops", is_superuser=True))
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_merchant_sees_the_read_only_order_admins(client, merchant, packed_order):
    client.force_login(merchant)
    for name in ("shipment", "refund", "reservation", "waitlistentry", "shippingmethod"):
        assert client.get(reverse(f"admin:orders_{name}_changelist")).status_code == 200, name
    shipment_page = client.get(reverse("admin:orders_shipment_change", args=[packed_order.shipment_id]))
    assert shipment_page.status_code == 200
    assert packed_order.number in shipment_page.content.decode()
    assert client.get(reverse("admin:orders_shipment_add")).status_code == 403


@pytest.mark.django_db
def test_saving_the_order_page_writes_nothing_to_the_order(client, merchant, packed_order):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(merchant)
    url = reverse("admin:orders_order_change", args=[packed_order.pk])
    inlines = {
        f"{prefix}-{name}": value
        for prefix in ("lines", "payments", "refunds", "events")
        for name, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
    }

    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {"_save": "Save", **inlines})

    assert response.status_code == 302
    assert not [q["sql"] for q in queries if q["sql"].startswith('UPDATE "orders_order"')]
    packed_order.refresh_from_db()
    assert packed_order.status == Order.Status.FULFILLING
