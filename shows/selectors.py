"""Reads for shows and their rooms."""

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from catalog.models import Variant
from catalog.selectors import products_storefront
from orders.models import Reservation
from shops.models import Shop
from shops.selectors import shop_ids_for_user

from .models import (
    Bid,
    ChatMessage,
    DealClaim,
    FlashDeal,
    Giveaway,
    GiveawayEntry,
    Lot,
    PinEvent,
    Show,
    ShowReminder,
)


def _public_shows() -> QuerySet[Show]:
    return Show.objects.filter(shop__status=Shop.Status.ACTIVE).select_related("shop")


def shows_live(*, limit: int = 12) -> list[Show]:
    return list(_public_shows().filter(status=Show.Status.LIVE).order_by("-started_at")[:limit])


def shows_upcoming(*, shop: Shop | None = None, limit: int = 12) -> list[Show]:
    qs = _public_shows().filter(
        status=Show.Status.SCHEDULED, scheduled_start__gte=timezone.now() - timezone.timedelta(hours=1)
    )
    if shop is not None:
        qs = qs.filter(shop=shop)
    return list(qs.order_by("scheduled_start")[:limit])


def shows_public_current() -> QuerySet[Show]:
    """Live shows and those still to come (or just late to start), for the public API."""
    return _public_shows().filter(
        Q(status=Show.Status.LIVE)
        | Q(status=Show.Status.SCHEDULED, scheduled_start__gte=timezone.now() - timezone.timedelta(hours=1))
    )


def shows_for_product(*, product_id: int, limit: int = 6) -> list[Show]:
    return list(
        _public_shows()
        .filter(products__id=product_id, status__in=[Show.Status.LIVE, Show.Status.SCHEDULED])
        .order_by("-status", "scheduled_start")
        .distinct()[:limit]
    )


def show_get_public(*, show_id: int) -> Show:
    show = _public_shows().filter(pk=show_id).first()
    if show is None:
        raise Http404("No such show")
    return show


def show_get(*, show_id: int) -> Show | None:
    return Show.objects.select_related("shop").filter(pk=show_id).first()


def show_peak_viewers(*, show: Show) -> int:
    """While live the peak lives in Redis (shows/presence.py) and is stored only when the show ends;
    the stored figure alone would read 0 all show long."""
    if not show.is_live:
        return show.peak_viewers
    from .presence import peak_read

    try:
        return max(show.peak_viewers, peak_read(show.pk))
    except Exception:  # Redis down: the stored figure rather than a broken page
        return show.peak_viewers


def show_pinned_product(*, show: Show):
    """The pinned product as a storefront card (price and stock), or None."""
    if not show.pinned_product_id:
        return None
    return products_storefront().filter(pk=show.pinned_product_id).prefetch_related("variants__stock").first()


def show_lineup(*, show: Show) -> list:
    return list(products_storefront().filter(lineup_items__show=show).order_by("lineup_items__position"))


def chat_recent(*, show_id: int, limit: int | None = None) -> list[ChatMessage]:
    limit = limit or settings.LIVEMARKET_CHAT_HISTORY
    messages = (
        ChatMessage.objects.filter(show_id=show_id, is_deleted=False)
        .select_related("user")
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(messages))


def show_sells_variant(*, show: Show, variant_id: int) -> bool:
    """Whether a variant can be bought in this show: its product is in the show's shop."""
    return Variant.objects.filter(pk=variant_id, shop_id=show.shop_id).exists()


def live_shows_pinning_variants(*, variant_ids) -> list[Show]:
    """Live shows whose pinned product has one of `variant_ids`. It starts from the live shows (few), so a
    stock feed chunk's 25,000 changed ids cost two small queries, not a 25,000-parameter IN list (0.9 s)."""
    shows = list(
        Show.objects.filter(status=Show.Status.LIVE, pinned_product__isnull=False).only(
            "pk", "pinned_product_id"
        )
    )
    if not shows:
        return []
    wanted = set(variant_ids)
    pinned = Variant.objects.filter(product_id__in={show.pinned_product_id for show in shows})
    hit = {
        product_id
        for product_id, variant_id in pinned.values_list("product_id", "pk")
        if variant_id in wanted
    }
    return [show for show in shows if show.pinned_product_id in hit]


