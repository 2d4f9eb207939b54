"""Holds on stock: "buy now" in a live show, and fair waitlist offers for sold-out variants.

A hold is counted in Stock.allocated for its lifetime. It ends by being bought (checkout converts it
into the order's allocation), or by expiring: the sweeper then gives the unit to the next shopper on
the waitlist, in the same transaction, and only when nobody is waiting does it return to open sale.
Lock order everywhere: reservation rows, then stock rows, then waitlist rows.
"""

import logging
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.db.models import Exists
from django.utils import timezone

from catalog.exceptions import InsufficientStock
from catalog.models import Stock
from catalog.selectors import variants_for_cart
from catalog.stock import stock_allocate, stock_deallocate

from .exceptions import ReservationError, VariantUnavailable
from .models import Cart, CartLine, Reservation, WaitlistEntry
from .signals import stock_changed, waitlist_offered

logger = logging.getLogger(__name__)

MAX_HOLD_QUANTITY = 5


def stock_changed_announce(variant_ids) -> None:
    ids = sorted(set(variant_ids))
    if ids:
        transaction.on_commit(lambda: stock_changed.send(sender=Reservation, variant_ids=ids))


def _cart_line_ensure(*, user, variant_id: int, quantity: int, show_id: int | None, cart=None) -> None:
    """The held units sit in the shopper's cart, so checkout finds them."""
    if cart is None:
        cart, _ = Cart.objects.get_or_create(user=user)
    line = CartLine.objects.filter(cart=cart, variant_id=variant_id).first()
    if line is None:
        CartLine.objects.create(cart=cart, variant_id=variant_id, quantity=quantity, show_id=show_id)
    elif line.quantity < quantity or (show_id and not line.show_id):
        CartLine.objects.filter(pk=line.pk).update(
            quantity=max(line.quantity, quantity), show_id=show_id or line.show_id
        )


@transaction.atomic
def reservation_create(
    *,
    user,
    variant_id: int,
    quantity: int = 1,
    show_id: int | None = None,
    unit_price: Decimal | None = None,
) -> Reservation:
    """Buy now: hold `quantity` units for a few minutes and put them in the cart.

    One plain hold per shopper and variant: asking again returns the existing hold instead of
    stacking. A hold at a show price (`unit_price`, a flash deal) is always a hold of its own; the
    caller limits how many a buyer may take.
    """
    if not 1 <= quantity <= MAX_HOLD_QUANTITY:
        raise ReservationError(f"You can hold between 1 and {MAX_HOLD_QUANTITY} units.")
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("This product is not available.")
    # A flash sale sends hundreds of buyers at one stock row. Sold out as read without a lock is final
    # for this request (a unit freed a moment later goes to the waitlist or the next buyer), so the
    # losers neither lock their cart nor queue for the row; only someone already holding one goes on
    # (to get their hold back).
    available = _available_unlocked(variant)
    if available < quantity and (unit_price is not None or not _plain_holds(user, variant_id).exists()):
        raise InsufficientStock([(variant_id, quantity, max(available, 0))])
    # Serialise one shopper's holds (a double-clicked "buy now" must not hold two units).
    cart, _ = Cart.objects.get_or_create(user=user)
    Cart.objects.select_for_update().filter(pk=cart.pk).first()
    if unit_price is None:
        existing = _plain_holds(user, variant_id).select_for_update().first()
        if existing is not None:
            return existing
    reservation = Reservation.objects.create(
        user=user,
        variant_id=variant_id,
        quantity=quantity,
        show_id=show_id,
        unit_price=unit_price,
        expires_at=timezone.now() + timedelta(minutes=settings.LIVEMARKET_RESERVATION_MINUTES),
    )
    held = Reservation.objects.filter(user=user, variant_id=variant_id, status=Reservation.Status.ACTIVE)
    _cart_line_ensure(
        user=user,
        variant_id=variant_id,
        quantity=sum(held.values_list("quantity", flat=True)),
        show_id=show_id,
        cart=cart,
    )
    # Last: the stock row stays locked only for this statement and the commit (measured in
    # bench/flash_sale.py: the hold's other writes under the lock were what serialised the buyers).
    stock_allocate(lines=[(variant_id, quantity)])
    stock_changed_announce([variant_id])
    return reservation


def _plain_holds(user, variant_id: int):
    """The shopper's live hold at the list price on this variant (at most one)."""
    return Reservation.objects.filter(
        user=user,
        variant_id=variant_id,
        status=Reservation.Status.ACTIVE,
        unit_price__isnull=True,
        expires_at__gt=timezone.now(),
    )


def hold_sold_out(*, user, variant_id: int, shop_id: int) -> bool:
    """True when the shop's variant has no unit left to hold and the shopper holds none: one read, no
    lock, so the hundreds who lose a flash sale cost a query each, not a transaction. A hold still
    re-checks under the row lock (`reservation_create`); this only answers the losers sooner. Anything
    else (no such variant, no stock row) is left to `reservation_create` to explain."""
    row = (
        Stock.objects.filter(variant_id=variant_id, variant__shop_id=shop_id)
        .annotate(held=Exists(_plain_holds(user, variant_id)))
        .values_list("on_hand", "allocated", "held")
        .first()
    )
    if row is None:
        return False
    on_hand, allocated, held = row
    return on_hand - allocated < 1 and not held


