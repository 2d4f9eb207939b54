"""Reads for shops and who belongs to them."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db.models import QuerySet
from django.http import Http404
from django.utils.crypto import constant_time_compare

from .models import Follow, Shop, ShopMembership, User, WebhookDelivery, WebhookEndpoint


def shop_ids_for_user(user) -> set[int]:
    """Shops whose admin `user` works in (empty for anonymous users and shoppers)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, "_lm_shop_ids", None)
    if cached is None:
        cached = set(ShopMembership.objects.filter(user=user).values_list("shop_id", flat=True))
        user._lm_shop_ids = cached
    return cached


def user_is_shop_staff(*, user, shop_id: int) -> bool:
    return shop_id in shop_ids_for_user(user)


def shops_active() -> QuerySet[Shop]:
    return Shop.objects.filter(status=Shop.Status.ACTIVE)


def shop_get_active(*, slug: str) -> Shop:
    """The storefront's shop, or 404: a suspended shop is gone from the storefront."""
    shop = shops_active().filter(slug=slug).first()
    if shop is None:
        raise Http404("No such shop")
    return shop


def shop_is_followed(*, user, shop: Shop) -> bool:
    return user.is_authenticated and Follow.objects.filter(user=user, shop=shop).exists()


def shop_follower_count(*, shop: Shop) -> int:
    return Follow.objects.filter(shop=shop).count()


def webhook_endpoints_for_merchant() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.select_related("shop")


def webhook_deliveries_for_merchant() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("endpoint")


def session_user_is_current(*, session_key: str | None, user) -> bool:
    """Whether a login's session still stands: not logged out (the session is gone) and no password
    change since (Django's session auth hash no longer matches). Long-lived sockets call this on
    every action, because they keep the user they had at the handshake."""
    if not user.is_authenticated:
        return True
    if not session_key:
        return False
    data = import_module(settings.SESSION_ENGINE).SessionStore(session_key).load()
    if str(data.get(SESSION_KEY)) != str(user.pk) or not data.get(BACKEND_SESSION_KEY):
        return False
    current = User.objects.filter(pk=user.pk, is_active=True).first()
    return current is not None and constant_time_compare(
        data.get(HASH_SESSION_KEY, ""), current.get_session_auth_hash()
    )
