"""Reconciling stock: `allocated` must equal the units that open orders, active holds and auction lots
hold. Drift (a crash between two writes, a hand edit) shows up here, and `--fix` repairs it.

The holders are a list of small selectors, one per kind of row that holds units, each answering
{variant_id: units} for a list of variants. A new kind of holder is one more line in ALLOCATION_HOLDERS.
This module lives in shows because shows is the top of the app stack and can see every holder.
"""

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from catalog.models import Variant
from catalog.stock import AllocationCorrection, stock_allocation_correct, stock_allocation_drift
from orders.selectors import units_held_by_holds, units_held_by_open_orders

from .selectors import units_held_by_lots

logger = logging.getLogger(__name__)

Holder = Callable[..., dict[int, int]]

ALLOCATION_HOLDERS: tuple[tuple[str, Holder], ...] = (
    ("open orders", units_held_by_open_orders),
    ("active holds", units_held_by_holds),
    ("auction lots", units_held_by_lots),
)


def units_held(variant_ids: list[int] | None = None) -> dict[int, int]:
    """Units held per variant, summed over every holder."""
    total: Counter[int] = Counter()
    for _name, holder in ALLOCATION_HOLDERS:
        total.update(holder(variant_ids=variant_ids))
    return {variant_id: units for variant_id, units in total.items() if units}


@dataclass
class ReconcileReport:
    drift: list[AllocationCorrection] = field(default_factory=list)
    skus: dict[int, tuple[str, str]] = field(default_factory=dict)  # variant id -> (shop slug, SKU)

    @property
    def fixed(self) -> list[AllocationCorrection]:
        return [row for row in self.drift if row.fixed]

    @property
    def unfixable(self) -> list[AllocationCorrection]:
        return [row for row in self.drift if not row.fixed and row.expected > row.on_hand]


def stock_reconcile(
    *, fix: bool = False, shop_id: int | None = None, log_drift: bool = False
) -> ReconcileReport:
    """Find stock rows whose allocated count drifted; with `fix`, correct them in one transaction.
    `log_drift` logs each drifted row as a warning (the daily beat report)."""
    variant_ids = None
    if shop_id is not None:
        variant_ids = list(Variant.objects.filter(shop_id=shop_id).values_list("pk", flat=True))
    drift = stock_allocation_drift(expected=units_held(variant_ids), variant_ids=variant_ids)
    if fix and drift:
        drift = stock_allocation_correct(
            variant_ids=[row.variant_id for row in drift], expected_for=units_held
        )
        logger.warning(
            "reconcile_stock corrected allocated on %s stock row(s): %s",
            sum(row.fixed for row in drift),
            ", ".join(f"variant {r.variant_id} {r.allocated}->{r.expected}" for r in drift if r.fixed),
        )
    skus = {
        pk: (slug, sku)
        for pk, slug, sku in Variant.objects.filter(pk__in=[r.variant_id for r in drift]).values_list(
            "pk", "shop__slug", "sku"
        )
    }
    report = ReconcileReport(drift=drift, skus=skus)
    if log_drift:
        for row in drift:
            slug, sku = skus.get(row.variant_id, ("?", "?"))
            logger.warning(
                "stock drift: %s %s (variant %s) allocated %s but %s held; run reconcile_stock --fix",
                slug,
                sku,
                row.variant_id,
                row.allocated,
                row.expected,
            )
    return report
