"""API keys: made and revoked here, checked on every API request.

A key reads `lm_<prefix>_<secret>`. The prefix is stored in clear to find the row (and to let a
merchant tell keys apart); the secret only as SHA-256, which is enough for 256 random bits and
cheap on every request. The full key exists only in the return value of `api_key_create`.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .models import ApiKey, Shop, User
from .selectors import user_is_shop_staff

KEY_PREFIX = "lm"
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, shop: Shop, name: str, created_by: User) -> tuple[ApiKey, str]:
    """A new key for `shop`; returns the row and the full key, which is never available again."""
    if not (created_by.is_superuser or user_is_shop_staff(user=created_by, shop_id=shop.pk)):
        raise PermissionError("only the shop's staff can make its keys")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        shop=shop,
        name=name.strip()[:80] or "API key",
        prefix=prefix,
        secret_hash=_hash(secret),
        created_by=created_by,
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_rename(*, key: ApiKey, name: str) -> ApiKey:
    key.name = name.strip()[:80] or key.name
    ApiKey.objects.filter(pk=key.pk).update(name=key.name)
    return key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke at once; revoking twice keeps the first time."""
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])
    return key


def api_keys_revoke(*, key_ids: list[int]) -> int:
    return ApiKey.objects.filter(pk__in=key_ids, revoked_at__isnull=True).update(revoked_at=timezone.now())


class InvalidApiKey(Exception):
    pass


def api_key_check(raw: str) -> ApiKey:
    """The active key for `raw`, with its shop and maker; raises InvalidApiKey (never says which part
    was wrong). A key works only while its maker still works for the shop (or is ops)."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        raise InvalidApiKey("Malformed API key.")
    key = ApiKey.objects.select_related("shop", "created_by").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        raise InvalidApiKey("Unknown API key.")
    if key.revoked_at is not None:
        raise InvalidApiKey("This API key has been revoked.")
    maker = key.created_by
    if (
        maker is None
        or not maker.is_active
        or not (maker.is_superuser or user_is_shop_staff(user=maker, shop_id=key.shop_id))
    ):
        raise InvalidApiKey("The person who made this key no longer works for the shop; make a new key.")
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        with transaction.atomic():
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
