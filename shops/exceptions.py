"""Domain errors of the shops app, turned into messages or 4xx only at the edge."""


class ShopError(Exception):
    """Base class for shop rule violations."""


class ShopSuspended(ShopError):
    pass
