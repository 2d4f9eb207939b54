"""Domain errors of ordering, turned into messages or 4xx only at the edge."""

from catalog.exceptions import InsufficientStock  # re-exported: the cart and checkout raise it too

__all__ = ["CartError", "EmptyCart", "InsufficientStock", "PaymentDeclined", "VariantUnavailable"]


class CartError(Exception):
    pass


class EmptyCart(CartError):
    pass


class VariantUnavailable(CartError):
    """The variant is not (or no longer) for sale."""


class PaymentDeclined(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)