def _available_unlocked(variant) -> int:
    try:
        return variant.stock.available
    except ObjectDoesNotExist:  # no stock row yet: nothing to sell
        return 0


def reservations_active_for(*, user, variant_ids) -> list[Reservation]:
    """The shopper's holds on these variants, locked (checkout converts them)."""
    return list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(user=user, variant_id__in=list(variant_ids), status=Reservation.Status.ACTIVE)
        .order_by("id")
    )


def _waitlist_offer(*, variant_id: int) -> list[WaitlistEntry]:
    """Offer free units of `variant_id` to waiting shoppers, oldest first. Call inside a transaction."""
    offered = []
    minutes = settings.LIVEMARKET_WAITLIST_OFFER_MINUTES
    while True:
        entry = (
            WaitlistEntry.objects.select_for_update(skip_locked=True)
            .filter(variant_id=variant_id, status=WaitlistEntry.Status.WAITING)
            .order_by("created_at", "id")
            .first()
        )
        if entry is None:
            break
        try:
            stock_allocate(lines=[(variant_id, 1)])
        except InsufficientStock:
            break
        reservation = Reservation.objects.create(
            user_id=entry.user_id,
            variant_id=variant_id,
            quantity=1,
            show_id=entry.show_id,
            expires_at=timezone.now() + timedelta(minutes=minutes),
            from_waitlist=True,
        )
        WaitlistEntry.objects.filter(pk=entry.pk).update(
            status=WaitlistEntry.Status.OFFERED, reservation=reservation, offered_at=timezone.now()
        )
        _cart_line_ensure(user=entry.user, variant_id=variant_id, quantity=1, show_id=entry.show_id)
        offered.append(entry)
        payload = {
            "entry_id": entry.pk,
            "user_id": entry.user_id,
            "variant_id": variant_id,
            "show_id": entry.show_id,
            "expires_at": reservation.expires_at.isoformat(),
        }
        transaction.on_commit(lambda payload=payload: waitlist_offered.send(sender=WaitlistEntry, **payload))
        from .tasks import waitlist_offer_email_task

        waitlist_offer_email_task.delay_on_commit(entry.pk)
    return offered


@transaction.atomic
def stock_release_to_waitlist_or_sale(*, lines: list[tuple[int, int]]) -> None:
    """Return units (an expired hold, a cancellation): waiting shoppers get them first."""
    if not lines:
        return
    stock_deallocate(lines=lines)
    for variant_id in sorted({v for v, _ in lines}):
        _waitlist_offer(variant_id=variant_id)
    stock_changed_announce(v for v, _ in lines)


def reservations_release_expired(*, batch_size: int = 200) -> int:
    """The sweeper (beat task and `manage.py release_reservations`). Safe to run twice at once:
    each run skips rows another run holds. Returns how many holds it released."""
    released = 0
    while True:
        with transaction.atomic():
            batch = list(
                Reservation.objects.select_for_update(skip_locked=True)
                .filter(status=Reservation.Status.ACTIVE, expires_at__lte=timezone.now())
                .order_by("id")[:batch_size]
            )
            if not batch:
                return released
            ids = [r.pk for r in batch]
            Reservation.objects.filter(pk__in=ids).update(status=Reservation.Status.EXPIRED)
            WaitlistEntry.objects.filter(reservation_id__in=ids, status=WaitlistEntry.Status.OFFERED).update(
                status=WaitlistEntry.Status.LAPSED
            )
            stock_release_to_waitlist_or_sale(lines=[(r.variant_id, r.quantity) for r in batch])
        released += len(batch)
        logger.info("released %s expired reservations", len(batch))


@transaction.atomic
def reservation_release(*, user, reservation_id: int) -> None:
    """The shopper lets a hold go before it expires."""
    reservation = (
        Reservation.objects.select_for_update()
        .filter(pk=reservation_id, user=user, status=Reservation.Status.ACTIVE)
        .first()
    )
    if reservation is None:
        return
    Reservation.objects.filter(pk=reservation.pk).update(status=Reservation.Status.RELEASED)
    WaitlistEntry.objects.filter(reservation_id=reservation.pk, status=WaitlistEntry.Status.OFFERED).update(
        status=WaitlistEntry.Status.LAPSED
    )
    stock_release_to_waitlist_or_sale(lines=[(reservation.variant_id, reservation.quantity)])


def waitlist_join(*, user, variant_id: int, show_id: int | None = None) -> WaitlistEntry:
    """Join the line for a sold-out variant. Joining twice keeps the first place."""
    variant = variants_for_cart(variant_ids=[variant_id]).get(variant_id)
    if variant is None:
        raise VariantUnavailable("This product is not available.")
    if variant.stock.available > 0:
        raise ReservationError("It's still in stock: buy it now instead.")
    open_statuses = [WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
    existing = WaitlistEntry.objects.filter(
        user=user, variant_id=variant_id, status__in=open_statuses
    ).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(user=user, variant_id=variant_id, show_id=show_id)
    except IntegrityError:
        return WaitlistEntry.objects.get(user=user, variant_id=variant_id, status__in=open_statuses)


def waitlist_leave(*, user, entry_id: int) -> None:
    WaitlistEntry.objects.filter(pk=entry_id, user=user, status=WaitlistEntry.Status.WAITING).update(
        status=WaitlistEntry.Status.LEFT
    )
