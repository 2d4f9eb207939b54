"""Fixtures for API tests: clients holding a shop's key or a signed-in session."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from shops.apikeys import api_key_create


@pytest.fixture(autouse=True)
def _generous_throttles(settings):
    """Tests hammer the API from one key; the throttling test sets its own low rates."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100000/min", "user": "100000/min", "anon": "100000/min"},
    }
    settings.LIVEMARKET_API_KEY_FAILURE_RATE = (100000, 60)  # tests/security/test_rate_limits.py lowers it


def key_client(shop, user) -> APIClient:
    _, raw = api_key_create(shop=shop, name="tests", created_by=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raw_key = raw
    return client


@pytest.fixture
def api(shop, merchant) -> APIClient:
    """Shop A's key."""
    return key_client(shop, merchant)


@pytest.fixture
def other_api(other_shop, other_merchant) -> APIClient:
    """Shop B's key."""
    return key_client(other_shop, other_merchant)


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def shopper_api(shopper) -> APIClient:
    """A signed-in shopper's session (CSRF enforced, as in a browser)."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(shopper)
    token = "a" * 32
    client.cookies[settings.CSRF_COOKIE_NAME] = token
    client.credentials(HTTP_X_CSRFTOKEN=token)
    return client


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


def place_order(buyer, variant, *, quantity: int = 1, show_id=None):
    """A paid order for `quantity` of `variant`, placed through checkout like a shopper would."""
    import uuid

    from orders.services import cart_add, cart_get_or_create, checkout_complete
    from tests.orders.test_services_checkout import ADDRESS

    cart = cart_get_or_create(user=buyer)
    cart_add(cart=cart, variant_id=variant.pk, quantity=quantity, show_id=show_id)
    (order,) = checkout_complete(
        user=buyer,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=buyer.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    return order