# A deal's unit counts as claimed while its hold runs or once it was paid for; an expired or released
# hold gives it back.
DEAL_CLAIMED_STATUSES = (Reservation.Status.ACTIVE, Reservation.Status.CONVERTED)


def deal_units_claimed(*, deal: FlashDeal, user=None) -> int:
    """Units of `deal` claimed (by `user`, when given): what deal_buy checks its limits against."""
    claims = DealClaim.objects.filter(deal=deal, reservation__status__in=DEAL_CLAIMED_STATUSES)
    if user is not None:
        claims = claims.filter(user=user)
    return claims.aggregate(n=Sum("quantity"))["n"] or 0


def deals_with_units_claimed(queryset: QuerySet[FlashDeal]) -> QuerySet[FlashDeal]:
    """`queryset` with `claimed_units` on each deal (the admin's list), by the same rule."""
    counted = Q(claims__reservation__status__in=DEAL_CLAIMED_STATUSES)
    return queryset.annotate(claimed_units=Coalesce(Sum("claims__quantity", filter=counted), 0))


def deal_active(*, show: Show):
    return (
        FlashDeal.objects.filter(show=show, status=FlashDeal.Status.ACTIVE)
        .select_related("variant__product", "show__shop")
        .first()
    )


def giveaway_current(*, show: Show):
    """The open giveaway, else the last one drawn (so late joiners see the winner)."""
    return (
        Giveaway.objects.filter(show=show)
        .exclude(status=Giveaway.Status.CANCELLED)
        .select_related("variant__product", "winner")
        .order_by("-opens_at")
        .first()
    )


def giveaway_entry_count(*, giveaway) -> int:
    return GiveawayEntry.objects.filter(giveaway=giveaway).count()


def show_rights_for(*, user, show: Show) -> frozenset[str]:
    from .permissions import show_rights

    return show_rights(user=user, show=show)


def show_replay_chapters(*, show: Show) -> list:
    return list(PinEvent.objects.filter(show=show).select_related("product").order_by("offset_seconds", "id"))


def show_reminded(*, show: Show, user) -> bool:
    return user.is_authenticated and ShowReminder.objects.filter(show=show, user=user).exists()


def shows_for_host(*, user) -> QuerySet[Show]:
    return Show.objects.filter(shop_id__in=shop_ids_for_user(user)).select_related("shop")


def show_lineup_variants(*, show: Show) -> list:
    """Every variant of the lineup, with stock, for the host's deal and giveaway pickers."""
    return list(
        Variant.objects.filter(product__lineup_items__show=show)
        .select_related("product", "stock")
        .order_by("product__lineup_items__position", "position", "pk")
    )


def lot_current(*, show: Show) -> Lot | None:
    """The open lot, else the last one (so late joiners see who won)."""
    lots = Lot.objects.filter(show=show).select_related("leader", "winner")
    return lots.filter(status=Lot.Status.OPEN).first() or lots.order_by("-opened_at", "-id").first()


def lots_for_show(*, show: Show) -> list[Lot]:
    return list(
        Lot.objects.filter(show=show).select_related("leader", "winner").order_by("-opened_at", "-id")
    )


def lot_bids(*, lot: Lot) -> list[Bid]:
    return list(Bid.objects.filter(lot=lot).select_related("user").order_by("-created_at", "-id"))


def lot_in_show(*, show: Show, lot_id: int) -> bool:
    return Lot.objects.filter(pk=lot_id, show=show).exists()


def shows_for_merchant() -> QuerySet[Show]:
    """Shows with their shop and lineup, for the merchant API (scope it to the caller's shops)."""
    return Show.objects.select_related("shop").prefetch_related("lineup_items__product")


def reminders_for_user(*, user) -> QuerySet[ShowReminder]:
    return ShowReminder.objects.filter(user=user).select_related("show__shop")


def units_held_by_lots(*, variant_ids: list[int] | None = None) -> dict[int, int]:
    """Auction lots that are open, or whose winner's payment failed, hold their units (reconcile_stock)."""
    lots = Lot.objects.filter(status__in=Lot.HOLDING)
    if variant_ids is not None:
        lots = lots.filter(variant_id__in=variant_ids)
    return dict(lots.values("variant_id").annotate(units=Sum("quantity")).values_list("variant_id", "units"))
