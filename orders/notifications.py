"""E-mails to shoppers, each sent at most once per order and kind (recorded as an OrderEvent).

The HTML version escapes user text like every template; the plain-text version is not HTML.
"""

import logging

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from config.mail import subject_line

from .lifecycle import order_event_add, order_lock
from .models import OrderEvent, WaitlistEntry

logger = logging.getLogger(__name__)

SUBJECTS = {
    "confirmation": "Your Livemarket order {number} from {shop}",
    "shipped": "Your order {number} from {shop} is on its way",
    "cancelled": "Your order {number} from {shop} was cancelled",
    "refunded": "A refund for your order {number} from {shop}",
}


def order_email_send(*, order_id: int, kind: str, dedupe_key: str | None = None) -> bool:
    """Send one kind of e-mail for an order, once per `dedupe_key` (default: the kind): a retried
    task finds the event and stops."""
    if kind not in SUBJECTS:
        raise ValueError(f"unknown e-mail kind {kind!r}")
    marker = f"E-mail sent: {dedupe_key or kind}"
    with transaction.atomic():
        order = order_lock(order_id=order_id)
        if (
            kind != "refunded"
            and OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.EMAIL, message=marker).exists()
        ):
            return False
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "shipment": order.shipment,
            "kind": kind,
        }
        send_mail(
            subject=subject_line(SUBJECTS[kind].format(number=order.number, shop=order.shop.name)),
            message=render_to_string(f"orders/email/{kind}.txt", context),
            from_email=None,
            recipient_list=[order.email],
            html_message=render_to_string(f"orders/email/{kind}.html", context),
        )
        order_event_add(order=order, kind=OrderEvent.Kind.EMAIL, message=marker, actor_label="system")
    return True


def waitlist_offer_email_send(*, entry_id: int) -> bool:
    entry = (
        WaitlistEntry.objects.select_related("user", "variant__product__shop", "reservation")
        .filter(pk=entry_id, status=WaitlistEntry.Status.OFFERED)
        .first()
    )
    if entry is None or not entry.user.email:
        return False
    context = {"entry": entry, "product": entry.variant.product, "variant": entry.variant}
    send_mail(
        subject=subject_line(f"Your turn: {entry.variant.product.title} is held for you"),
        message=render_to_string("orders/email/waitlist_offer.txt", context),
        from_email=None,
        recipient_list=[entry.user.email],
        html_message=render_to_string("orders/email/waitlist_offer.html", context),
    )
    return True


def order_emails_redrive(*, older_than_seconds: int = 40) -> int:
    """Send order e-mails whose job was lost (a crash after commit, a dead worker): beat runs it every
    20 s, so a lost e-mail goes out within a minute. Sending is once per order and kind, so a job that
    was only late finds the e-mail sent and stops."""
    from .selectors import EMAIL_AFTER, orders_missing_email

    sent = 0
    for kind in EMAIL_AFTER:
        for order_id in orders_missing_email(kind=kind, older_than_seconds=older_than_seconds):
            sent += order_email_send(order_id=order_id, kind=kind)
    if sent:
        logger.info("re-sent %s lost order e-mail(s)", sent)
    return sent
