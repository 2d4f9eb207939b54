"""Schemathesis over our own OpenAPI document, in process (WSGI), with a fixed example budget.

Every operation gets up to MAX_EXAMPLES generated requests, and NEGATIVE_EXAMPLES with invalid input
(derandomized, so a run is repeatable),
authenticated as a merchant key (or, for /me/, a signed-in shopper session with its CSRF token),
against a small shop with real rows. Each response must not be a server error, and its status code,
content type and body must match the schema.
"""

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shows.services import show_create, show_go_live
from tests.api.conftest import key_client, place_order
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.shops.factories import ShopFactory, UserFactory

MAX_EXAMPLES = 12
CSRF_TOKEN = "s" * 32

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
# The same operations fed invalid input (wrong types, out-of-range values, missing fields): 4xx, never 500.
invalid_input = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
invalid_input.config.generation.update(modes=[schemathesis.GenerationMode.NEGATIVE])
NEGATIVE_EXAMPLES = 5
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def world(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100000/min", "user": "100000/min", "anon": "100000/min"},
    }
    owner, buyer = UserFactory(), UserFactory()
    shop = ShopFactory(owner=owner)
    product = ProductFactory(shop=shop)
    variant = VariantFactory(product=product, on_hand=50)
    place_order(buyer, variant)
    show_go_live(
        show=show_create(shop=shop, title="Live", scheduled_start=timezone.now(), products=[product])
    )
    show_create(shop=shop, title="Later", scheduled_start=timezone.now() + timezone.timedelta(days=1))
    browser = Client()
    browser.force_login(buyer)
    # The requests go through the real WSGI handler, which would close the test's connection (and
    # its transaction) at the end of each request; Django's test client disconnects the same hooks.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {
        "key": key_client(shop, owner).raw_key,
        "session": browser.cookies[django_settings.SESSION_COOKIE_NAME].value,
    }
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _call(case, world):
    if case.path.startswith("/api/v1/me/"):
        headers = {"X-CSRFToken": CSRF_TOKEN}
        cookies = {
            django_settings.SESSION_COOKIE_NAME: world["session"],
            django_settings.CSRF_COOKIE_NAME: CSRF_TOKEN,
        }
    else:
        headers, cookies = {"Authorization": f"Bearer {world['key']}"}, {}
    case.validate_response(case.call(headers=headers, cookies=cookies), checks=CHECKS)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_every_operation_within_its_schema(case, world):
    _call(case, world)


@invalid_input.parametrize()
@settings(
    max_examples=NEGATIVE_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_invalid_input_is_a_documented_4xx_never_a_500(case, world):
    _call(case, world)
