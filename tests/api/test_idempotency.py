"""Idempotency-Key on API writes: a retry replays, a reused key with another body is refused, and two
requests racing with one key act once."""

import uuid

import pytest
from rest_framework.test import APIClient

from catalog.models import Product
from shops.models import IdempotencyRecord
from tests.api.conftest import assert_error, key_client
from tests.concurrency import race

URL = "/api/v1/merchant/products/"


@pytest.mark.django_db
def test_same_key_and_body_replays_the_first_response(api):
    key = str(uuid.uuid4())
    first = api.post(URL, {"title": "Giant Steps"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = api.post(URL, {"title": "Giant Steps"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.filter(title="Giant Steps").count() == 1


@pytest.mark.django_db
def test_same_key_with_a_different_body_is_refused(api):
    key = str(uuid.uuid4())
    api.post(URL, {"title": "Giant Steps"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert_error(
        api.post(URL, {"title": "Other"}, format="json", HTTP_IDEMPOTENCY_KEY=key),
        422,
        "idempotency_key_reused",
    )
    assert not Product.objects.filter(title="Other").exists()


@pytest.mark.django_db
def test_errors_are_replayed_too_but_not_cached_across_callers(api, other_api):
    key = "retry-me"
    bad = api.post(URL, {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert bad.status_code == 400
    assert api.post(URL, {"title": ""}, format="json", HTTP_IDEMPOTENCY_KEY=key).json() == bad.json()
    # Another shop's key has its own key space.
    assert (
        other_api.post(URL, {"title": "Theirs"}, format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    )


@pytest.mark.django_db
def test_without_a_key_each_post_acts(api):
    api.post(URL, {"title": "Twice"}, format="json")
    api.post(URL, {"title": "Twice"}, format="json")
    assert Product.objects.filter(title__startswith="Twice").count() == 2


@pytest.mark.django_db
def test_an_overlong_key_is_a_400(api):
    assert_error(api.post(URL, {"title": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300), 400, "invalid")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_once(shop, merchant):
    client = key_client(shop, merchant)
    raw = client.raw_key
    key = str(uuid.uuid4())

    def post():
        return APIClient().post(
            URL,
            {"title": "Race"},
            format="json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    responses = race([post] * 4)
    statuses = sorted(r.status_code for r in responses)
    assert Product.objects.filter(title="Race").count() == 1
    assert set(statuses) <= {201, 409}, statuses
    fresh = [r for r in responses if r.status_code == 201 and not r.has_header("Idempotent-Replayed")]
    assert len(fresh) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "idempotency_in_progress"
    assert IdempotencyRecord.objects.get(key=key).state == "done"
