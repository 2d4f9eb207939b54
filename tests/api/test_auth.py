"""API keys: shown once, stored hashed, revocable, bound to their shop and to a maker who still works there."""

import hashlib
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from shops.apikeys import api_key_create, api_key_revoke
from shops.models import ApiKey, ShopMembership
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

MERCHANT_URL = "/api/v1/merchant/products/"


def test_key_is_stored_as_a_hash_with_a_visible_prefix(shop, merchant):
    key, raw = api_key_create(shop=shop, name="Warehouse", created_by=merchant)
    _, prefix, secret = raw.split("_", 2)
    row = ApiKey.objects.get(pk=key.pk)
    assert row.prefix == prefix
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(v) for v in ApiKey.objects.filter(pk=key.pk).values().first().values())
    assert secret not in stored


def test_bearer_and_x_api_key_headers_both_authenticate(shop, merchant):
    ProductFactory(shop=shop, title="Blue Train LP")
    _, raw = api_key_create(shop=shop, name="tool", created_by=merchant)
    for headers in ({"HTTP_AUTHORIZATION": f"Bearer {raw}"}, {"HTTP_X_API_KEY": raw}):
        response = APIClient().get(MERCHANT_URL, **headers)
        assert response.status_code == 200, response.content
        assert [p["title"] for p in response.json()["results"]] == ["Blue Train LP"]


@pytest.mark.parametrize(
    "header",
    ["Bearer lm_nope_nope", "Bearer garbage", "Bearer lm__", "Bearer ", "Bearer lm_deadbeef_wrongsecret"],
)
def test_bad_keys_get_401_with_an_error_body(shop, merchant, header):
    api_key_create(shop=shop, name="tool", created_by=merchant)
    response = APIClient().get(MERCHANT_URL, HTTP_AUTHORIZATION=header)
    body = assert_error(response, 401, "authentication_failed")
    assert "Bearer" in response["WWW-Authenticate"]
    assert "secret" not in body["message"].lower() or "wrong" not in body["message"].lower()


def test_right_prefix_with_wrong_secret_is_refused(shop, merchant):
    _, raw = api_key_create(shop=shop, name="tool", created_by=merchant)
    forged = raw[: raw.rindex("_") + 1] + "x" * 43
    assert_error(APIClient().get(MERCHANT_URL, HTTP_AUTHORIZATION=f"Bearer {forged}"), 401)


def test_revoked_key_is_refused_at_once(shop, merchant):
    key, raw = api_key_create(shop=shop, name="tool", created_by=merchant)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(MERCHANT_URL).status_code == 200
    api_key_revoke(key=key)
    body = assert_error(client.get(MERCHANT_URL), 401, "authentication_failed")
    assert "revoked" in body["message"]


def test_key_stops_working_when_its_maker_leaves_the_shop(shop, merchant):
    _, raw = api_key_create(shop=shop, name="tool", created_by=merchant)
    ShopMembership.objects.filter(user=merchant, shop=shop).delete()
    merchant._lm_shop_ids = None
    assert_error(APIClient().get(MERCHANT_URL, HTTP_AUTHORIZATION=f"Bearer {raw}"), 401)


def test_no_credentials_on_a_merchant_endpoint_is_401(anon):
    assert_error(anon.get(MERCHANT_URL), 401, "not_authenticated")


def test_a_shopper_session_is_not_a_merchant(shopper_api):
    assert_error(shopper_api.get(MERCHANT_URL), 403, "permission_denied")


def test_a_signed_in_merchant_uses_the_session_with_csrf(shop, merchant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(merchant)
    assert client.get(MERCHANT_URL).status_code == 200
    refused = client.post(MERCHANT_URL, {"title": "No token"}, format="json")
    assert_error(refused, 403, "permission_denied")
    assert "CSRF" in refused.json()["message"]


def test_last_used_is_recorded(api, shop):
    api.get(MERCHANT_URL)
    assert ApiKey.objects.get(shop=shop, name="tests").last_used_at is not None


def test_admin_shows_a_new_key_once_and_never_again(client, shop, merchant):
    client.force_login(merchant)
    response = client.post(reverse("admin:shops_apikey_add"), {"shop": shop.pk, "name": "Label printer"})
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Label printer")
    html = response.content.decode()
    assert f"lm_{key.prefix}_" in html and "shown only this once" in html
    raw = re.search(r'value="(lm_[^"]+)"', html).group(1)
    assert APIClient().get(MERCHANT_URL, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    secret = raw.split("_", 2)[2]
    for page in (
        reverse("admin:shops_apikey_changelist"),
        reverse("admin:shops_apikey_change", args=[key.pk]),
    ):
        again = client.get(page)
        assert again.status_code == 200
        assert secret not in again.content.decode()
    assert key.created_by == merchant


def test_admin_revoke_action_revokes(client, shop, merchant):
    key, raw = api_key_create(shop=shop, name="old", created_by=merchant)
    client.force_login(merchant)
    client.post(reverse("admin:shops_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert APIClient().get(MERCHANT_URL, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_a_merchant_of_two_shops_names_the_shop_when_creating(shop, merchant, other_shop):
    from shops.services import shop_member_add

    shop_member_add(shop=other_shop, user=merchant)
    merchant._lm_shop_ids = None
    client = APIClient()
    client.force_login(merchant)
    body = assert_error(client.post(MERCHANT_URL, {"title": "Which shop?"}, format="json"), 400, "invalid")
    assert "shop" in body["fields"]
    created = client.post(MERCHANT_URL, {"title": "Here", "shop": "sneaker-sanctum"}, format="json")
    assert created.status_code == 201 and created.json()["shop"] == "sneaker-sanctum"
    assert_error(client.post(MERCHANT_URL, {"title": "No", "shop": "not-mine"}, format="json"), 400)


def test_a_key_ignores_no_shop_but_refuses_another(api, other_shop):
    assert api.post(MERCHANT_URL, {"title": "Mine"}, format="json").json()["shop"] == "vinyl-vault"
    body = assert_error(
        api.post(MERCHANT_URL, {"title": "Theirs", "shop": other_shop.slug}, format="json"), 400
    )
    assert "shop" in body["fields"]


def test_ops_staff_signed_in_see_every_shop(shop, other_shop):
    from shops.services import user_create

    ProductFactory(shop=shop, title="A")
    ProductFactory(shop=other_shop, title="B")
    ops = user_create(username="ops", email="ops@example.test", password="x", is_superuser=True)
    client = APIClient()
    client.force_login(ops)
    assert {p["title"] for p in client.get(MERCHANT_URL).json()["results"]} == {"A", "B"}
