"""`Idempotency-Key` bookkeeping for API writes (after Stripe's).

The first request with a key inserts a row (a unique constraint per caller and key), runs, and
stores its response. A retry with the same key and the same request gets that stored response back;
the same key with a different request is refused; a retry that arrives while the first is still
running is refused with "in progress" rather than run twice. A response that is a server error is not
kept, so the caller may retry it.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# A record still "started" after this long belongs to a request that died: the key may be reused.
STALE_AFTER = timedelta(minutes=5)
KEEP_FOR = timedelta(hours=24)


@dataclass
class Replay:
    status: int
    body: object


class IdempotencyConflict(Exception):
    """code: `idempotency_key_reused` (another request) or `idempotency_in_progress`."""

    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


def idempotency_begin(
    *, principal: str, key: str, method: str, path: str, request_hash: str
) -> IdempotencyRecord | Replay:
    """Claim `key` for this request, or return the stored response of the request that had it."""
    fingerprint = {"method": method, "path": path[:500], "request_hash": request_hash}
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(principal=principal, key=key, **fingerprint)
    except IntegrityError:
        pass
    with transaction.atomic():
        record = IdempotencyRecord.objects.select_for_update().filter(principal=principal, key=key).first()
        if record is None:  # expired and purged in between: claim it afresh
            return IdempotencyRecord.objects.create(principal=principal, key=key, **fingerprint)
        if (record.method, record.path, record.request_hash) != tuple(fingerprint.values()):
            raise IdempotencyConflict(
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key.",
            )
        if record.state == IdempotencyRecord.State.DONE:
            return Replay(status=record.response_status, body=record.response_body)
        if timezone.now() - record.created_at < STALE_AFTER:
            raise IdempotencyConflict(
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            )
        IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now())
        return record


def idempotency_finish(*, record: IdempotencyRecord, status: int, body) -> None:
    if status >= 500:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.DONE, response_status=status, response_body=body
    )


def idempotency_abandon(*, record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.STARTED).delete()


def idempotency_purge_expired() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return deleted
