"""Throttling: one budget per API key, per signed-in user and per anonymous IP, held in the cache."""

import pytest
from django.core.cache import cache

from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_rates(settings):
    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min", "user": "2/min", "anon": "2/min"},
    }
    yield
    cache.clear()


def test_each_key_has_its_own_budget(tight_rates, api, other_api):
    for _ in range(3):
        assert api.get("/api/v1/merchant/products/").status_code == 200
    body = assert_error(api.get("/api/v1/merchant/products/"), 429, "throttled")
    assert "available in" in body["message"]
    assert int(api.get("/api/v1/merchant/products/")["Retry-After"]) > 0
    assert other_api.get("/api/v1/merchant/products/").status_code == 200


def test_users_and_anonymous_callers_are_throttled_separately(tight_rates, shopper_api, anon):
    for _ in range(2):
        assert shopper_api.get("/api/v1/me/orders/").status_code == 200
    assert_error(shopper_api.get("/api/v1/me/orders/"), 429, "throttled")
    for _ in range(2):
        assert anon.get("/api/v1/public/shops/").status_code == 200
    assert_error(anon.get("/api/v1/public/shops/"), 429, "throttled")
