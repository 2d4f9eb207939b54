"""Events of the catalog other apps may listen to. Receivers only broadcast or notify; they never write.

The catalog sits at the bottom of the app chain, so live show rooms learn that a stock feed changed
on-hand counts (and so units left) by listening here.
"""

from django.dispatch import Signal

# Sent after commit with `variant_ids` whose on-hand count changed outside an order (a stock feed).
stock_levels_changed = Signal()
