"""Writes for shows and their rooms. Every action checks rights here; persist first, broadcast after commit."""

import logging
import re
import secrets
import uuid
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.exceptions import InsufficientStock
from catalog.models import Product, Variant
from orders.exceptions import VariantUnavailable
from orders.models import Order, Reservation
from orders.reservations import hold_sold_out
from orders.selectors import address_latest, show_sales
from orders.services import one_tap_order_place, prize_order_place, reservation_create
from shops.models import Follow, Shop, WebhookEvent
from shops.webhooks import webhook_event_emit

from . import events
from .exceptions import (
    DealUnavailable,
    GiveawayError,
    InvalidMessage,
    NotAllowed,
    RateLimited,
    ShopNotActive,
    ShowNotLive,
    ShowStateError,
)
from .models import (
    BlockedWord,
    ChatMessage,
    DealClaim,
    FlashDeal,
    Giveaway,
    GiveawayEntry,
    LineupItem,
    PinEvent,
    ShopBan,
    Show,
    ShowMute,
    ShowReminder,
    ShowSummary,
    new_stream_key,
    stream_key_digest,
)
from .permissions import DEAL, GIVEAWAY, HOST, MODERATE, PIN, is_banned, is_muted, show_rights
from .ratelimit import rate_limit_exceeded
from .selectors import deal_units_claimed, giveaway_entry_count, show_pinned_product

# A giveaway's prize order is keyed by the giveaway, so a draw that runs again can't give a second one.
PRIZE_ORDER_NAMESPACE = uuid.UUID("0b7d1f7e-3c55-4d0a-9a3e-5f4e2b6c8d90")

logger = logging.getLogger(__name__)

CHAT_MAX_LENGTH = 500
DEAL_SECONDS = (10, 3600)
GIVEAWAY_SECONDS = (10, 3600)


def _require(*, user, show: Show, right: str, message: str = "Only the show's host can do that.") -> None:
    if right not in show_rights(user=user, show=show):
        raise NotAllowed(message)


def _require_live(show: Show, what: str) -> None:
    if show.status != Show.Status.LIVE:
        raise ShowNotLive(f"{what} when the show is live.")


def _lock(show: Show) -> Show:
    return Show.objects.select_for_update(of=("self",)).select_related("shop").get(pk=show.pk)


# --- Shows and the lineup ----------------------------------------------------------------------


def show_webhook_payload(show: Show) -> dict:
    return {
        "show": {
            "id": show.pk,
            "title": show.title,
            "status": show.status,
            "shop": show.shop.slug,
            "scheduled_start": show.scheduled_start,
            "started_at": show.started_at,
            "ended_at": show.ended_at,
            "url": show.get_absolute_url(),
            "playback_url": show.playback_url,
        }
    }


def _show_webhook(show: Show, event: str) -> None:
    """The shop's show.live / show.ended webhooks, sent after commit."""
    webhook_event_emit(shop_id=show.shop_id, event=event, data=lambda: show_webhook_payload(show))


def show_create(
    *,
    shop: Shop,
    title: str,
    scheduled_start: datetime,
    description: str = "",
    playback_url: str = "",
    replay_url: str = "",
    cover=None,
    products: list[Product] | None = None,
) -> Show:
    """A new scheduled show. Its stream key is on the returned instance only (`show.stream_key`), to
    show once: just its hash is stored, and show_stream_key_rotate makes a new one."""
    key = new_stream_key()
    with transaction.atomic():
        show = Show.objects.create(
            shop=shop,
            title=title,
            description=description,
            scheduled_start=scheduled_start,
            playback_url=playback_url,
            replay_url=replay_url,
            cover=cover or "",
            stream_key_hash=stream_key_digest(key),
            stream_key_hint=key[-4:],
        )
        if products:
            LineupItem.objects.bulk_create(
                LineupItem(show=show, product=product, position=n) for n, product in enumerate(products)
            )
    show.stream_key = key
    return show


