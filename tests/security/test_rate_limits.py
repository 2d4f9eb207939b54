"""Rate limits: every limited surface answers a clear 429 (or allauth's failed-login error), changes
nothing when refused, limits only the caller it counts, and lets the caller back in once the window
has passed (nothing is locked and no row is written).

"The window has passed" is simulated by deleting the counters from Redis (`_window_passes`), which is
what their expiry does; the limits themselves are lowered per test with the `settings` fixture.
"""

import json
import re

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Stock
from orders.models import CartLine, Order, PaymentWebhookEvent, Reservation
from shops.apikeys import api_key_create
from shops.models import ApiKey, User, WebhookEndpoint
from shows.auctions import lot_start
from shows.exceptions import RateLimited
from shows.models import Bid, ChatMessage, Lot, Show
from shows.services import chat_post, show_create, show_go_live
from tests.orders.test_payment_webhooks import _post as post_webhook
from tests.orders.test_payment_webhooks import pending_order  # noqa: F401 - a fixture
from tests.shops.factories import UserFactory
from tests.shows.test_auctions import make_bidder

pytestmark = pytest.mark.django_db

PASSWORD = "pass-word-123"  # tests/shops/factories.py
LOGIN = "/accounts/login/"
TOO_MANY = "Too many attempts"


def _window_passes() -> None:
    """Forget every rate-limit counter of this test worker, as their expiry would."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
    pattern = re.compile(rf"^{re.escape(prefix)}:\d+:(rl:|allauth:rl:)")
    try:
        keys = [k for k in client.scan_iter(f"{prefix}:*", count=1000) if pattern.match(k.decode())]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _rates(settings, **rates):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **rates}


def _user_state(user) -> tuple:
    user.refresh_from_db()
    return (user.is_active, user.password, User.objects.count())


# --- allauth: login, failed logins, signup, password reset ------------------------------------------


def test_login_posts_over_the_per_ip_limit_get_the_429_page_then_work_again(client, shopper, settings):
    _rates(settings, login="2/m/ip")
    before = _user_state(shopper)
    for _ in range(2):
        assert client.post(LOGIN, {"login": shopper.email, "password": "wrong"}).status_code == 200
    refused = client.post(LOGIN, {"login": shopper.email, "password": PASSWORD})
    assert refused.status_code == 429
    page = refused.content.decode()
    assert TOO_MANY in page and "Nothing is locked" in page
    assert "_auth_user_id" not in client.session  # the right password did not get in over the limit
    assert _user_state(shopper) == before

    _window_passes()
    assert client.post(LOGIN, {"login": shopper.email, "password": PASSWORD}).status_code == 302
    assert client.session["_auth_user_id"] == str(shopper.pk)
    assert _user_state(shopper) == before  # not deactivated, password untouched, no rows added


def test_failed_logins_over_the_per_account_limit_are_refused_without_locking_the_account(
    client, shopper, other_shopper, settings
):
    _rates(settings, login="100/m/ip", login_failed="100/m/ip,3/5m/key")
    before = _user_state(shopper)
    for _ in range(3):
        page = client.post(LOGIN, {"login": shopper.email, "password": "wrong"}).content.decode()
        assert "Too many failed login attempts" not in page
    refused = client.post(LOGIN, {"login": shopper.email, "password": PASSWORD})
    assert refused.status_code == 200  # allauth answers on the form, not with a 429
    assert "Too many failed login attempts. Try again later." in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from the same address is not held back by this one's failures.
    other = client.post(LOGIN, {"login": other_shopper.email, "password": PASSWORD})
    assert other.status_code == 302
    client.logout()

    _window_passes()
    assert client.post(LOGIN, {"login": shopper.email, "password": PASSWORD}).status_code == 302
    assert client.session["_auth_user_id"] == str(shopper.pk)
    assert _user_state(shopper)[:2] == before[:2]


def test_signups_over_the_per_ip_limit_get_the_429_page_and_create_nobody(client, settings):
    _rates(settings, signup="2/m/ip")

    def signup(n):
        return client.post(
            "/accounts/signup/",
            {"email": f"new{n}@example.test", "password1": "Sturdy-pass-42", "password2": "Sturdy-pass-42"},
        )

    for n in range(2):
        assert signup(n).status_code == 302
        client.logout()
    refused = signup(2)
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert not User.objects.filter(email="new2@example.test").exists()

    _window_passes()
    assert signup(2).status_code == 302
    assert User.objects.get(email="new2@example.test").is_active


def test_password_reset_requests_over_the_per_address_limit_get_429_and_send_nothing(
    client, shopper, other_shopper, settings
):
    _rates(settings, reset_password="100/m/ip,2/m/key")
    url = reverse("account_reset_password")
    for _ in range(2):
        assert client.post(url, {"email": shopper.email}).status_code == 302
    sent = len(mail.outbox)
    refused = client.post(url, {"email": shopper.email})
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert len(mail.outbox) == sent
    assert client.post(url, {"email": other_shopper.email}).status_code == 302  # another address
    _window_passes()
    assert client.post(url, {"email": shopper.email}).status_code == 302


# --- The admin's own login (/admin/login/) ----------------------------------------------------------

ADMIN_LOGIN = "/admin/login/"


def _admin_login(client, password, *, ip="10.0.0.1", username="ops"):
    return client.post(
        f"{ADMIN_LOGIN}?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_admin_logins_over_the_limit_get_a_429_and_the_right_password_does_not_get_in(client, settings):
    ops = UserFactory(username="ops", email="ops@example.test", is_superuser=True)
    _rates(settings, admin_login="3/m/ip,100/15m/key")
    for _ in range(3):
        assert _admin_login(client, "wrong").status_code == 200  # the form, with its error
    before = (*_user_state(ops), ops.last_login, LogEntry.objects.count(), Session.objects.count())
    refused = _admin_login(client, PASSWORD)
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many admin sign-in attempts" in page and "Nothing is locked" in page
    ops.refresh_from_db()
    assert (*_user_state(ops), ops.last_login, LogEntry.objects.count(), Session.objects.count()) == before
    assert "_auth_user_id" not in client.session
    # Another address is not held back by this one's attempts.
    assert _admin_login(Client(), PASSWORD, ip="10.0.0.2").status_code == 302

    _window_passes()
    assert _admin_login(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(ops.pk)


def test_admin_logins_for_one_username_are_limited_across_addresses(client, settings):
    ops = UserFactory(username="ops", email="ops@example.test", is_superuser=True)
    _rates(settings, admin_login="100/m/ip,3/15m/key")
    for n in range(3):
        assert _admin_login(Client(), "wrong", ip=f"10.0.1.{n}").status_code == 200
    assert _admin_login(client, PASSWORD, ip="10.0.1.9").status_code == 429
    assert "_auth_user_id" not in client.session
    # Another username from the same address still gets its form.
    other = _admin_login(client, "wrong", ip="10.0.1.9", username="someone")
    assert other.status_code == 200
    _window_passes()
    assert _admin_login(client, PASSWORD, ip="10.0.1.9").status_code == 302
    assert client.session["_auth_user_id"] == str(ops.pk)


# --- Buy now ----------------------------------------------------------------------------------------


@pytest.fixture
def live_show(pinned_live_show):
    return pinned_live_show


def _holds(variant):
    return (
        list(Reservation.objects.order_by("pk").values_list("pk", "user_id", "status", "quantity")),
        Stock.objects.get(variant=variant).allocated,
        list(CartLine.objects.order_by("pk").values_list("pk", "quantity")),
        Order.objects.count(),
    )


def test_buy_now_over_the_limit_gets_429_and_holds_nothing(
    client, shopper, other_shopper, live_show, variant, settings
):
    settings.LIVEMARKET_BUY_NOW_RATE = (1, 60)
    url = f"/shows/{live_show.pk}/buy/"
    client.force_login(shopper)
    assert client.post(url, {"variant_id": variant.pk})["Location"] == "/checkout/"
    before = _holds(variant)

    refused = client.post(url, {"variant_id": variant.pk})
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert "Too many buy-now presses: at most 1 every 60 seconds." in refused.content.decode()
    htmx = client.post(url, {"variant_id": variant.pk}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 429 and "Too many buy-now presses" in htmx.content.decode()
    assert _holds(variant) == before  # no hold, no stock allocated, no cart line, no order

    client.force_login(other_shopper)  # another shopper is not limited by the first one's presses
    assert client.post(url, {"variant_id": variant.pk})["Location"] == "/checkout/"
    assert Reservation.objects.filter(user=other_shopper).count() == 1

    _window_passes()
    client.force_login(shopper)
    assert client.post(url, {"variant_id": variant.pk}).status_code == 302


def test_a_one_tap_buy_over_the_limit_gets_429_and_places_no_order(client, live_show, variant, settings):
    import uuid

    settings.LIVEMARKET_BUY_NOW_RATE = (1, 60)
    buyer = make_bidder("tapper")  # a saved card and address: ready for 1-tap
    client.force_login(buyer)
    url = f"/shows/{live_show.pk}/buy/"
    first = client.post(url, {"variant_id": variant.pk, "one_tap": "1", "checkout_key": str(uuid.uuid4())})
    assert first.status_code == 302 and Order.objects.filter(user=buyer).count() == 1
    before = _holds(variant)
    refused = client.post(url, {"variant_id": variant.pk, "one_tap": "1", "checkout_key": str(uuid.uuid4())})
    assert refused.status_code == 429 and "Too many buy-now presses" in refused.content.decode()
    assert _holds(variant) == before and Order.objects.filter(user=buyer).count() == 1


# --- The media server's stream callbacks -------------------------------------------------------------


@pytest.fixture
def scheduled_show(shop):
    return show_create(shop=shop, title="Later", scheduled_start=timezone.now())


@pytest.mark.parametrize("path", ["/streams/on_publish", "/streams/on_update", "/streams/on_publish_done"])
def test_stream_callbacks_over_the_per_ip_limit_get_429_and_leave_the_show_alone(
    client, scheduled_show, settings, path
):
    settings.LIVEMARKET_STREAM_HOOK_RATE = (2, 60)
    for guess in ("guess-1", "guess-2"):
        assert client.post(path, {"name": guess}).status_code == 403
    refused = client.post(path, {"name": scheduled_show.stream_key})  # even the right key, from here
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert refused.json() == {
        "code": "rate_limited",
        "message": "Too many stream callbacks from this address: at most 2 every 60 seconds. "
        "Try again in a little while.",
    }
    assert Show.objects.get(pk=scheduled_show.pk).status == Show.Status.SCHEDULED

    # The media server's own address is counted apart from the guesser's.
    other = client.post("/streams/on_publish", {"name": scheduled_show.stream_key}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 200 and other.json()["status"] == "live"
    _window_passes()
    assert client.post("/streams/on_update", {"name": scheduled_show.stream_key}).status_code == 200


# --- Payment webhooks --------------------------------------------------------------------------------


def test_payment_webhooks_over_the_per_ip_limit_get_429_and_record_nothing(
    client,
    pending_order,  # noqa: F811 - the fixture imported above
    settings,
):
    settings.LIVEMARKET_PAYMENT_WEBHOOK_RATE = (1, 60)
    reference = pending_order.payments.get().reference
    unknown = {"id": "evt_a", "type": "payment.succeeded", "reference": "nobody"}
    assert post_webhook(client, unknown).status_code == 200
    paid = {"id": "evt_b", "type": "payment.succeeded", "reference": reference, "amount": "63.00"}
    refused = post_webhook(client, paid)
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert refused.json()["code"] == "rate_limited"
    assert refused.json()["message"].startswith("Too many webhooks from this address: at most 1 every 60")
    assert not PaymentWebhookEvent.objects.filter(event_id="evt_b").exists()
    assert Order.objects.get(pk=pending_order.pk).status == Order.Status.PENDING_PAYMENT

    body = json.dumps(paid).encode()
    from orders.payments.test_gateway import SIGNATURE_HEADER, sign_webhook

    header = f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}"
    other_ip = client.post(
        "/payments/webhooks/test/",
        data=body,
        content_type="application/json",
        REMOTE_ADDR="10.9.8.7",
        **{header: sign_webhook(body)},
    )
    assert other_ip.status_code == 200 and other_ip.json()["result"] == "order paid"
    _window_passes()
    assert post_webhook(client, {**unknown, "id": "evt_c"}).status_code == 200


# --- New API keys and webhook endpoints -------------------------------------------------------------


def test_new_api_keys_over_the_per_user_limit_get_a_429_page_and_make_no_key(
    client, merchant, shop, other_merchant, other_shop, settings
):
    settings.LIVEMARKET_CREDENTIAL_CREATE_RATE = (1, 3600)
    url = reverse("admin:shops_apikey_add")
    client.force_login(merchant)
    assert "shown only this once" in client.post(url, {"shop": shop.pk, "name": "one"}).content.decode()
    refused = client.post(url, {"shop": shop.pk, "name": "two"})
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    page = refused.content.decode()
    assert "Too many new API keys and webhook endpoints: at most 1 every 60 minutes." in page
    assert "Nothing was saved" in page
    assert list(ApiKey.objects.filter(shop=shop).values_list("name", flat=True)) == ["one"]
    assert client.get(url).status_code == 200  # the form itself still opens

    client.force_login(other_merchant)  # another merchant and shop are not limited by it
    assert client.post(url, {"shop": other_shop.pk, "name": "theirs"}).status_code == 200
    assert ApiKey.objects.filter(shop=other_shop, name="theirs").exists()


def test_new_webhook_endpoints_over_the_per_user_limit_get_429_in_the_api_and_the_admin(
    client, merchant, shop, other_merchant, other_shop, settings
):
    settings.LIVEMARKET_CREDENTIAL_CREATE_RATE = (1, 3600)
    _, raw = api_key_create(shop=shop, name="tests", created_by=merchant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = {"url": "https://example.com/hook", "events": ["order.paid"]}
    assert api.post("/api/v1/merchant/webhook-endpoints/", body, format="json").status_code == 201
    refused = api.post("/api/v1/merchant/webhook-endpoints/", body, format="json")
    assert refused.status_code == 429 and refused["Retry-After"] == "3600"
    assert refused.json()["code"] == "throttled"
    assert refused.json()["message"].startswith("Too many new API keys and webhook endpoints")
    client.force_login(merchant)  # the admin shares the merchant's budget
    admin_refused = client.post(
        reverse("admin:shops_webhookendpoint_add"),
        {"shop": shop.pk, "url": "https://example.com/other", "events": ["order.paid"], "is_active": "on"},
    )
    assert admin_refused.status_code == 429
    assert WebhookEndpoint.objects.filter(shop=shop).count() == 1

    _, theirs = api_key_create(shop=other_shop, name="tests", created_by=other_merchant)
    other_api = APIClient()
    other_api.credentials(HTTP_AUTHORIZATION=f"Bearer {theirs}")
    assert other_api.post("/api/v1/merchant/webhook-endpoints/", body, format="json").status_code == 201


# --- Wrong API keys -------------------------------------------------------------------------------------


def test_wrong_api_keys_over_the_per_ip_limit_get_429_without_revoking_anything(merchant, shop, settings):
    settings.LIVEMARKET_API_KEY_FAILURE_RATE = (2, 60)
    key, raw = api_key_create(shop=shop, name="tests", created_by=merchant)
    api = APIClient()
    url = "/api/v1/merchant/products/"
    for wrong in (raw[:-1] + "x", "lm_nope_nope"):
        assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code == 401
    refused = api.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")  # even the right key, from this address
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert refused.json()["code"] == "throttled"
    assert refused.json()["message"].startswith(
        "Too many wrong API keys from this address: at most 2 every 60 seconds."
    )
    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="10.4.4.4").status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is None
    _window_passes()
    assert api.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    assert api.get("/api/v1/public/shops/").status_code == 200  # no key: never counted


# --- Chat and bids -----------------------------------------------------------------------------------


def test_chat_over_the_limit_raises_the_exact_message_and_saves_nothing(
    shop, shopper, other_shopper, settings
):
    settings.LIVEMARKET_CHAT_RATE = (2, 10)
    show = show_go_live(show=show_create(shop=shop, title="Talk", scheduled_start=timezone.now()))
    for n in range(2):
        chat_post(show=show, user=shopper, text=f"hi {n}")
    with pytest.raises(RateLimited) as refused:
        chat_post(show=show, user=shopper, text="one too many")
    assert (refused.value.code, refused.value.message) == (
        "rate_limited",
        "Slow down: at most 2 messages every 10 seconds.",
    )
    assert not ChatMessage.objects.filter(text="one too many").exists()
    chat_post(show=show, user=other_shopper, text="my turn")  # another viewer is not limited
    _window_passes()
    assert chat_post(show=show, user=shopper, text="back again").pk


def test_bids_by_post_over_the_limit_get_429_json_and_change_no_lot(
    client, shop, merchant, variant, settings
):
    settings.LIVEMARKET_BID_RATE = (1, 10)
    show = show_go_live(show=show_create(shop=shop, title="Bids", scheduled_start=timezone.now()))
    lot = lot_start(show=show, user=merchant, variant_id=variant.pk, starting_price="10.00")
    url = reverse("lot_bid", kwargs={"show_id": show.pk, "lot_id": lot.pk})

    def bid(user, amount):
        client.force_login(user)
        return client.post(url, json.dumps({"amount": amount}), content_type="application/json")

    ada, bob = make_bidder("ada"), make_bidder("bob")
    assert bid(ada, "10.00").status_code == 200
    before = (Bid.objects.count(), Lot.objects.values_list("current_price", "leader_id").get(pk=lot.pk))
    refused = bid(ada, "50.00")
    assert refused.status_code == 429
    assert refused.json() == {
        "code": "rate_limited",
        "message": "Slow down: at most 1 bids every 10 seconds.",
    }
    assert (
        Bid.objects.count(),
        Lot.objects.values_list("current_price", "leader_id").get(pk=lot.pk),
    ) == before
    assert bid(bob, "11.00").status_code == 200  # another bidder is not limited by Ada's bids
    _window_passes()
    assert bid(ada, "12.00").json()["leading"] is True


@pytest.mark.django_db(transaction=True)
async def test_over_the_limit_in_the_room_chat_and_bids_get_the_exact_error_event_and_change_nothing(
    shop, merchant, variant, settings
):
    from asgiref.sync import sync_to_async
    from django.db import connections

    from tests.shows.test_consumer_room import _connect, _receive_until

    settings.LIVEMARKET_CHAT_RATE = (1, 10)
    settings.LIVEMARKET_BID_RATE = (1, 10)

    def setup():
        show = show_go_live(show=show_create(shop=shop, title="Room", scheduled_start=timezone.now()))
        lot = lot_start(show=show, user=merchant, variant_id=variant.pk, starting_price="10.00")
        return show, lot, make_bidder("ada"), make_bidder("bob")

    show, lot, ada, bob = await sync_to_async(setup)()
    mine, theirs = await _connect(show, ada), await _connect(show, bob)
    try:
        await mine.send_json_to({"action": "chat", "text": "first"})
        assert (await _receive_until(mine, "chat"))["text"] == "first"
        await mine.send_json_to({"action": "chat", "text": "second"})
        chat_refused = await _receive_until(mine, "error")
        await mine.send_json_to({"action": "bid", "lot_id": lot.pk, "amount": "10.00"})
        assert (await _receive_until(mine, "bid_placed"))["leading"] is True
        await mine.send_json_to({"action": "bid", "lot_id": lot.pk, "amount": "40.00"})
        bid_refused = await _receive_until(mine, "error")
        await theirs.send_json_to({"action": "chat", "text": "bob is fine"})
        seen = [(await _receive_until(theirs, "chat"))["text"] for _ in range(2)]  # Ada's "first", then his
        assert seen[-1] == "bob is fine"
        await theirs.send_json_to({"action": "bid", "lot_id": lot.pk, "amount": "11.00"})
        assert (await _receive_until(theirs, "bid_placed"))["leading"] is True
    finally:
        await mine.disconnect()
        await theirs.disconnect()
    assert chat_refused == {
        "type": "error",
        "code": "rate_limited",
        "message": "Slow down: at most 1 messages every 10 seconds.",
    }
    assert bid_refused == {
        "type": "error",
        "code": "rate_limited",
        "message": "Slow down: at most 1 bids every 10 seconds.",
    }

    def after():
        texts = list(ChatMessage.objects.filter(show=show).order_by("pk").values_list("text", flat=True))
        amounts = list(Bid.objects.filter(lot=lot, user=ada).values_list("amount", flat=True))
        return texts, [str(a) for a in amounts]

    assert await sync_to_async(after)() == (["first", "bob is fine"], ["10.00"])
    await sync_to_async(connections.close_all)()


# --- The table in docs/reliability.md ---------------------------------------------------------------


def test_every_reliability_row_names_a_test_that_exists():
    import importlib

    from tests.security.limits import reliability_rows

    rows = reliability_rows()
    assert len(rows) == len({row["surface"] for row in rows}) >= 12
    for row in rows:
        assert set(row) == {"surface", "limit", "response", "test"} and all(row.values()), row
        path, name = row["test"].split("::")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert callable(getattr(module, name, None)), row["test"]
