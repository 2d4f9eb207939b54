"""Which Django permissions a merchant gets. They are granted by shops.backends.ShopMemberPermissions
to anyone with a shop membership, so they never need hand-configuring and a new model's permissions
reach every existing merchant as soon as it is listed here."""

# (app_label, model, actions): what shop staff may do in the admin. Rows are still scoped per shop
# by the admin's queryset filters; these only open the doors.
MERCHANT_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("shops", "shop", ("view", "change")),
    ("shops", "shopmembership", ("view",)),
    ("shops", "apikey", ("add", "change", "view")),
    ("shops", "webhookendpoint", ("add", "change", "delete", "view")),
    ("shops", "webhookdelivery", ("view", "change")),  # change: replay
    ("catalog", "product", ("add", "change", "delete", "view")),
    ("catalog", "variant", ("add", "change", "delete", "view")),
    ("catalog", "productimage", ("add", "change", "delete", "view")),
    ("catalog", "stock", ("view", "change")),
    ("catalog", "category", ("view",)),
    ("catalog", "stockfeed", ("add", "change", "delete", "view")),
    ("catalog", "inventorysyncrun", ("view",)),
    ("orders", "order", ("view", "change")),
    ("orders", "orderline", ("view",)),
    ("orders", "orderevent", ("view",)),
    ("orders", "payment", ("view",)),
    ("orders", "refund", ("view",)),
    ("orders", "shipment", ("view",)),
    ("orders", "shippingmethod", ("add", "change", "delete", "view")),
    ("orders", "reservation", ("view",)),
    ("orders", "waitlistentry", ("view",)),
    ("orders", "review", ("view", "change")),  # change: hide or show; rating and text stay read-only
    ("shows", "show", ("add", "change", "delete", "view")),
    ("shows", "chatmessage", ("view", "change", "delete")),
    ("shows", "lineupitem", ("add", "change", "delete", "view")),
    ("shows", "showrole", ("add", "change", "delete", "view")),
    ("shows", "blockedword", ("add", "change", "delete", "view")),
    ("shows", "shopban", ("view", "delete")),  # deleting a ban lifts it
    ("shows", "showmute", ("view", "delete")),
    ("shows", "showsummary", ("view",)),
    ("shows", "flashdeal", ("view",)),
    ("shows", "giveaway", ("view",)),
    ("shows", "showreminder", ("view",)),
    ("shows", "pinevent", ("view",)),
    ("shows", "lot", ("view", "change")),  # change = settle a failed payment; rows are read-only
    ("shows", "bid", ("view",)),
]


MERCHANT_PERMISSION_NAMES: frozenset[str] = frozenset(
    f"{app_label}.{action}_{model}"
    for app_label, model, actions in MERCHANT_PERMISSIONS
    for action in actions
)