def show_stream_key_rotate(*, show: Show, user=None) -> str:
    """A new stream key for `show`, returned once; the old one stops working at once. With `user`, only
    someone with the host right may do it (the shop's staff)."""
    if user is not None:
        _require(user=user, show=show, right=HOST, message="Only the shop's hosts can make a stream key.")
    key = new_stream_key()
    show.stream_key_hash, show.stream_key_hint = stream_key_digest(key), key[-4:]
    Show.objects.filter(pk=show.pk).update(
        stream_key_hash=show.stream_key_hash, stream_key_hint=show.stream_key_hint
    )
    return key


def lineup_add(*, show: Show, product_id: int) -> LineupItem:
    """Append a product to the lineup (no-op if it is already there)."""
    last = (
        LineupItem.objects.filter(show=show).order_by("-position").values_list("position", flat=True).first()
    )
    item, _ = LineupItem.objects.get_or_create(
        show=show, product_id=product_id, defaults={"position": (last or 0) + 1}
    )
    return item


SHOW_EDITABLE = ("title", "description", "cover", "scheduled_start", "playback_url", "replay_url")


def show_reschedulable(show: Show) -> bool:
    """The start time moves only while the show is still scheduled (show_update; the admin's form)."""
    return show.status == Show.Status.SCHEDULED


def show_lineup_editable(show: Show) -> bool:
    """The lineup changes until the show ends (lineup_set; the admin's lineup inline)."""
    return show.status in (Show.Status.SCHEDULED, Show.Status.LIVE)


