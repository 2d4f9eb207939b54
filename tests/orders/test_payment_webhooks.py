"""The webhook endpoint checks the signature, and a repeated delivery changes nothing."""

import json
import uuid

import pytest

from orders.models import Order, OrderEvent, Payment, PaymentWebhookEvent
from orders.payments.test_gateway import SIGNATURE_HEADER, sign_webhook
from orders.services import cart_add, cart_get_or_create, checkout_complete
from tests.orders.test_services_checkout import ADDRESS

URL = "/payments/webhooks/test/"


def _post(client, payload: dict, *, signature: str | None = None):
    body = json.dumps(payload).encode()
    headers = {f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": signature or sign_webhook(body)}
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def pending_order(shopper, variant):
    """An order whose payment the provider confirms later (authorised, not yet captured)."""
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=2)
    (order,) = checkout_complete(
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    # Turn it back into an order awaiting an asynchronous confirmation.
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PENDING_PAYMENT, paid_at=None)
    Payment.objects.filter(order=order).update(status=Payment.Status.AUTHORIZED)
    return Order.objects.get(pk=order.pk)


@pytest.mark.django_db
def test_signed_payment_succeeded_marks_the_order_paid_once(
    client, pending_order, django_capture_on_commit_callbacks
):
    reference = pending_order.payments.get().reference
    payload = {"id": "evt_1", "type": "payment.succeeded", "reference": reference, "amount": "63.00"}
    with django_capture_on_commit_callbacks(execute=True):
        first = _post(client, payload)
        second = _post(client, payload)
    assert first.status_code == 200 and first.json()["result"] == "order paid"
    assert second.status_code == 200 and second.json()["result"].startswith("duplicate")
    order = Order.objects.get(pk=pending_order.pk)
    assert order.status in (Order.Status.PAID, Order.Status.FULFILLING)
    assert OrderEvent.objects.filter(order=order, to_status="paid", actor_label="gateway").count() == 1
    assert PaymentWebhookEvent.objects.filter(event_id="evt_1").count() == 1


@pytest.mark.django_db
def test_payment_failed_cancels_and_frees_the_stock(client, pending_order, variant):
    reference = pending_order.payments.get().reference
    response = _post(client, {"id": "evt_2", "type": "payment.failed", "reference": reference})
    assert response.json()["result"] == "order cancelled"
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.CANCELLED
    assert variant.stock.__class__.objects.get(variant=variant).allocated == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    ["t=1,v1=deadbeef", "", "v1=abc", f"t=9999999999,v1={'0' * 64}"],
    ids=["old", "missing", "no-timestamp", "wrong-digest"],
)
def test_bad_signatures_are_refused_with_400(client, pending_order, signature):
    payload = {"id": "evt_3", "type": "payment.succeeded", "reference": "x"}
    response = _post(client, payload, signature=signature or "none")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not PaymentWebhookEvent.objects.exists()


@pytest.mark.django_db
def test_malformed_body_unknown_gateway_and_get_are_4xx(client):
    body = b"not json"
    bad = client.post(
        URL, data=body, content_type="application/json", HTTP_LIVEMARKET_SIGNATURE=sign_webhook(body)
    )
    assert bad.status_code == 400
    assert (
        client.post("/payments/webhooks/nope/", data=b"{}", content_type="application/json").status_code
        == 404
    )
    assert client.get(URL).status_code == 405
