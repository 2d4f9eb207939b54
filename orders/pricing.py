"""How a cart line is priced: units held at a show price (a flash deal) first, the rest at the
variant's list price. Shared by checkout (what is charged) and the cart view (what is shown)."""

from collections import defaultdict
from decimal import Decimal


def line_price_groups(
    *, variant_id: int, quantity: int, list_price: Decimal, holds
) -> list[tuple[Decimal, int]]:
    """[(unit_price, units), ...] cheapest first; `holds` are the shopper's active reservations."""
    groups: dict[Decimal, int] = defaultdict(int)
    left = quantity
    priced = sorted(
        (h for h in holds if h.variant_id == variant_id and h.unit_price is not None),
        key=lambda h: h.unit_price,
    )
    for hold in priced:
        take = min(left, hold.quantity)
        if take:
            groups[hold.unit_price] += take
            left -= take
    if left:
        groups[list_price] += left
    return sorted(groups.items())
