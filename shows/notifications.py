"""'We're live' e-mails: once per person per show, in batches, to reminders and followers."""

import logging

from django.core.mail import get_connection, send_mass_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from config.mail import subject_line
from shops.models import Follow, User

from .models import Show, ShowNotification, ShowReminder

logger = logging.getLogger(__name__)


def show_live_notify(*, show_id: int, batch_size: int = 200) -> int:
    """E-mail everyone who asked to be reminded and every follower of the shop, once each.

    The ShowNotification row is written before the e-mail is handed over, so a rerun, or two runs at
    once, never e-mail anyone twice (at most once: a crash between the two loses that e-mail).
    """
    show = Show.objects.select_related("shop").filter(pk=show_id, status=Show.Status.LIVE).first()
    if show is None:
        return 0
    wanted = set(ShowReminder.objects.filter(show=show).values_list("user_id", flat=True))
    wanted |= set(Follow.objects.filter(shop_id=show.shop_id).values_list("user_id", flat=True))
    wanted -= set(ShowNotification.objects.filter(show=show).values_list("user_id", flat=True))
    ids = sorted(wanted)
    sent = 0
    connection = get_connection()
    for start in range(0, len(ids), batch_size):
        batch = User.objects.filter(pk__in=ids[start : start + batch_size], is_active=True).exclude(email="")
        messages = []
        for user in batch:
            try:
                with transaction.atomic():
                    ShowNotification.objects.create(show=show, user=user)
            except IntegrityError:
                continue  # another run got there first
            context = {"show": show, "user": user}
            messages.append(
                (
                    subject_line(f"{show.shop.name} is live now: {show.title}"),
                    render_to_string("shows/email/live_now.txt", context),
                    None,
                    [user.email],
                )
            )
        sent += send_mass_mail(messages, connection=connection) if messages else 0
        logger.info("show %s: live e-mail batch of %s sent", show_id, len(messages))
    return sent
