"""Events other apps may listen to. Receivers only broadcast or notify; they never write.

Orders sit below shows in the dependency chain, so the show rooms learn about stock and waitlist
offers by listening here rather than being called.
"""

from django.dispatch import Signal

# Sent after commit with `variant_ids` whose available units changed.
stock_changed = Signal()
# Sent after commit with `entry_id`, `user_id`, `variant_id`, `show_id`, `expires_at` for a waitlist offer.
waitlist_offered = Signal()
# Sent after commit with `order_id`, `show_id` when an order bought in a live show becomes paid.
show_order_paid = Signal()
