"""The built-in test gateway: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined, and
4000 0000 0000 0341 can be saved but every later charge to it is declined (as Stripe's test card).

It behaves like a real provider towards idempotency keys: what it did is kept in a small SQLite ledger
(LIVEMARKET_TEST_GATEWAY_LEDGER, outside the project's database and its transactions, shared by every
process on the machine), so the same key gives the first answer again, a capture or refund happens once
however often it is sent, and `lookup` tells a recovery job what a crashed process had done.

Its webhooks are signed like Stripe's: header `Livemarket-Signature: t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>" with LIVEMARKET_PAYMENT_WEBHOOK_SECRET>`, accepted for five minutes.
"""

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path

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


class Ledger:
    """The provider's side: authorisations by key, and capture/void/refund operations by key. Each
    call is one `BEGIN IMMEDIATE` transaction, so concurrent processes see one order of events."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS authorization_ (key TEXT PRIMARY KEY, reference TEXT UNIQUE,"
        " status TEXT, amount TEXT, currency TEXT, card_last4 TEXT, message TEXT,"
        " captured TEXT DEFAULT '0', refunded TEXT DEFAULT '0', created REAL)",
        "CREATE TABLE IF NOT EXISTS operation (key TEXT PRIMARY KEY, kind TEXT, reference TEXT,"
        " amount TEXT, ok INTEGER, result TEXT, message TEXT, created REAL)",
    )

    def __init__(self, path: str | None = None):
        self.path = Path(path or settings.LIVEMARKET_TEST_GATEWAY_LEDGER)

    @contextmanager
    def transaction(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            # One file, no WAL: tests snapshot and restore it with the database. A process that is
            # killed loses nothing with synchronous off (the writes are in the OS's cache already).
            db.execute("PRAGMA synchronous=OFF")
            for statement in self.SCHEMA:
                db.execute(statement)
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def authorizations(self, *, key_prefix: str) -> list[dict]:
        """Every authorisation whose key starts with `key_prefix` (tests count captures with it)."""
        with self.transaction() as db:
            rows = db.execute(
                "SELECT * FROM authorization_ WHERE substr(key, 1, ?) = ? ORDER BY created",
                (len(key_prefix), key_prefix),
            ).fetchall()
        return [dict(row) for row in rows]

    def operations(self, *, reference: str) -> list[dict]:
        with self.transaction() as db:
            rows = db.execute(
                "SELECT * FROM operation WHERE reference = ? ORDER BY created", (reference,)
            ).fetchall()
        return [dict(row) for row in rows]


def _result(row) -> GatewayResult:
    return GatewayResult(
        ok=row["status"] in ("authorized", "captured"),
        reference=row["reference"] or "",
        message=row["message"] or "",
        card_last4=row["card_last4"] or "",
        status=row["status"],
    )


class TestGateway(PaymentGateway):
    __test__ = False  # not a pytest class
    name = "test"

    def __init__(self):
        self.ledger = Ledger()

    def _authorize(
        self, *, key: str, amount: Decimal, currency: str, outcome: GatewayResult
    ) -> GatewayResult:
        """Record the first answer under `key`; a repeated key gets that answer back."""
        with self.ledger.transaction() as db:
            row = db.execute("SELECT * FROM authorization_ WHERE key = ?", (key,)).fetchone()
            if row is None:
                status = "authorized" if outcome.ok else "declined"
                reference = "test_" + secrets.token_hex(10) if outcome.ok else ""
                db.execute(
                    "INSERT INTO authorization_ (key, reference, status, amount, currency, card_last4,"
                    " message, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        reference or None,
                        status,
                        str(amount),
                        currency,
                        outcome.card_last4,
                        outcome.message,
                        time.time(),
                    ),
                )
                row = db.execute("SELECT * FROM authorization_ WHERE key = ?", (key,)).fetchone()
        return _result(row)

    def authorize(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> GatewayResult:
        digits = normalise_card(card_number)
        last4 = digits[-4:]
        if digits == DECLINE_CARD:
            outcome = GatewayResult(ok=False, message="Your card was declined.", card_last4=last4)
        elif digits != SUCCESS_CARD:
            outcome = GatewayResult(
                ok=False, message="Test mode: use card 4242 4242 4242 4242.", card_last4=last4
            )
        else:
            outcome = GatewayResult(ok=True, card_last4=last4)
        return self._authorize(key=idempotency_key, amount=amount, currency=currency, outcome=outcome)

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
            outcome = GatewayResult(ok=False, message="Your card was declined.")
        elif not token.startswith(_SAVED_OK):
            outcome = GatewayResult(ok=False, message="Unknown saved card.")
        else:
            outcome = GatewayResult(ok=True)
        return self._authorize(key=idempotency_key, amount=amount, currency=currency, outcome=outcome)

    def _operation(
        self, *, kind: str, reference: str, amount: Decimal | None, key: str, apply
    ) -> GatewayResult:
        """Run `apply(db, authorisation row)` once per key; a repeated key gets the first answer."""
        with self.ledger.transaction() as db:
            done = db.execute("SELECT * FROM operation WHERE key = ?", (key,)).fetchone()
            if done is None:
                row = db.execute("SELECT * FROM authorization_ WHERE reference = ?", (reference,)).fetchone()
                ok, result, message = (
                    (False, "", "Unknown payment reference.") if row is None else apply(db, row)
                )
                db.execute(
                    "INSERT INTO operation (key, kind, reference, amount, ok, result, message, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key,
                        kind,
                        reference,
                        None if amount is None else str(amount),
                        int(ok),
                        result,
                        message,
                        time.time(),
                    ),
                )
                done = db.execute("SELECT * FROM operation WHERE key = ?", (key,)).fetchone()
        return GatewayResult(
            ok=bool(done["ok"]), reference=done["result"] or "", message=done["message"] or ""
        )

    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> GatewayResult:
        def apply(db, row):
            if row["status"] == "captured":
                return True, reference, ""
            if row["status"] != "authorized":
                return False, "", f"Cannot capture a {row['status']} payment."
            if Decimal(amount) > Decimal(row["amount"]):
                return False, "", "Capture exceeds the authorised amount."
            db.execute(
                "UPDATE authorization_ SET status = 'captured', captured = ? WHERE reference = ?",
                (str(amount), reference),
            )
            return True, reference, ""

        return self._operation(
            kind="capture", reference=reference, amount=amount, key=idempotency_key, apply=apply
        )

    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        def apply(db, row):
            if row["status"] == "voided":
                return True, reference, ""
            if row["status"] != "authorized":
                return False, "", f"Cannot void a {row['status']} payment."
            db.execute("UPDATE authorization_ SET status = 'voided' WHERE reference = ?", (reference,))
            return True, reference, ""

        return self._operation(
            kind="void", reference=reference, amount=None, key=idempotency_key, apply=apply
        )

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> GatewayResult:
        def apply(db, row):
            refunded = Decimal(row["refunded"]) + Decimal(amount)
            if row["status"] != "captured" or refunded > Decimal(row["captured"]):
                return False, "", "Refund exceeds what was captured."
            db.execute(
                "UPDATE authorization_ SET refunded = ? WHERE reference = ?", (str(refunded), reference)
            )
            return True, "re_" + secrets.token_hex(10), ""

        return self._operation(
            kind="refund", reference=reference, amount=amount, key=idempotency_key, apply=apply
        )

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        with self.ledger.transaction() as db:
            row = db.execute("SELECT * FROM authorization_ WHERE key = ?", (idempotency_key,)).fetchone()
        return None if row is None else _result(row)

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