@transaction.atomic
def show_update(*, show: Show, user, **changes) -> Show:
    """Edit a show's details; the start time moves only while it is still scheduled."""
    _require(user=user, show=show, right=HOST)
    unknown = set(changes) - set(SHOW_EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {', '.join(sorted(unknown))}")
    show = _lock(show)
    if "scheduled_start" in changes and not show_reschedulable(show):
        raise ShowStateError(f"A {show.get_status_display().lower()} show cannot be rescheduled.")
    for name, value in changes.items():
        setattr(show, name, value)
    if changes:
        show.save(update_fields=list(changes))
    return show


@transaction.atomic
def lineup_set(*, show: Show, user, product_ids: list[int]) -> list[LineupItem]:
    """Replace the lineup with these products of the show's shop, in this order."""
    _require(user=user, show=show, right=HOST)
    show = _lock(show)
    if not show_lineup_editable(show):
        raise ShowStateError(f"The lineup of a {show.get_status_display().lower()} show is fixed.")
    if len(set(product_ids)) != len(product_ids):
        raise InvalidMessage("Each product can be in the lineup once.")
    found = set(Product.objects.filter(pk__in=product_ids, shop_id=show.shop_id).values_list("pk", flat=True))
    if found != set(product_ids):
        raise InvalidMessage("That product is not in this shop.")
    LineupItem.objects.filter(show=show).exclude(product_id__in=product_ids).delete()
    existing = {item.product_id: item for item in LineupItem.objects.filter(show=show)}
    for position, product_id in enumerate(product_ids):
        item = existing.get(product_id)
        if item is None:
            LineupItem.objects.create(show=show, product_id=product_id, position=position)
        elif item.position != position:
            LineupItem.objects.filter(pk=item.pk).update(position=position)
    return list(LineupItem.objects.filter(show=show).select_related("product").order_by("position", "id"))


@transaction.atomic
def show_go_live(*, show: Show, user=None) -> Show:
    """Start the show (the host, or the stream callback when `user` is None)."""
    if user is not None:
        _require(user=user, show=show, right=HOST)
    show = _lock(show)
    if show.shop.status != Shop.Status.ACTIVE:
        raise ShopNotActive("This shop is suspended; its shows cannot go live.")
    if show.status == Show.Status.LIVE:
        return show
    if show.status != Show.Status.SCHEDULED:
        raise ShowNotLive(f"A {show.get_status_display().lower()} show cannot go live.")
    show.status, show.started_at = Show.Status.LIVE, timezone.now()
    show.save(update_fields=["status", "started_at"])
    events.broadcast_on_commit(show.pk, events.status_payload(show))
    _show_webhook(show, WebhookEvent.SHOW_LIVE)
    from .tasks import show_live_notify_task

    show_live_notify_task.delay_on_commit(show.pk)
    return show


@transaction.atomic
def show_end(*, show: Show, user=None) -> Show:
    if user is not None:
        _require(user=user, show=show, right=HOST)
    show = _lock(show)
    if show.status in (Show.Status.ENDED, Show.Status.CANCELLED):
        return show
    show.status, show.ended_at = Show.Status.ENDED, timezone.now()
    show.save(update_fields=["status", "ended_at"])
    for deal in FlashDeal.objects.filter(show=show, status=FlashDeal.Status.ACTIVE):
        _deal_close(deal)
    from .auctions import lots_close_for_show

    lots_close_for_show(show=show)
    events.broadcast_on_commit(show.pk, events.status_payload(show))
    _show_webhook(show, WebhookEvent.SHOW_ENDED)
    from .tasks import show_summary_task

    show_summary_task.delay_on_commit(show.pk)
    return show


@transaction.atomic
def show_pin_product(*, show: Show, user, product_id: int | None) -> Show:
    """Pin one product for every viewer, and record it as a replay chapter."""
    _require(user=user, show=show, right=PIN, message="Only the host or a co-host can pin.")
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
        offset = int((timezone.now() - show.started_at).total_seconds()) if show.started_at else 0
        PinEvent.objects.create(show=show, product_id=product_id, offset_seconds=max(offset, 0))
    events.broadcast_on_commit(show.pk, events.pinned_payload(show_pinned_product(show=show)))
    return show


# --- Chat and moderation -----------------------------------------------------------------------


def _blocked_word(*, shop_id: int, text: str) -> str | None:
    lowered = text.casefold()
    for word in BlockedWord.objects.filter(shop_id=shop_id).values_list("word", flat=True):
        if re.search(rf"(?<!\w){re.escape(word.casefold())}(?!\w)", lowered):
            return word
    return None


def viewer_check(*, show: Show, user, action: str) -> None:
    """Logged in, and neither banned from the shop's shows nor (for chat) muted in this one."""
    if not user.is_authenticated:
        raise NotAllowed(f"Log in to {action}.")
    if is_banned(user=user, show=show):
        raise NotAllowed("You can't take part in this shop's shows.")
    if action in ("chat", "react") and is_muted(user=user, show=show):
        raise NotAllowed("You have been muted in this show.")


def chat_post(*, show: Show, user, text: str) -> ChatMessage:
    if not user.is_authenticated:
        raise NotAllowed("Log in to chat.")
    text = (text or "").strip()
    if not text:
        raise InvalidMessage("Say something first.")
    if "\x00" in text:  # PostgreSQL can't store it: refuse it here, not with a crashed socket
        raise InvalidMessage("Messages can't contain null characters.")
    if len(text) > CHAT_MAX_LENGTH:
        raise InvalidMessage(f"Messages can be at most {CHAT_MAX_LENGTH} characters.")
    _require_live(show, "Chat opens")
    viewer_check(show=show, user=user, action="chat")
    if _blocked_word(shop_id=show.shop_id, text=text):
        raise InvalidMessage("That message contains a word this shop doesn't allow.")
    limit, window = settings.LIVEMARKET_CHAT_RATE
    if rate_limit_exceeded(key=f"chat:{show.pk}:{user.pk}", limit=limit, window_seconds=window):
        raise RateLimited(f"Slow down: at most {limit} messages every {window} seconds.")
    with transaction.atomic():
        message = ChatMessage.objects.create(show=show, user=user, text=text)
        events.broadcast_on_commit(show.pk, events.chat_payload(message))
    return message


def _moderation_target(*, show: Show, user_id) -> "object":
    from shops.models import User

    target = User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if target is None:
        raise InvalidMessage("No such user.")
    if MODERATE in show_rights(user=target, show=show) and HOST in show_rights(user=target, show=show):
        raise NotAllowed("The shop's own staff can't be muted or banned.")
    return target


@transaction.atomic
def chat_delete(*, show: Show, user, message_id: int) -> None:
    _require(user=user, show=show, right=MODERATE, message="Only moderators can delete messages.")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise InvalidMessage("No such message in this show.")
    updated = ChatMessage.objects.filter(pk=message_id, show=show, is_deleted=False).update(
        is_deleted=True, deleted_by=user
    )
    if not updated:
        raise InvalidMessage("No such message in this show.")
    events.broadcast_on_commit(show.pk, {"type": "moderation", "op": "delete", "message_id": message_id})


def chat_restore(*, show: Show, user, message_id: int) -> None:
    """Show a hidden message again (from the admin): viewers who join from now on see it."""
    _require(user=user, show=show, right=MODERATE, message="Only moderators can restore messages.")
    updated = ChatMessage.objects.filter(pk=message_id, show=show, is_deleted=True).update(
        is_deleted=False, deleted_by=None
    )
    if not updated:
        raise InvalidMessage("No such hidden message in this show.")


@transaction.atomic
def viewer_mute(*, show: Show, user, target_id: int) -> None:
    _require(user=user, show=show, right=MODERATE, message="Only moderators can mute.")
    target = _moderation_target(show=show, user_id=target_id)
    ShowMute.objects.get_or_create(show=show, user=target, defaults={"muted_by": user})
    events.broadcast_on_commit(
        show.pk, {"type": "moderation", "op": "mute", "user_id": target.pk, "user": target.public_name}
    )


@transaction.atomic
def viewer_ban(*, show: Show, user, target_id: int, reason: str = "") -> None:
    """Ban from all the shop's shows, and hide what they wrote in this one."""
    _require(user=user, show=show, right=MODERATE, message="Only moderators can ban.")
    target = _moderation_target(show=show, user_id=target_id)
    ShopBan.objects.get_or_create(
        shop_id=show.shop_id,
        user=target,
        defaults={"banned_by": user, "reason": reason.replace("\x00", "")[:200]},
    )
    hidden = list(
        ChatMessage.objects.filter(show=show, user=target, is_deleted=False).values_list("pk", flat=True)
    )
    ChatMessage.objects.filter(pk__in=hidden).update(is_deleted=True, deleted_by=user)
    events.broadcast_on_commit(
        show.pk,
        {
            "type": "moderation",
            "op": "ban",
            "user_id": target.pk,
            "user": target.public_name,
            "message_ids": hidden,
        },
    )


def reaction_check(*, show: Show, user) -> None:
    """Reactions are not stored; a viewer may send a few a second, and bursts are summed by the hub."""
    viewer_check(show=show, user=user, action="react")
    if rate_limit_exceeded(key=f"react:{show.pk}:{user.pk}", limit=20, window_seconds=5):
        raise RateLimited("That's a lot of love: give it a second.")


# --- Flash deals -------------------------------------------------------------------------------


def _parse_price(value) -> Decimal:
    try:
        price = Decimal(str(value))
        if price.is_finite():
            price = price.quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidMessage("The deal price must be a number.") from None
    if not price.is_finite() or price >= Decimal("1e10"):
        raise InvalidMessage("The deal price must be a number below 10,000,000,000.")
    if price < 0:
        raise InvalidMessage("The deal price can't be negative.")
    return price


def whole_number(value, low: int, high: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidMessage(f"{name} must be a whole number from {low} to {high}.")
    return value


def deal_state(deal: FlashDeal | None) -> dict | None:
    if deal is None:
        return None
    return events.deal_payload(deal, units_left=max(deal.units_total - deal_units_claimed(deal=deal), 0))


@transaction.atomic
def deal_start(
    *, show: Show, user, variant_id, price, units, per_buyer_limit=1, duration_seconds=120
) -> FlashDeal:
    """A show price on one variant of the shop, for `units` units and `duration_seconds`."""
    _require(user=user, show=show, right=DEAL, message="Only the host or a co-host can run deals.")
    show = _lock(show)
    _require_live(show, "Deals run")
    if not isinstance(variant_id, int) or isinstance(variant_id, bool):
        raise InvalidMessage("Choose the variant the deal is for.")
    variant = (
        Variant.objects.select_related("stock", "product")
        .filter(pk=variant_id, shop_id=show.shop_id, product__status=Product.Status.ACTIVE)
        .first()
    )
    if variant is None:
        raise InvalidMessage("That product is not in this shop.")
    price = _parse_price(price)
    units = whole_number(units, 1, 10_000, "Units")
    per_buyer_limit = whole_number(per_buyer_limit, 1, 100, "The per-buyer limit")
    duration = whole_number(duration_seconds, *DEAL_SECONDS, "The duration in seconds")
    for running in FlashDeal.objects.select_for_update().filter(show=show, status=FlashDeal.Status.ACTIVE):
        _deal_close(running)
    deal = FlashDeal.objects.create(
        show=show,
        variant=variant,
        price=price,
        units_total=units,
        per_buyer_limit=per_buyer_limit,
        ends_at=timezone.now() + timedelta(seconds=duration),
        created_by=user,
    )
    events.broadcast_on_commit(show.pk, {"type": "deal", "deal": deal_state(deal)})
    from .tasks import deal_close_task

    deal_close_task.apply_async_on_commit((deal.pk,), eta=deal.ends_at)
    return deal


def _deal_close(deal: FlashDeal) -> None:
    FlashDeal.objects.filter(pk=deal.pk).update(status=FlashDeal.Status.ENDED)
    deal.status = FlashDeal.Status.ENDED
    events.broadcast_on_commit(deal.show_id, {"type": "deal", "deal": None, "ended": deal.pk})


@transaction.atomic
def deal_end(*, show: Show, user) -> None:
    _require(user=user, show=show, right=DEAL, message="Only the host or a co-host can run deals.")
    for deal in FlashDeal.objects.select_for_update().filter(show=show, status=FlashDeal.Status.ACTIVE):
        _deal_close(deal)


def deals_close_due() -> int:
    """The timer (a countdown task per deal, and a sweeper): end deals whose time is up, once."""
    closed = 0
    with transaction.atomic():
        for deal in FlashDeal.objects.select_for_update(skip_locked=True).filter(
            status=FlashDeal.Status.ACTIVE, ends_at__lte=timezone.now()
        ):
            _deal_close(deal)
            closed += 1
    return closed


@transaction.atomic
def deal_buy(*, show: Show, user, variant_id: int) -> Reservation:
    """Claim one unit at the running deal's price: never more than its units or the buyer's limit."""
    viewer_check(show=show, user=user, action="buy")
    deal = (
        FlashDeal.objects.select_for_update()
        .filter(show=show, status=FlashDeal.Status.ACTIVE, variant_id=variant_id)
        .first()
    )
    if deal is None or deal.ends_at <= timezone.now():
        raise DealUnavailable("This deal has ended.")
    if deal_units_claimed(deal=deal) >= deal.units_total:
        raise DealUnavailable("The deal is sold out.")
    if deal_units_claimed(deal=deal, user=user) >= deal.per_buyer_limit:
        raise DealUnavailable(f"The deal allows {deal.per_buyer_limit} per buyer.")
    reservation = reservation_create(
        user=user, variant_id=variant_id, quantity=1, show_id=show.pk, unit_price=deal.price
    )
    DealClaim.objects.create(deal=deal, user=user, reservation=reservation, quantity=1)
    events.broadcast_on_commit(show.pk, {"type": "deal", "deal": deal_state(deal)})
    return reservation


def _buy_start(*, show: Show, user, variant_id: int) -> bool:
    """The checks every buy in a show starts with; True when a flash deal runs on the variant."""
    _require_live(show, "Buy now opens")
    viewer_check(show=show, user=user, action="buy")
    if hold_sold_out(user=user, variant_id=variant_id, shop_id=show.shop_id):
        raise InsufficientStock([(variant_id, 1, 0)])
    return FlashDeal.objects.filter(
        show=show, status=FlashDeal.Status.ACTIVE, variant_id=variant_id, ends_at__gt=timezone.now()
    ).exists()


def show_buy_now(*, show: Show, user, variant_id: int) -> Reservation:
    """Buy now from the show: at the deal price while a deal on this variant runs, else a plain hold."""
    if _buy_start(show=show, user=user, variant_id=variant_id):
        return deal_buy(show=show, user=user, variant_id=variant_id)
    return reservation_create(user=user, variant_id=variant_id, quantity=1, show_id=show.pk)


def show_buy_one_tap(*, show: Show, user, variant_id: int, checkout_key) -> Reservation | Order:
    """One tap in the show: an order paid by the saved card, no checkout. A running flash deal on the
    variant needs its claim and limits, so it takes the hold path (the caller goes on to checkout)."""
    if _buy_start(show=show, user=user, variant_id=variant_id):
        return deal_buy(show=show, user=user, variant_id=variant_id)
    return one_tap_order_place(user=user, variant_id=variant_id, show_id=show.pk, checkout_key=checkout_key)


# --- Giveaways ---------------------------------------------------------------------------------


@transaction.atomic
def giveaway_start(*, show: Show, user, variant_id, duration_seconds=60, followers_only=False) -> Giveaway:
    _require(user=user, show=show, right=GIVEAWAY, message="Only the host or a co-host can run giveaways.")
    show = _lock(show)
    _require_live(show, "Giveaways run")
    if (
        not isinstance(variant_id, int)
        or not Variant.objects.filter(pk=variant_id, shop_id=show.shop_id).exists()
    ):
        raise InvalidMessage("That product is not in this shop.")
    duration = whole_number(duration_seconds, *GIVEAWAY_SECONDS, "The entry window in seconds")
    if Giveaway.objects.filter(show=show, status=Giveaway.Status.OPEN).exists():
        raise GiveawayError("A giveaway is already open: draw it first.")
    giveaway = Giveaway.objects.create(
        show=show,
        variant_id=variant_id,
        followers_only=bool(followers_only),
        closes_at=timezone.now() + timedelta(seconds=duration),
        created_by=user,
    )
    events.broadcast_on_commit(show.pk, events.giveaway_payload(giveaway, entries=0))
    from .tasks import giveaway_draw_task

    giveaway_draw_task.apply_async_on_commit((giveaway.pk,), eta=giveaway.closes_at)
    return giveaway


def giveaway_enter(*, show: Show, user, giveaway_id) -> GiveawayEntry:
    """Once per user; followers only when the host says so; a saved address is needed to ship the prize."""
    viewer_check(show=show, user=user, action="enter giveaways")
    giveaway = (
        Giveaway.objects.filter(pk=giveaway_id, show=show).first() if isinstance(giveaway_id, int) else None
    )
    if giveaway is None or giveaway.status != Giveaway.Status.OPEN or giveaway.closes_at <= timezone.now():
        raise GiveawayError("This giveaway is closed.")
    if giveaway.followers_only and not Follow.objects.filter(user=user, shop_id=show.shop_id).exists():
        raise GiveawayError("This giveaway is for the shop's followers: follow the shop to enter.")
    if address_latest(user=user) is None:
        raise GiveawayError("Save a shipping address at checkout first, so we can send you the prize.")
    try:
        with transaction.atomic():
            entry = GiveawayEntry.objects.create(giveaway=giveaway, user=user)
            # Everyone in the room (the host too) sees the new count, once the entry is saved.
            count = giveaway_entry_count(giveaway=giveaway)
            events.broadcast_on_commit(show.pk, events.giveaway_payload(giveaway, entries=count))
            return entry
    except IntegrityError:
        raise GiveawayError("You're already in this giveaway.") from None


def giveaway_draw(*, giveaway_id: int, user=None) -> Giveaway | None:
    """Draw a winner at random on the server (once, however many callers) and give them a free order."""
    with transaction.atomic():
        giveaway = Giveaway.objects.select_for_update().select_related("show").filter(pk=giveaway_id).first()
        if giveaway is None or giveaway.status != Giveaway.Status.OPEN:
            return giveaway
        if user is None and giveaway.closes_at > timezone.now():
            return giveaway  # a timer that fired early (eager Celery): the window is still open
        if user is not None:
            _require(
                user=user, show=giveaway.show, right=GIVEAWAY, message="Only the host or a co-host can draw."
            )
        entries = list(GiveawayEntry.objects.filter(giveaway=giveaway).select_related("user").order_by("pk"))
        rng = secrets.SystemRandom()
        rng.shuffle(entries)
        winner_entry = None
        for entry in entries:
            address = address_latest(user=entry.user)
            if address is None:
                continue
            try:
                with transaction.atomic():
                    order = prize_order_place(
                        user=entry.user,
                        variant_id=giveaway.variant_id,
                        show_id=giveaway.show_id,
                        address={
                            f: getattr(address, f)
                            for f in (
                                "full_name",
                                "line1",
                                "line2",
                                "city",
                                "postal_code",
                                "country",
                                "phone",
                            )
                        },
                        note=f"Giveaway prize from show {giveaway.show_id}",
                        checkout_key=uuid.uuid5(PRIZE_ORDER_NAMESPACE, f"giveaway:{giveaway.pk}"),
                    )
            except (InsufficientStock, VariantUnavailable):
                break
            winner_entry = entry
            Giveaway.objects.filter(pk=giveaway.pk).update(
                status=Giveaway.Status.DRAWN, winner=entry.user, prize_order_id=order.pk
            )
            break
        if winner_entry is None:
            Giveaway.objects.filter(pk=giveaway.pk).update(status=Giveaway.Status.CANCELLED)
        giveaway.refresh_from_db()
        events.broadcast_on_commit(giveaway.show_id, events.giveaway_payload(giveaway, entries=len(entries)))
    return giveaway


# --- Reminders, notifications, summaries, stream callbacks --------------------------------------


def show_remind(*, show: Show, user) -> ShowReminder:
    if show.status != Show.Status.SCHEDULED:
        raise ShowNotLive("Reminders are for shows that haven't started yet.")
    reminder, _ = ShowReminder.objects.get_or_create(show=show, user=user)
    return reminder


def show_forget(*, show: Show, user) -> None:
    ShowReminder.objects.filter(show=show, user=user).delete()


@transaction.atomic
def show_summary_compute(*, show_id: int) -> ShowSummary:
    """The seller's numbers for a show; safe to run again (it recomputes the same row)."""
    from .presence import peak_read

    show = Show.objects.select_related("shop").get(pk=show_id)
    peak = max(show.peak_viewers, peak_read(show_id))
    Show.objects.filter(pk=show_id, peak_viewers__lt=peak).update(peak_viewers=peak)
    sales = show_sales(show_id=show_id)
    summary, _ = ShowSummary.objects.update_or_create(
        show=show,
        defaults={
            "peak_viewers": peak,
            "chat_messages": ChatMessage.objects.filter(show=show).count(),
            "orders": sales["orders"],
            "units_sold": sales["units"],
            "sales_total": sales["sales"],
            "currency": show.shop.currency,
        },
    )
    return summary


def _show_for_key(stream_key: str) -> Show:
    """Found by the key's hash: the key itself is never stored, compared in clear or logged."""
    key = (stream_key or "").strip()
    show = Show.objects.filter(stream_key_hash=stream_key_digest(key)).first() if key else None
    if show is None:
        raise NotAllowed("Unknown stream key.")
    return show


def stream_started(*, stream_key: str) -> Show:
    """The media server's on_publish callback: the right key takes the show live."""
    from .watch import stream_heartbeat_record

    show = show_go_live(show=_show_for_key(stream_key))
    stream_heartbeat_record(show.pk)
    return show


def stream_stopped(*, stream_key: str) -> Show:
    """on_publish_done: the stream stopped, so the show ends."""
    return show_end(show=_show_for_key(stream_key))


def ingest_url() -> str:
    return settings.LIVEMARKET_INGEST_URL


def giveaways_due() -> list[int]:
    return list(
        Giveaway.objects.filter(status=Giveaway.Status.OPEN, closes_at__lte=timezone.now()).values_list(
            "pk", flat=True
        )
    )
