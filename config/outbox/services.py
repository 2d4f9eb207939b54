"""Writing to and draining the outbox. Tasks are idempotent, so a message sent twice (a crash between
sending and deleting its row) is harmless; a message never sent is what this prevents."""

import logging
import socket
import threading
import time
from datetime import datetime
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

# What a broker outage looks like from kombu and redis-py.
try:
    from kombu.exceptions import OperationalError as _KombuOperationalError
except ImportError:  # pragma: no cover
    _KombuOperationalError = OSError
try:
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError
except ImportError:  # pragma: no cover
    _RedisConnectionError = _RedisTimeoutError = OSError

BROKER_DOWN = (_KombuOperationalError, _RedisConnectionError, _RedisTimeoutError, OSError)


def _encode_options(options: dict) -> dict:
    encoded = dict(options)
    if isinstance(encoded.get("eta"), datetime):
        encoded["eta"] = encoded["eta"].isoformat()
    return encoded


def _decode_options(options: dict) -> dict:
    decoded = dict(options)
    if isinstance(decoded.get("eta"), str):
        decoded["eta"] = datetime.fromisoformat(decoded["eta"])
    return decoded


# Messages written by this thread and not yet sent: the first after-commit callback sends them all in
# one batch, the others find nothing left. Ids of a rolled-back transaction may linger until the next
# batch, which finds no row for them (sequences never hand an id out twice).
_unsent = threading.local()


def _unsent_ids() -> list[int]:
    if not hasattr(_unsent, "ids"):
        _unsent.ids = []
    return _unsent.ids


def _send_unsent() -> None:
    ids = _unsent_ids()
    if ids:
        batch = ids[:]
        ids.clear()
        outbox_send(message_ids=batch)


def outbox_enqueue(*, task_name: str, args=(), kwargs=None, options=None) -> None:
    """Write the message with the caller's transaction, and try to send it once that commits."""
    message = OutboxMessage.objects.create(
        task=task_name, args=list(args), kwargs=dict(kwargs or {}), options=_encode_options(options or {})
    )
    _unsent_ids().append(message.pk)
    transaction.on_commit(_send_unsent)


# After a failed send, requests stop trying for a while (the drain still does): a shopper's checkout
# must not wait on a dead broker. redis-py alone takes seconds to give up on a refused connection.
BREAKER_SECONDS = 30
_broker_down_until = 0.0


def _broker_reachable() -> bool:
    """A quick TCP check of the broker's address, so an outage costs milliseconds, not seconds."""
    from config.celery import app

    parts = urlsplit(app.conf.broker_url or "")
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        return True  # another transport: let the publish itself find out
    try:
        socket.create_connection((parts.hostname, parts.port or 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


def _publish(message: OutboxMessage) -> None:
    from config.celery import app

    task = app.tasks[message.task]
    # No publish retries here: a failed send stays in the outbox and the drain retries it later.
    task.apply_async(
        args=message.args,
        kwargs=message.kwargs,
        retry=False,
        **_decode_options(message.options),
    )


def outbox_send(*, message_ids: list[int], force: bool = False) -> int:
    """Send these messages now, in one transaction: each sent one is deleted, a failed one stays for the
    drain (so do the rest of the batch once the broker has failed)."""
    global _broker_down_until
    if not force and time.monotonic() < _broker_down_until:
        return 0
    with transaction.atomic():
        # Rows another sender holds, or sent already, are skipped.
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk__in=message_ids)
            .order_by("pk")
        )
        if not messages:
            return 0
        sent_ids = []
        try:
            if not _broker_reachable():
                raise ConnectionRefusedError("the broker does not answer")
            for message in messages:
                _publish(message)
                sent_ids.append(message.pk)
        except BROKER_DOWN as exc:
            _broker_down_until = time.monotonic() + BREAKER_SECONDS
            failed = messages[len(sent_ids)]
            OutboxMessage.objects.filter(pk=failed.pk).update(
                attempts=failed.attempts + 1, last_error=str(exc)[:300]
            )
            logger.warning("outbox: %s kept for later, the broker is unreachable: %s", failed, exc)
        if sent_ids:
            OutboxMessage.objects.filter(pk__in=sent_ids).delete()
        if len(sent_ids) < len(messages):
            return len(sent_ids)
    _broker_down_until = 0.0
    return len(sent_ids)


def outbox_drain(*, batch_size: int = 200) -> int:
    """Send everything waiting (beat every few seconds, `run_timers`, and after an outage)."""
    ids = list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True)[:batch_size])
    sent = outbox_send(message_ids=ids, force=True) if ids else 0
    if sent:
        logger.info("outbox: sent %s waiting message(s)", sent)
    return sent


def outbox_backlog() -> dict:
    oldest = OutboxMessage.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return {
        "waiting": OutboxMessage.objects.count(),
        "oldest_seconds": int((timezone.now() - oldest).total_seconds()) if oldest else 0,
    }
