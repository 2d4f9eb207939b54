"""Money under double submits: every placement path and money transition, fired N times at once with
one key against a running server (real threads released together by one barrier, each with its own
connection), must give one order, one captured payment, one `paid` event, one outgoing webhook, one
shipment and one e-mail; a refund or cancellation must refund once.

The rows are the catalogue in tests/money/catalogue.py, which docs/reliability.md prints."""

import json
import time
import uuid
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Stock
from orders.checkout import one_tap_order_place
from orders.models import Order, OrderEvent, Payment, Refund, Shipment
from orders.payments import get_gateway
from orders.payments.attempts import attempts_start
from orders.payments.test_gateway import SIGNATURE_HEADER, Ledger, sign_webhook
from orders.services import address_save, cart_add, cart_get_or_create, payment_method_save
from shops.models import WebhookDelivery
from shops.webhooks import webhook_endpoint_create
from shows.auctions import bid_place, lot_charge, lot_close
from shows.models import Lot
from shows.services import (
    giveaway_draw,
    giveaway_enter,
    giveaway_start,
    show_create,
    show_go_live,
    show_pin_product,
)
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.concurrency import race
from tests.money.catalogue import MONEY_RACES, NOTHING_TO_PAY, RACE_SIZES
from tests.money.conftest import Browser
from tests.orders.test_services_checkout import ADDRESS
from tests.shops.factories import UserFactory
from tests.shows.test_auctions import expire, start

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CARD = "4242 4242 4242 4242"
S = Order.Status


def _buyer(**kwargs):
    buyer = UserFactory(**kwargs)
    address_save(user=buyer, data=ADDRESS)
    payment_method_save(user=buyer, card_number=GOOD_CARD)
    return buyer


def _hook(shop, settings):
    settings.LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK = True
    webhook_endpoint_create(shop=shop, url="http://127.0.0.1:9/livemarket", events=["order.paid"])


