"""E-mails to shoppers. Rendering escapes user text like every template."""

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Order


def order_confirmation_send(*, order_id: int) -> bool:
    """Send the confirmation once: a retried task finds `confirmation_sent_at` set and stops."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("shop")
            .filter(pk=order_id, confirmation_sent_at__isnull=True)
            .first()
        )
        if order is None:
            return False
        lines = list(order.lines.all())
        context = {"order": order, "lines": lines}
        send_mail(
            subject=f"Your Livemarket order {order.number} from {order.shop.name}",
            message=render_to_string("orders/email/confirmation.txt", context),
            from_email=None,
            recipient_list=[order.email],
            html_message=render_to_string("orders/email/confirmation.html", context),
        )
        Order.objects.filter(pk=order.pk).update(confirmation_sent_at=timezone.now())
    return True
