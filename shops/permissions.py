"""Which Django permissions a merchant gets, granted through one group so nobody hand-configures them."""

MERCHANT_GROUP_NAME = "Merchants"

# (app_label, model, actions): what shop staff may do in the admin. Rows are still scoped per shop
# by the admin's queryset filters; these only open the doors.
MERCHANT_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("shops", "shop", ("view", "change")),
    ("shops", "shopmembership", ("view",)),
    ("catalog", "product", ("add", "change", "delete", "view")),
    ("catalog", "variant", ("add", "change", "delete", "view")),
    ("catalog", "productimage", ("add", "change", "delete", "view")),
    ("catalog", "stock", ("view", "change")),
    ("catalog", "category", ("view",)),
    ("orders", "order", ("view", "change")),
    ("orders", "orderline", ("view",)),
    ("shows", "show", ("add", "change", "delete", "view")),
    ("shows", "chatmessage", ("view", "change", "delete")),
]
