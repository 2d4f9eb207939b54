"""Base views and permissions for the API: who may call what, and the shop scoping of every query.

Merchant views see only rows of the shops the caller may act for: the key's one shop, or the shops a
signed-in merchant works for (ops see all). Another shop's object is simply not in the queryset, so it
is a 404 like a row that does not exist. Every POST goes through Idempotency-Key handling here.
"""

import hashlib
import json
from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import permissions, serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from shops.idempotency import (
    MAX_KEY_LENGTH,
    Replay,
    idempotency_abandon,
    idempotency_begin,
    idempotency_finish,
)
from shops.models import ApiKey, Shop
from shops.selectors import shop_ids_for_user

from .api import principal_label

IDEMPOTENCY_HEADER = "Idempotency-Key"


def merchant_shop_ids(request) -> set[int] | None:
    """Shops the caller may act for; None means every shop (ops staff signed in)."""
    if isinstance(request.auth, ApiKey):
        return {request.auth.shop_id}
    user = request.user
    if user is None or not user.is_authenticated:
        return set()
    if user.is_superuser:
        return None
    return shop_ids_for_user(user)


def scope_to_merchant(queryset: QuerySet, *, request, shop_path: str) -> QuerySet:
    shop_ids = merchant_shop_ids(request)
    if shop_ids is None:
        return queryset
    return queryset.filter(**{f"{shop_path}__in": shop_ids})


class IsMerchant(permissions.BasePermission):
    message = "This needs a shop's API key, or signing in as the shop's staff."

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return True
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or shop_ids_for_user(user)))


class IsShopper(permissions.BasePermission):
    """A signed-in person acting for themselves: an API key speaks for a shop, not a shopper."""

    message = "Sign in to use your cart, orders and reminders (API keys cannot)."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and not isinstance(request.auth, ApiKey))


def _request_fingerprint(request) -> str:
    """A hash of what the request asks for: path, query and body (uploaded files by content)."""
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.get_full_path().encode() + b"\n")
    data = request.data
    items = sorted(data.lists()) if hasattr(data, "lists") else data
    for key in sorted(request.FILES):
        for upload in request.FILES.getlist(key):
            file_digest = hashlib.sha256()
            for chunk in upload.chunks() if isinstance(upload, UploadedFile) else [b""]:
                file_digest.update(chunk)
            upload.seek(0)
            digest.update(f"file:{key}:{file_digest.hexdigest()}\n".encode())
    digest.update(json.dumps(items, sort_keys=True, default=str).encode())
    return digest.hexdigest()


class _Replayed(Exception):
    def __init__(self, replay: Replay):
        self.replay = replay


class ApiView(APIView):
    """Honours `Idempotency-Key` on every POST, after authentication, permissions and throttling."""

    def initial(self, request, *args, **kwargs):
        self._idempotency_record = None
        super().initial(request, *args, **kwargs)
        key = request.headers.get(IDEMPOTENCY_HEADER)
        principal = principal_label(request)
        if request.method != "POST" or key is None or principal is None:
            return
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise serializers.ValidationError(
                {IDEMPOTENCY_HEADER: [f"Use 1 to {MAX_KEY_LENGTH} printable characters, e.g. a UUID."]}
            )
        outcome = idempotency_begin(
            principal=principal,
            key=key,
            method=request.method,
            path=request.path,
            request_hash=_request_fingerprint(request),
        )
        if isinstance(outcome, Replay):
            raise _Replayed(outcome)
        self._idempotency_record = outcome

    def handle_exception(self, exc):
        if isinstance(exc, _Replayed):
            response = Response(exc.replay.body, status=exc.replay.status)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            return super().handle_exception(exc)
        except Exception:
            record = getattr(self, "_idempotency_record", None)
            if record is not None:
                idempotency_abandon(record=record)
                self._idempotency_record = None
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            body = None
            if isinstance(response, Response) and response.data is not None:
                body = json.loads(JSONRenderer().render(response.data))
                # Secrets shown once (a new show's stream key) are not kept for replays: null there.
                for name in getattr(response, "secret_fields", ()):
                    if isinstance(body, dict) and name in body:
                        body[name] = None
            idempotency_finish(record=record, status=response.status_code, body=body)
        return response


class ApiGenericViewSet(ApiView, viewsets.GenericViewSet):
    def validated(self, serializer_class, *, partial: bool = False, data=None) -> dict:
        """Check the request body with `serializer_class`; returns its validated data (a 400 otherwise)."""
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            partial=partial,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def respond(self, instance, *, status: int = 200) -> Response:
        """The object as the caller sees it after a write: read again through the view's queryset."""
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(fresh).data, status=status)


class MerchantViewSet(ApiGenericViewSet):
    """Rows of the caller's shops only; `shop_path` leads from the model to its Shop."""

    permission_classes = [IsMerchant]
    shop_path = "shop"

    def base_queryset(self) -> QuerySet:
        return self.queryset.all()

    def get_queryset(self):
        return scope_to_merchant(self.base_queryset(), request=self.request, shop_path=self.shop_path)

    def shop_for_write(self, slug: str | None = None) -> Shop:
        """The shop a new row belongs to: the key's shop, or the one shop (or the named shop) the
        signed-in merchant works for."""
        shops = scope_to_merchant(Shop.objects.all(), request=self.request, shop_path="pk")
        if slug:
            shop = shops.filter(slug=slug).first()
            if shop is None:
                raise serializers.ValidationError({"shop": ["No shop of yours has this slug."]})
            return shop
        candidates = list(shops[:2])
        if len(candidates) != 1:
            raise serializers.ValidationError({"shop": ["Say which of your shops (its slug)."]})
        return candidates[0]


class ShopperViewSet(ApiGenericViewSet):
    permission_classes = [IsShopper]


class ScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key that must belong to one of the caller's shops (anything else: 'does not exist')."""

    def __init__(self, *, shop_path: str = "shop", **kwargs):
        self.shop_path = shop_path
        super().__init__(**kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        return scope_to_merchant(queryset, request=self.context["request"], shop_path=self.shop_path)


class _UtcIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return value
        try:
            return value.astimezone(UTC) if timezone.is_aware(value) else timezone.make_aware(value, UTC)
        except (OverflowError, ValueError):
            raise DjangoValidationError("Enter a date and time between years 1 and 9999.") from None


class DateTimeFilter(filters.IsoDateTimeFilter):
    """ISO 8601 with any offset, compared in UTC (PostgreSQL refuses odd offsets such as -23:33)."""

    field_class = _UtcIsoDateTimeField
