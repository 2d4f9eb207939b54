"""The built-in test gateway: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, and
4000 0000 0000 0341 can be saved but every later charge to it is declined (as Stripe's test card).

Its webhooks are signed like Stripe's: header `Livemarket-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>" with LIVEMARKET_PAYMENT_WEBHOOK_SECRET>`, accepted for five minutes.
"""

import hashlib
import hmac
import re
import secrets
import time
from decimal import Decimal, InvalidOperation

from django.conf import settings

from config import jsonsafe

from ..exceptions import InvalidWebhook
from .base import GatewayResult, PaymentGateway, WebhookEvent

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
SAVES_THEN_DECLINES_CARD = "4000000000000341"
_SAVED_OK, _SAVED_DECLINES = "tok_test_ok_", "tok_test_dc_"
SIGNATURE_HEADER = "Livemarket-Signature"
TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
EVENT_TYPES = {"payment.succeeded", "payment.failed", "refund.succeeded"}


def normalise_card(card_number: str) -> str:
    return "".join(ch for ch in card_number if ch.isdigit())


def sign_webhook(body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """The header value for `body` (used by tests and by anyone simulating the provider)."""
    secret = secret or settings.LIVEMARKET_PAYMENT_WEBHOOK_SECRET
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class TestGateway(PaymentGateway):
    __test__ = False  # not a pytest class
    name = "test"

    def authorize(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> GatewayResult:
        digits = normalise_card(card_number)
        last4 = digits[-4:]
        if digits == DECLINE_CARD:
            return GatewayResult(ok=False, message="Your card was declined.", card_last4=last4)
        if digits != SUCCESS_CARD:
            return GatewayResult(
                ok=False, message="Test mode: use card 4242 4242 4242 4242.", card_last4=last4
            )
        reference = "test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
        return GatewayResult(ok=True, reference=reference, card_last4=last4)

    def save_card(self, *, card_number: str) -> GatewayResult:
        digits = normalise_card(card_number)
        last4 = digits[-4:]
        if digits == DECLINE_CARD:
            return GatewayResult(ok=False, message="Your card was declined.", card_last4=last4)
        if digits not in (SUCCESS_CARD, SAVES_THEN_DECLINES_CARD):
            return GatewayResult(
                ok=False, message="Test mode: use card 4242 4242 4242 4242.", card_last4=last4
            )
        prefix = _SAVED_OK if digits == SUCCESS_CARD else _SAVED_DECLINES
        return GatewayResult(ok=True, reference=prefix + secrets.token_hex(8), card_last4=last4)

    def authorize_saved(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        if token.startswith(_SAVED_DECLINES):
            return GatewayResult(ok=False, message="Your card was declined.")
        if not token.startswith(_SAVED_OK):
            return GatewayResult(ok=False, message="Unknown saved card.")
        reference = "test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
        return GatewayResult(ok=True, reference=reference)

    def capture(self, *, reference: str, amount: Decimal) -> GatewayResult:
        return GatewayResult(ok=True, reference=reference)

    def void(self, *, reference: str) -> GatewayResult:
        return GatewayResult(ok=True, reference=reference)

    def refund(self, *, reference: str, amount: Decimal) -> GatewayResult:
        return GatewayResult(ok=True, reference=f"re_{reference}_{amount}")

    def parse_webhook(self, *, body: bytes, headers) -> WebhookEvent:
        header = headers.get(SIGNATURE_HEADER, "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        # Unix seconds (ASCII digits, not 400 of them) and a hex digest: anything else is malformed.
        if not _TIMESTAMP.fullmatch(parts.get("t", "")) or not _DIGEST.fullmatch(parts.get("v1", "")):
            raise InvalidWebhook("missing or malformed signature header")
        timestamp = int(parts["t"])
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidWebhook("signature timestamp too old")
        expected = sign_webhook(body, timestamp=timestamp).split("v1=", 1)[1]
        if not hmac.compare_digest(expected, parts["v1"]):
            raise InvalidWebhook("bad signature")
        try:
            payload = jsonsafe.loads(body)
            event_type, event_id, reference = payload["type"], str(payload["id"]), str(payload["reference"])
            amount = Decimal(str(payload["amount"])) if payload.get("amount") is not None else None
        except (ValueError, KeyError, TypeError, InvalidOperation):
            raise InvalidWebhook("malformed body") from None
        if any(len(text) > 100 or "\x00" in text for text in (event_id, reference)):
            raise InvalidWebhook("malformed body")  # longer than any id we issue, or unstorable
        if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
            raise InvalidWebhook(f"unknown event type {event_type!r}")
        return WebhookEvent(id=event_id, type=event_type, reference=reference, amount=amount, raw=payload)
