"""Writes for shows and their rooms. Persist first; broadcast after commit."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from shops.models import Shop
from shops.selectors import user_is_shop_staff

from . import events
from .exceptions import InvalidMessage, NotAllowed, ShopNotActive, ShowNotLive
from .models import ChatMessage, LineupItem, Show
from .selectors import show_pinned_product

CHAT_MAX_LENGTH = 500


def show_create(
    *,
    shop: Shop,
    title: str,
    scheduled_start: datetime,
    description: str = "",
    playback_url: str = "",
    products: list[Product] | None = None,
) -> Show:
    with transaction.atomic():
        show = Show.objects.create(
            shop=shop,
            title=title,
            description=description,
            scheduled_start=scheduled_start,
            playback_url=playback_url,
        )
        if products:
            LineupItem.objects.bulk_create(
                LineupItem(show=show, product=product, position=n) for n, product in enumerate(products)
            )
    return show


def lineup_add(*, show: Show, product_id: int) -> LineupItem:
    """Append a product to the lineup (no-op if it is already there)."""
    last = (
        LineupItem.objects.filter(show=show).order_by("-position").values_list("position", flat=True).first()
    )
    item, _ = LineupItem.objects.get_or_create(
        show=show, product_id=product_id, defaults={"position": (last or 0) + 1}
    )
    return item


def _require_host(*, user, show: Show) -> None:
    if not (
        user.is_authenticated and (user.is_superuser or user_is_shop_staff(user=user, shop_id=show.shop_id))
    ):
        raise NotAllowed("Only the show's host can do that.")


@transaction.atomic
def show_go_live(*, show: Show, user=None) -> Show:
    if user is not None:
        _require_host(user=user, show=show)
    show = Show.objects.select_for_update(of=("self",)).select_related("shop").get(pk=show.pk)
    if show.shop.status != Shop.Status.ACTIVE:
        raise ShopNotActive("This shop is suspended; its shows cannot go live.")
    if show.status == Show.Status.LIVE:
        return show
    if show.status != Show.Status.SCHEDULED:
        raise ShowNotLive(f"A {show.get_status_display().lower()} show cannot go live.")
    show.status, show.started_at = Show.Status.LIVE, timezone.now()
    show.save(update_fields=["status", "started_at"])
    events.broadcast_on_commit(show.pk, events.status_payload(show))
    return show


@transaction.atomic
def show_end(*, show: Show, user=None) -> Show:
    if user is not None:
        _require_host(user=user, show=show)
    show = Show.objects.select_for_update(of=("self",)).get(pk=show.pk)
    if show.status == Show.Status.ENDED:
        return show
    show.status, show.ended_at = Show.Status.ENDED, timezone.now()
    show.save(update_fields=["status", "ended_at"])
    events.broadcast_on_commit(show.pk, events.status_payload(show))
    return show


@transaction.atomic
def show_pin_product(*, show: Show, user, product_id: int | None) -> Show:
    _require_host(user=user, show=show)
    if (
        product_id is not None
        and not Product.objects.filter(
            pk=product_id, shop_id=show.shop_id, status=Product.Status.ACTIVE
        ).exists()
    ):
        raise InvalidMessage("That product is not in this shop.")
    Show.objects.filter(pk=show.pk).update(pinned_product_id=product_id)
    show.pinned_product_id = product_id
    if product_id is not None:
        lineup_add(show=show, product_id=product_id)
    events.broadcast_on_commit(show.pk, events.pinned_payload(show_pinned_product(show=show)))
    return show


def chat_post(*, show: Show, user, text: str) -> ChatMessage:
    if not user.is_authenticated:
        raise NotAllowed("Log in to chat.")
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("Say something first.")
    if len(text) > CHAT_MAX_LENGTH:
        raise InvalidMessage(f"Messages can be at most {CHAT_MAX_LENGTH} characters.")
    if show.status != Show.Status.LIVE:
        raise ShowNotLive("Chat opens when the show is live.")
    with transaction.atomic():
        message = ChatMessage.objects.create(show=show, user=user, text=text)
        events.broadcast_on_commit(show.pk, events.chat_payload(message))
    return message