def _wait_settled(orders_query, *, timeout=60):
    """After-commit jobs (e-mail, packing) run in the server after the response: wait for them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        orders = list(orders_query())
        if orders and all(o.status not in (S.PENDING_PAYMENT, S.PAID) for o in orders):
            return orders
        time.sleep(0.2)
    return list(orders_query())


def money_counts(orders: list[Order]) -> dict[str, int]:
    ids, numbers = [o.pk for o in orders], [o.number for o in orders]
    ledger = Ledger()
    captures = [
        a
        for number in numbers
        for a in ledger.authorizations(key_prefix=f"{number}-pay-")
        if a["status"] == "captured"
    ]
    return {
        "orders": len(orders),
        "captured": Payment.objects.filter(order_id__in=ids, status=Payment.Status.CAPTURED).count(),
        "gateway_captures": len(captures),
        "paid_events": OrderEvent.objects.filter(order_id__in=ids, kind="status", to_status="paid").count(),
        "webhooks": WebhookDelivery.objects.filter(
            event="order.paid", payload__data__order__number__in=numbers
        ).count(),
        "shipments": Shipment.objects.filter(orders__in=ids).distinct().count(),
        "emails": OrderEvent.objects.filter(
            order_id__in=ids, kind="email", message="E-mail sent: confirmation"
        ).count(),
    }


def expected_counts(key: str) -> dict[str, int]:
    counts = dict.fromkeys(
        ("orders", "captured", "gateway_captures", "paid_events", "webhooks", "shipments", "emails"), 1
    )
    if key in NOTHING_TO_PAY:
        counts.update(captured=0, gateway_captures=0)
    return counts


def refund_counts(order: Order, *, end: str, email: str) -> dict[str, int]:
    refunds = list(Refund.objects.filter(order=order))
    payment = Payment.objects.get(order=order, status=Payment.Status.CAPTURED)
    return {
        "refunds": len(refunds),
        "gateway_refunds": len(
            [
                op
                for op in Ledger().operations(reference=payment.reference)
                if op["kind"] == "refund" and op["ok"]
            ]
        ),
        "end_events": OrderEvent.objects.filter(order=order, kind="status", to_status=end).count(),
        "emails": OrderEvent.objects.filter(
            order=order, kind="email", message__startswith=f"E-mail sent: {email}"
        ).count(),
    }


def _no_server_errors(responses):
    failures = [r for r in responses if r is None or isinstance(r, Exception) or r.status_code >= 500]
    assert not failures, failures


# --- placement paths ----------------------------------------------------------------------------


def _race_checkout(server, settings, n: int, *, shop, merchant, via_show: bool):
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=40, price="12.00")
    _hook(shop, settings)
    buyer = UserFactory()
    browser = Browser(server, buyer)
    if via_show:
        show = show_go_live(
            show=show_create(
                shop=variant.shop,
                title="Race night",
                scheduled_start=timezone.now(),
                products=[variant.product],
            )
        )
        show_pin_product(show=show, user=merchant, product_id=variant.product_id)
        _, csrf = browser.form(f"/shows/{show.pk}/")
        held = browser.post(f"/shows/{show.pk}/buy/", {**csrf, "variant_id": variant.pk})
        assert held.status_code in (200, 302), held.text[:300]
    else:
        cart_add(cart=cart_get_or_create(user=buyer), variant_id=variant.pk, quantity=1)
    form = browser.checkout_form()
    key = form["checkout_key"]
    responses = race([lambda: browser.post("/checkout/", form) for _ in range(n)])
    _no_server_errors(responses)
    assert {r.status_code for r in responses} == {302}, [
        r.text[:300] for r in responses if r.status_code != 302
    ]
    assert {r.headers["location"] for r in responses} == {f"/checkout/complete/{key}/"}
    orders = _wait_settled(lambda: Order.objects.filter(checkout_key=key))
    assert Stock.objects.get(variant=variant).allocated == 1
    return orders


@pytest.mark.parametrize("n", RACE_SIZES)
def test_checkout_form_sent_n_times_at_once_pays_once(server, settings, n, shop, merchant):
    orders = _race_checkout(server, settings, n, shop=shop, merchant=merchant, via_show=False)
    assert money_counts(orders) == expected_counts("checkout")


@pytest.mark.parametrize("n", RACE_SIZES)
def test_buy_now_then_checkout_sent_n_times_at_once_pays_once(server, settings, n, shop, merchant):
    orders = _race_checkout(server, settings, n, shop=shop, merchant=merchant, via_show=True)
    assert money_counts(orders) == expected_counts("buy_now_checkout")


@pytest.mark.parametrize("n", RACE_SIZES)
def test_one_tap_sent_n_times_at_once_buys_and_pays_once(server, settings, n, shop, merchant):
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=40, price="15.00")
    _hook(shop, settings)
    show = show_go_live(
        show=show_create(
            shop=shop, title="Tap night", scheduled_start=timezone.now(), products=[variant.product]
        )
    )
    show_pin_product(show=show, user=merchant, product_id=variant.product_id)
    buyer = _buyer()
    browser = Browser(server, buyer)
    _, csrf = browser.form(f"/shows/{show.pk}/")
    key = str(uuid.uuid4())
    data = {**csrf, "variant_id": variant.pk, "one_tap": "1", "checkout_key": key}
    responses = race([lambda: browser.post(f"/shows/{show.pk}/buy/", data) for _ in range(n)])
    _no_server_errors(responses)
    # Taps past the buy-now rate limit (LIVEMARKET_BUY_NOW_RATE) get a 429 and write nothing.
    assert {r.status_code for r in responses} <= {200, 302, 429}, [r.status_code for r in responses]
    orders = _wait_settled(lambda: Order.objects.filter(user=buyer))
    assert [o.checkout_key for o in orders] == [uuid.UUID(key)]
    assert Stock.objects.get(variant=variant).allocated == 1
    assert money_counts(orders) == expected_counts("one_tap")


@pytest.mark.parametrize("n", RACE_SIZES)
def test_won_lot_charged_n_times_at_once_charges_once(
    server, settings, n, shop, merchant, django_capture_on_commit_callbacks
):
    item = VariantFactory(product=ProductFactory(shop=shop), price="80.00", on_hand=3)
    _hook(shop, settings)
    show = show_go_live(
        show=show_create(
            shop=shop, title="Auction night", scheduled_start=timezone.now(), products=[item.product]
        )
    )
    with django_capture_on_commit_callbacks(execute=False):  # the charge job is what the race runs
        lot = start(show, merchant, item)
        bidder = _buyer(username="winner")
        bid_place(show=show, user=bidder, lot_id=lot.pk, amount="25.00")
        expire(lot)
        lot_close(lot_id=lot.pk)
    responses = race([lambda: lot_charge(lot_id=lot.pk) for _ in range(n)])
    assert not [r for r in responses if isinstance(r, Exception)], responses
    lot.refresh_from_db()
    assert lot.status == Lot.Status.PAID
    from orders.services import order_fulfil  # the packing job the charge enqueued ran in each thread

    orders = list(Order.objects.filter(user=bidder))
    for order in orders:
        order_fulfil(order_id=order.pk)
    assert money_counts(orders) == expected_counts("won_lot")


@pytest.mark.parametrize("n", RACE_SIZES)
def test_giveaway_drawn_n_times_at_once_gives_one_prize(server, settings, n, shop, merchant):
    prize = VariantFactory(product=ProductFactory(shop=shop), price="30.00", on_hand=5)
    _hook(shop, settings)
    show = show_go_live(
        show=show_create(
            shop=shop, title="Prize night", scheduled_start=timezone.now(), products=[prize.product]
        )
    )
    giveaway = giveaway_start(show=show, user=merchant, variant_id=prize.pk, duration_seconds=30)
    entrants = [_buyer(username=f"entrant{i}") for i in range(3)]
    for entrant in entrants:
        giveaway_enter(show=show, user=entrant, giveaway_id=giveaway.pk)
    responses = race([lambda: giveaway_draw(giveaway_id=giveaway.pk, user=merchant) for _ in range(n)])
    assert not [r for r in responses if isinstance(r, Exception)], responses
    orders = list(Order.objects.filter(channel=Order.Channel.GIVEAWAY))
    assert Stock.objects.get(variant=prize).allocated == 1
    assert money_counts(orders) == expected_counts("giveaway")


# --- money transitions --------------------------------------------------------------------------


def _paid_order(server, buyer, shop):
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=5, price="20.00")
    cart_add(cart=cart_get_or_create(user=buyer), variant_id=variant.pk, quantity=1)
    browser = Browser(server, buyer)
    form = browser.checkout_form()
    key = form["checkout_key"]
    assert browser.post("/checkout/", form).status_code == 302
    (order,) = _wait_settled(lambda: Order.objects.filter(checkout_key=key))
    return order, browser


@pytest.mark.parametrize("n", RACE_SIZES)
def test_shopper_cancel_sent_n_times_at_once_refunds_once(server, n, shop):
    buyer = UserFactory()
    order, browser = _paid_order(server, buyer, shop)
    _, csrf = browser.form(f"/orders/{order.number}/")
    responses = race([lambda: browser.post(f"/orders/{order.number}/cancel/", csrf) for _ in range(n)])
    _no_server_errors(responses)
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (S.CANCELLED, order.total)
    deadline = time.monotonic() + 30
    while (
        time.monotonic() < deadline and refund_counts(order, end="cancelled", email="cancelled")["emails"] < 1
    ):
        time.sleep(0.2)
    assert refund_counts(order, end="cancelled", email="cancelled") == dict.fromkeys(
        ("refunds", "gateway_refunds", "end_events", "emails"), 1
    )


@pytest.mark.parametrize("n", RACE_SIZES)
def test_admin_refund_sent_n_times_at_once_refunds_once(fresh_server, n, shop, merchant):
    buyer = UserFactory()
    order, _ = _paid_order(fresh_server, buyer, shop)
    admin = Browser(fresh_server, merchant)
    changelist = reverse("admin:orders_order_changelist")
    _, csrf = admin.form(changelist)
    form = {
        **csrf,
        "action": "refund",
        "_selected_action": [str(order.pk)],
        "apply": "1",
        "kind": "full",
        "reason": "Out of print",
        "request_key": str(uuid.uuid4()),
    }
    responses = race([lambda: admin.post(changelist, form) for _ in range(n)])
    _no_server_errors(responses)
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == (S.REFUNDED, order.total)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and refund_counts(order, end="refunded", email="refund")["emails"] < 1:
        time.sleep(0.2)
    assert refund_counts(order, end="refunded", email="refund") == dict.fromkeys(
        ("refunds", "gateway_refunds", "end_events", "emails"), 1
    )


@pytest.mark.parametrize("n", RACE_SIZES)
def test_payment_webhook_delivered_n_times_at_once_pays_once(server, settings, n, shop, merchant):
    """An order whose capture the gateway confirms by webhook (its attempt authorised, then confirmed)."""
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=5, price="20.00")
    _hook(shop, settings)
    buyer = _buyer()
    show = show_go_live(
        show=show_create(
            shop=shop, title="Hook night", scheduled_start=timezone.now(), products=[variant.product]
        )
    )
    with mock.patch("orders.tasks.one_tap_charge_task.delay_on_commit"):  # the provider confirms instead
        order = one_tap_order_place(
            user=buyer, variant_id=variant.pk, show_id=show.pk, checkout_key=uuid.uuid4()
        )
    # The provider authorised it and will confirm the capture asynchronously.
    (attempt,) = attempts_start(orders=[order], gateway="test")
    auth = get_gateway().authorize_saved(
        token=buyer.payment_methods.get().token,
        amount=order.total,
        currency=order.currency,
        idempotency_key=attempt.idempotency_key,
    )
    get_gateway().capture(
        reference=auth.reference, amount=order.total, idempotency_key=f"{attempt.idempotency_key}-capture"
    )
    Payment.objects.filter(pk=attempt.pk).update(status=Payment.Status.AUTHORIZED, reference=auth.reference)
    body = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex}", "type": "payment.succeeded", "reference": auth.reference}
    ).encode()
    headers = {SIGNATURE_HEADER: sign_webhook(body), "Content-Type": "application/json"}
    webhook = Browser(server)
    responses = race(
        [
            lambda: webhook.post("/payments/webhooks/test/", None, content=body, headers=headers)
            for _ in range(n)
        ]
    )
    _no_server_errors(responses)
    results = sorted(r.json()["result"] for r in responses)
    assert results.count("order paid") == 1, results
    orders = _wait_settled(lambda: Order.objects.filter(pk=order.pk))
    assert money_counts(orders) == expected_counts("payment_webhook")


def test_every_catalogued_race_has_its_tests():
    names = {key for key, *_ in MONEY_RACES}
    tested = {
        "checkout": test_checkout_form_sent_n_times_at_once_pays_once,
        "buy_now_checkout": test_buy_now_then_checkout_sent_n_times_at_once_pays_once,
        "one_tap": test_one_tap_sent_n_times_at_once_buys_and_pays_once,
        "won_lot": test_won_lot_charged_n_times_at_once_charges_once,
        "giveaway": test_giveaway_drawn_n_times_at_once_gives_one_prize,
        "shopper_cancel": test_shopper_cancel_sent_n_times_at_once_refunds_once,
        "admin_refund": test_admin_refund_sent_n_times_at_once_refunds_once,
        "payment_webhook": test_payment_webhook_delivered_n_times_at_once_pays_once,
    }
    assert names == set(tested)
