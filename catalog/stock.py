"""The one place stock changes (after Saleor's warehouse/management.py).

Every change either locks the Stock rows with SELECT ... FOR UPDATE, always in variant-id order so
two buyers of the same items never deadlock, and re-checks under the lock; or it is a single
conditional UPDATE. Nothing reads a count into Python and writes it back unlocked.
"""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from .exceptions import InsufficientStock, StockBelowAllocated
from .models import Stock


def _merge(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    merged: dict[int, int] = defaultdict(int)
    for variant_id, quantity in lines:
        if quantity <= 0:
            raise ValueError("quantities must be positive")
        merged[variant_id] += quantity
    return dict(sorted(merged.items()))


def _lock(variant_ids: list[int]) -> dict[int, Stock]:
    rows = (
        Stock.objects.select_for_update(of=("self",))
        .filter(variant_id__in=variant_ids)
        .order_by("variant_id")
    )
    return {row.variant_id: row for row in rows}


@transaction.atomic
def stock_allocate(*, lines: Iterable[tuple[int, int]]) -> None:
    """Promise units to an order: all lines or none. Raises InsufficientStock listing every short line."""
    wanted = _merge(lines)
    locked = _lock(list(wanted))
    short = []
    for variant_id, quantity in wanted.items():
        row = locked.get(variant_id)
        available = row.available if row else 0
        if available < quantity:
            short.append((variant_id, quantity, max(available, 0)))
    if short:
        raise InsufficientStock(short)
    for variant_id, quantity in wanted.items():
        Stock.objects.filter(variant_id=variant_id).update(allocated=F("allocated") + quantity)


@transaction.atomic
def stock_deallocate(*, lines: Iterable[tuple[int, int]]) -> None:
    """Give promised units back (a cancelled or failed order). Never drops below zero."""
    wanted = _merge(lines)
    locked = _lock(list(wanted))
    for variant_id, quantity in wanted.items():
        if variant_id in locked:
            release = min(quantity, locked[variant_id].allocated)
            Stock.objects.filter(variant_id=variant_id).update(allocated=F("allocated") - release)


@transaction.atomic
def stock_ship(*, lines: Iterable[tuple[int, int]]) -> None:
    """Allocated units leave the building: both on_hand and allocated go down."""
    wanted = _merge(lines)
    _lock(list(wanted))
    for variant_id, quantity in wanted.items():
        updated = Stock.objects.filter(variant_id=variant_id, allocated__gte=quantity).update(
            on_hand=F("on_hand") - quantity, allocated=F("allocated") - quantity
        )
        if not updated:
            raise InsufficientStock([(variant_id, quantity, 0)])


def stock_ensure(*, variant_id: int) -> None:
    """Every variant has one stock row (zero units until set); creating it twice is a no-op."""
    Stock.objects.get_or_create(variant_id=variant_id)


def stock_set_on_hand(*, variant_id: int, on_hand: int) -> None:
    """Set the count from a stock take or feed; refuses to go below what is allocated."""
    if on_hand < 0:
        raise ValueError("on_hand cannot be negative")
    stock_ensure(variant_id=variant_id)
    updated = Stock.objects.filter(variant_id=variant_id, allocated__lte=on_hand).update(on_hand=on_hand)
    if not updated:
        allocated = Stock.objects.values_list("allocated", flat=True).get(variant_id=variant_id)
        raise StockBelowAllocated(variant_id, allocated)


def stock_adjust(*, variant_id: int, delta: int) -> None:
    """Add or remove units (a delivery, breakage) in one conditional UPDATE."""
    stock_ensure(variant_id=variant_id)
    updated = Stock.objects.filter(variant_id=variant_id, on_hand__gte=F("allocated") - delta).update(
        on_hand=F("on_hand") + delta
    )
    if not updated:
        allocated = Stock.objects.values_list("allocated", flat=True).get(variant_id=variant_id)
        raise StockBelowAllocated(variant_id, allocated)
