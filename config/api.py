"""The REST API's shared machinery: API-key authentication, error bodies, pagination and throttling.

Every error the API returns has one shape, `{"code": ..., "message": ..., "fields": {...}}`: DRF's own
errors (validation, 401/403/404/405/415, throttling, parse errors) and the apps' domain exceptions,
which are mapped to 4xx here and nowhere else.
"""

import io
import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, parsers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from catalog.exceptions import CatalogError, InsufficientStock, StockBelowAllocated, StockFeedError
from config import jsonsafe
from config.ratelimit import client_ip, over_limit, rate, rate_limit_count, too_many_message
from orders.exceptions import CartError, IllegalTransition, OrderError, PaymentDeclined, RefundError
from shops.apikeys import InvalidApiKey, api_key_check
from shops.exceptions import ShopError
from shops.idempotency import IdempotencyConflict
from shops.models import ApiKey
from shows.exceptions import NotAllowed, RateLimited, ShowError

logger = logging.getLogger(__name__)


# --- Authentication ------------------------------------------------------------------------------


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer lm_<prefix>_<secret>` or `X-Api-Key: lm_...`. The request acts as the
    key's maker, and `request.auth` is the ApiKey, which pins every query to the key's shop."""

    def authenticate(self, request):
        raw = request.META.get("HTTP_X_API_KEY", "")
        if not raw:
            header = request.META.get("HTTP_AUTHORIZATION", "")
            scheme, _, credentials = header.partition(" ")
            if scheme.lower() != "bearer":
                return None
            raw = credentials
        # Wrong keys are counted per caller IP (LIVEMARKET_API_KEY_FAILURE_RATE); past the limit every
        # key from that address gets a 429, before any lookup, until the window passes. No key is
        # revoked and nothing is written, so the right key works again afterwards.
        failures = f"api-key-failed:{client_ip(request)}"
        limit, window = rate("LIVEMARKET_API_KEY_FAILURE_RATE")
        if rate_limit_count(key=failures) >= limit:
            raise exceptions.Throttled(
                wait=window, detail=too_many_message(limit, window, "wrong API keys from this address")
            )
        try:
            if not raw.strip():
                raise InvalidApiKey("Empty API key.")
            key = api_key_check(raw)
        except InvalidApiKey as error:
            over_limit(setting="LIVEMARKET_API_KEY_FAILURE_RATE", key=failures)
            raise exceptions.AuthenticationFailed(str(error)) from None
        return key.created_by, key

    def authenticate_header(self, request):
        return 'Bearer realm="livemarket"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "lm_<prefix>_<secret>",
            "description": "A shop's API key, made in the admin (also accepted as `X-Api-Key`).",
        }


def principal_label(request) -> str | None:
    """Who is calling, for idempotency keys and throttles: `key:<id>`, `user:<id>` or None."""
    if isinstance(request.auth, ApiKey):
        return f"key:{request.auth.pk}"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


# --- Pagination and throttling ------------------------------------------------------------------


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class PrincipalRateThrottle(SimpleRateThrottle):
    """One budget per API key, per signed-in user, or per IP address (anonymous), with the rates in
    `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` (`api_key`, `user`, `anon`). Counts live in the cache
    (Redis in production), so they hold across processes."""

    def __init__(self):  # the scope is chosen per request, not per class
        self.rate = None

    def allow_request(self, request, view):
        principal = principal_label(request)
        if principal is None:
            self.scope, self.ident = "anon", self.get_ident(request)
        else:
            self.scope = "api_key" if principal.startswith("key:") else "user"
            self.ident = principal
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.ident}


# --- Parsers: bodies are bounded before they are read (config/jsonsafe.py) ----------------------------


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The body is too large."


def _read_bounded(stream) -> bytes:
    limit = jsonsafe.max_bytes()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(jsonsafe.too_large(limit).message)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser through config.jsonsafe: bounded size and depth, valid Unicode, numbers in
    range. A refusal is a 400 `parse_error` (413 `too_large`) in the API's error shape."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return jsonsafe.loads(_read_bounded(stream))
        except jsonsafe.JSONRefused as exc:
            if exc.code == "too_large":
                raise PayloadTooLarge(exc.message) from None
            raise exceptions.ParseError(exc.message) from None


class FormParser(parsers.FormParser):
    """DRF's urlencoded parser, with the same size bound as JSON (DRF's reads the whole body)."""

    def parse(self, stream, media_type=None, parser_context=None):
        return super().parse(io.BytesIO(_read_bounded(stream)), media_type, parser_context)


# --- Errors ----------------------------------------------------------------------------------------


class DomainError(exceptions.APIException):
    def __init__(self, *, status_code: int, code: str, message: str):
        self.status_code = status_code
        super().__init__(detail=message, code=code)


def _domain_status(exc) -> tuple[int, str] | None:
    """(HTTP status, code) for a domain exception, or None when it is not one."""
    if isinstance(exc, InsufficientStock):
        return status.HTTP_409_CONFLICT, "insufficient_stock"
    if isinstance(exc, StockBelowAllocated):
        return status.HTTP_409_CONFLICT, "stock_below_allocated"
    if isinstance(exc, StockFeedError):
        return status.HTTP_409_CONFLICT, "stock_feed_error"
    if isinstance(exc, CatalogError):
        return status.HTTP_409_CONFLICT, "catalog_error"
    if isinstance(exc, PaymentDeclined):
        return status.HTTP_402_PAYMENT_REQUIRED, "payment_declined"
    if isinstance(exc, RefundError):
        return status.HTTP_409_CONFLICT, "refund_refused"
    if isinstance(exc, IllegalTransition):
        return status.HTTP_409_CONFLICT, "illegal_transition"
    if isinstance(exc, OrderError):
        return status.HTTP_409_CONFLICT, "order_error"
    if isinstance(exc, CartError):
        return status.HTTP_409_CONFLICT, "unavailable"
    if isinstance(exc, NotAllowed):
        return status.HTTP_403_FORBIDDEN, exc.code
    if isinstance(exc, RateLimited):
        return status.HTTP_429_TOO_MANY_REQUESTS, exc.code
    if isinstance(exc, ShowError):
        return (status.HTTP_400_BAD_REQUEST if exc.code == "invalid" else status.HTTP_409_CONFLICT), exc.code
    if isinstance(exc, ShopError):
        return status.HTTP_409_CONFLICT, "shop_error"
    if isinstance(exc, IdempotencyConflict):
        if exc.code == "idempotency_in_progress":
            return status.HTTP_409_CONFLICT, exc.code
        return status.HTTP_422_UNPROCESSABLE_ENTITY, exc.code
    return None


def _domain_message(exc) -> str:
    return getattr(exc, "message", None) or str(exc) or exc.__class__.__name__


def _flatten(detail):
    """DRF's nested ErrorDetail structures as plain strings, keeping their shape."""
    if isinstance(detail, dict):
        return {str(k): _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def exception_handler(exc, context):
    from rest_framework.views import exception_handler as drf_exception_handler  # it imports this module

    mapped = _domain_status(exc)
    if isinstance(exc, CatalogError) and getattr(exc, "field", None):
        exc = exceptions.ValidationError({exc.field: [str(exc)]})
    elif mapped is not None:
        exc = DomainError(status_code=mapped[0], code=mapped[1], message=_domain_message(exc))
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent):  # multipart fields over Django's caps
        exc = PayloadTooLarge()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            _flatten(exc.detail)
            if isinstance(exc.detail, dict)
            else {"non_field_errors": _flatten(exc.detail)}
        )
        general = fields.pop("non_field_errors", None)
        message = " ".join(general) if general else "Some fields are not valid; see `fields`."
        response.data = error_body("invalid", message, fields)
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
    elif isinstance(exc, exceptions.NotFound):
        code = "not_found"
    response.data = error_body(str(code), str(_flatten(detail)))
    return response
