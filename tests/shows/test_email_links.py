"""Every e-mail links to the site by absolute URL on LIVEMARKET_SITE_URL: a mail client has no page to
resolve "/orders/LM…/" against, so a relative link is dead there (round 2 found them in every e-mail)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test.signals import template_rendered
from django.utils import timezone

from orders.models import Reservation
from orders.notifications import SUBJECTS, order_email_send
from orders.services import (
    reservation_create,
    reservations_release_expired,
    waitlist_join,
)
from shops.services import shop_follow
from shows.services import show_create, show_go_live
from shows.watch import shows_watch
from tests.catalog.factories import VariantFactory
from tests.orders.test_admin_orders import place_order
from tests.shops.factories import UserFactory

SITE = "https://shop.example.com"
TEMPLATES = Path(settings.BASE_DIR) / "templates"
EMAIL_TEMPLATES = sorted(
    str(path.relative_to(TEMPLATES)) for path in TEMPLATES.glob("*/email/*") if not path.name.startswith("_")
)
HREF = re.compile(r"""(?:href|src)\s*=\s*["']([^"']*)["']""", re.I)
RELATIVE_PATH = re.compile(r"(?<![\w.:/%-])/(?:[\w.%-]+/)+")  # "/shows/1/", not "https://x/shows/1/"


def _send_every_email(shopper, merchant, shop) -> None:
    """One of each e-mail the site sends, through the code that sends it."""
    variant = VariantFactory(product__shop=shop, on_hand=2)
    order = place_order(shopper, variant)
    for kind in SUBJECTS:
        order_email_send(order_id=order.pk, kind=kind, dedupe_key=f"links-{kind}")

    waiting = UserFactory()
    hold = reservation_create(user=UserFactory(), variant_id=variant.pk, quantity=1)
    waitlist_join(user=waiting, variant_id=variant.pk)
    Reservation.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    reservations_release_expired()  # the freed unit is offered to `waiting`, by e-mail

    shop_follow(user=UserFactory(), shop=shop)
    show_go_live(show=show_create(shop=shop, title="Crates", scheduled_start=timezone.now()))  # "live now"

    late = show_create(shop=shop, title="Late one", scheduled_start=timezone.now() - timedelta(minutes=30))
    cache.delete(f"show:late-alert:{late.pk}")
    assert shows_watch()["late_alerts"] == 1


@pytest.mark.django_db
def test_every_email_links_only_by_absolute_url_on_the_sites_base(
    client, shopper, merchant, shop, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.LIVEMARKET_SITE_URL = SITE
    settings.LIVEMARKET_LATE_SHOW_MINUTES = 10
    rendered = []

    def record(sender, template, **kwargs):
        rendered.append(template.name)

    template_rendered.connect(record)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _send_every_email(shopper, merchant, shop)
    finally:
        template_rendered.disconnect(record)

    assert set(EMAIL_TEMPLATES) <= set(rendered), "an e-mail template this test does not send"
    assert len(mailoutbox) >= len(EMAIL_TEMPLATES) // 2 + 1  # order kinds, waitlist, live now, late show
    for message in mailoutbox:
        parts = [message.body] + [content for content, mimetype in getattr(message, "alternatives", [])]
        links = [link for part in parts for link in HREF.findall(part)]
        assert all(link.startswith(f"{SITE}/") for link in links), (message.subject, links)
        texts = [re.sub(r"<[^>]+>", " ", part) for part in parts]
        assert not [path for text in texts for path in RELATIVE_PATH.findall(text)], (message.subject, texts)
        assert any(f"{SITE}/" in part for part in parts), f"no link to the site in {message.subject!r}"
