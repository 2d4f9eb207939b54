"""Webhooks out: shops register endpoints for order and show events; each event becomes one delivery
per subscribed endpoint, POSTed by a Celery task with a signed body and retried with exponential
backoff until it succeeds or runs out of attempts. Every attempt is logged on the delivery.

Signature (as for the payment webhooks we receive): header
`Livemarket-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
"""

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import WebhookDelivery, WebhookEndpoint, WebhookEvent

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Livemarket-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
# While one worker is sending, nobody else picks the delivery up (a lease, not a held row lock).
LEASE = timedelta(seconds=90)
MAX_BACKOFF = timedelta(hours=6)
USER_AGENT = "Livemarket-Webhooks/1"


# --- Endpoints -----------------------------------------------------------------------------------


def _loopback_allowed() -> bool:
    return settings.LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def webhook_url_validate(url: str) -> str:
    """HTTPS only (plain http only to loopback, and only where the setting allows it, for tests)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not host or parts.scheme not in ("https", "http"):
        raise ValidationError("Give an https:// address.")
    if parts.username or parts.password:
        raise ValidationError("Leave credentials out of the address; verify our signature instead.")
    if parts.scheme == "http" and not (_loopback_allowed() and _is_loopback_host(host)):
        raise ValidationError("Webhooks are sent over HTTPS only; give an https:// address.")
    return url


def _events_validate(events) -> list[str]:
    known = set(WebhookEvent.values)
    chosen = sorted({str(e) for e in events or []})
    unknown = [e for e in chosen if e not in known]
    if unknown or not chosen:
        raise ValidationError(f"Choose one or more of: {', '.join(WebhookEvent.values)}.")
    return chosen


def webhook_endpoint_create(*, shop, url: str, events, is_active: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        shop=shop,
        url=webhook_url_validate(url),
        events=_events_validate(events),
        secret="whsec_" + secrets.token_urlsafe(32),
        is_active=is_active,
    )


def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, url=None, events=None, is_active=None
) -> WebhookEndpoint:
    changes = {}
    if url is not None:
        changes["url"] = webhook_url_validate(url)
    if events is not None:
        changes["events"] = _events_validate(events)
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    if changes:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**changes)
        for name, value in changes.items():
            setattr(endpoint, name, value)
    return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


# --- Emitting ----------------------------------------------------------------------------------


def webhook_event_emit(*, shop_id: int, event: str, data: dict | Callable[[], dict]) -> list[int]:
    """Inside the caller's transaction: one delivery per active endpoint of the shop that wants
    `event`, sent after commit (a rolled-back change sends nothing). `data` may be a callable, so the
    payload is built only when someone listens."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event}")
    endpoints = [
        e for e in WebhookEndpoint.objects.filter(shop_id=shop_id, is_active=True) if event in e.events
    ]
    if not endpoints:
        return []
    body = data() if callable(data) else data
    now = timezone.now()
    event_id = uuid.uuid4()
    payload = json.loads(
        json.dumps(
            {"id": str(event_id), "type": event, "created_at": now, "data": body}, cls=DjangoJSONEncoder
        )
    )
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=e, event_id=event_id, event=event, payload=payload, next_attempt_at=now)
        for e in endpoints
    )
    ids = [d.pk for d in deliveries]
    from .tasks import webhook_deliver_task

    for delivery_id in ids:
        webhook_deliver_task.delay_on_commit(delivery_id)
    return ids


# --- Signing -------------------------------------------------------------------------------------


