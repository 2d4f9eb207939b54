"""Show rooms hear about stock, waitlist offers and paid orders from orders, and stock feed changes from the catalog
(neither can call up into shows).
Receivers only read and broadcast; they never write."""

import logging

from django.dispatch import receiver

from catalog.signals import stock_levels_changed
from orders.selectors import show_sales
from orders.signals import show_order_paid, stock_changed, waitlist_offered

from . import events, hub, selectors

logger = logging.getLogger(__name__)


@receiver(stock_changed)
@receiver(stock_levels_changed)
def broadcast_stock(sender, variant_ids, **kwargs):
    for show in selectors.live_shows_pinning_variants(variant_ids=variant_ids):
        product = selectors.show_pinned_product(show=show)
        if product is not None:
            try:
                hub.publish(show.pk, events.stock_payload(product))
            except hub.RoomUnavailable:
                logger.warning("show %s: stock update not broadcast", show.pk)


@receiver(waitlist_offered)
def notify_waitlist_offer(sender, entry_id, user_id, variant_id, show_id, expires_at, **kwargs):
    events.send_to_user(
        user_id,
        {
            "type": "waitlist",
            "variant_id": variant_id,
            "show_id": show_id,
            "expires_at": expires_at,
            "message": "A unit freed up and it's held for you: check out before the timer runs out.",
            "checkout_url": "/checkout/",
        },
    )


@receiver(show_order_paid)
def push_show_sales(sender, order_id, show_id, **kwargs):
    """The host console's sales card, recounted from the committed orders, to the show's team only."""
    show = selectors.show_get(show_id=show_id)
    if show is None:
        return
    payload = events.sales_payload(show_id, show_sales(show_id=show_id), show.shop.currency)
    try:
        events.send_to_console(show_id, payload)
    except Exception:  # the order is paid whatever happens here; the card's Refresh link still works
        logger.warning("show %s: sales update not sent to the console", show_id, exc_info=True)