def webhook_signature(*, secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def webhook_signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver does: recompute the HMAC over `t.body`, compare in constant time, and refuse
    old timestamps (replayed requests)."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = webhook_signature(secret=secret, body=body, timestamp=timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


# --- Delivering ----------------------------------------------------------------------------------


class UnsafeDestination(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a 3xx is a failed delivery, never a hop to another host


def _check_destination(host: str, port: int) -> list[tuple]:
    """The addresses `host` resolves to, once; refused (SSRF) when any is inside our own network:
    private, loopback, link-local, reserved, multicast."""
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise UnsafeDestination(f"cannot resolve {host}: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if address.is_loopback and _loopback_allowed():
            continue
        if not address.is_global or address.is_multicast:
            raise UnsafeDestination(f"{host} resolves to a non-public address")
    return [info[4][:2] for info in infos]


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """Connects to an address `_check_destination` passed, never resolving the name again: a second
    lookup is what DNS rebinding answers with 127.0.0.1. TLS still names the host (SNI, certificate)."""

    def connect(self):
        failure = None
        for address in _check_destination(self.host, self.port):
            try:
                self.sock = socket.create_connection(address, self.timeout, self.source_address)
                return
            except OSError as error:
                failure = error
        raise failure or OSError(f"no address for {self.host}")


class _CheckedHTTPSConnection(http.client.HTTPSConnection, _CheckedHTTPConnection):
    pass  # HTTPSConnection.connect wraps the socket _CheckedHTTPConnection.connect opened


class _CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=ssl.create_default_context())


_opener = urllib.request.build_opener(_NoRedirects, _CheckedHTTPHandler, _CheckedHTTPSHandler)


def _backoff(attempts: int) -> timedelta:
    delay = timedelta(seconds=settings.LIVEMARKET_WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return min(delay, MAX_BACKOFF)


def webhook_delivery_attempt(*, delivery_id: int) -> tuple[str, timedelta | None]:
    """Send one due delivery once. Returns ("succeeded" | "retry" | "failed" | "skipped", delay to
    the next attempt). Safe to call twice at once: only the caller that takes the lease sends."""
    now = timezone.now()
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + LEASE)
    if not taken:
        return "skipped", None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    status_code, error = None, ""
    started = time.monotonic()
    if not endpoint.is_active:
        error = "endpoint disabled"
    else:
        timestamp = int(time.time())
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked (https, or loopback http)
            webhook_url_validate(endpoint.url),
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Livemarket-Event": delivery.event,
                "Livemarket-Delivery": str(delivery.pk),
                "Livemarket-Event-Id": str(delivery.event_id),
                SIGNATURE_HEADER: webhook_signature(secret=endpoint.secret, body=body, timestamp=timestamp),
            },
        )
        try:
            with _opener.open(request, timeout=settings.LIVEMARKET_WEBHOOK_TIMEOUT_SECONDS) as response:
                status_code = response.status
                response.read(1024)
        except urllib.error.HTTPError as failure:
            status_code, error = failure.code, f"HTTP {failure.code}"
        except (urllib.error.URLError, OSError, UnsafeDestination, ValidationError) as failure:
            error = str(getattr(failure, "reason", failure))[:300] or failure.__class__.__name__
    succeeded = status_code is not None and 200 <= status_code < 300
    attempts = delivery.attempts + 1
    entry = {
        "attempt": attempts,
        "at": now.isoformat(),
        "status_code": status_code,
        "error": error,
        "duration_ms": int((time.monotonic() - started) * 1000),
    }
    fields = {
        "attempts": attempts,
        "attempt_log": [*delivery.attempt_log, entry],
        "last_status_code": status_code,
        "last_error": error,
    }
    delay = None
    if succeeded:
        outcome = "succeeded"
        fields.update(
            status=WebhookDelivery.Status.SUCCEEDED, delivered_at=timezone.now(), next_attempt_at=None
        )
    elif attempts >= settings.LIVEMARKET_WEBHOOK_MAX_ATTEMPTS or not endpoint.is_active:
        outcome = "failed"
        fields.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)
    else:
        outcome, delay = "retry", _backoff(attempts)
        fields.update(next_attempt_at=timezone.now() + delay)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    logger.info(
        "webhook %s %s to %s: %s (%s)",
        delivery.pk,
        delivery.event,
        endpoint.url,
        outcome,
        status_code or error,
    )
    return outcome, delay


def webhook_deliveries_due(*, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come (a lost countdown task, a restart): the sweeper's list."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def webhook_deliveries_replay(*, delivery_ids: list[int]) -> int:
    """Send again (same event id, so receivers can tell it is the same event), with a fresh budget of
    attempts; the earlier attempts stay in the log."""
    now = timezone.now()
    count = 0
    for delivery in WebhookDelivery.objects.select_for_update().filter(pk__in=delivery_ids).order_by("pk"):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            next_attempt_at=now,
            attempt_log=[*delivery.attempt_log, {"replayed_at": now.isoformat()}],
        )
        from .tasks import webhook_deliver_task

        webhook_deliver_task.delay_on_commit(delivery.pk)
        count += 1
    return count
