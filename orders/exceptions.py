"""Domain errors of ordering, turned into messages or 4xx only at the edge."""

from catalog.exceptions import InsufficientStock  # re-exported: the cart and checkout raise it too

__all__ = [
    "CartError",
    "CheckoutClosed",
    "EmptyCart",
    "IllegalTransition",
    "InsufficientStock",
    "InvalidWebhook",
    "OneTapNotReady",
    "OrderError",
    "PaymentDeclined",
    "RefundError",
    "ReservationError",
    "ReviewError",
    "ReviewNotAllowed",
    "VariantUnavailable",
]


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


class CheckoutClosed(Exception):
    """A checkout form sent again after its orders were replaced by a newer checkout or cancelled."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class OrderError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class IllegalTransition(OrderError):
    """The order cannot move from its current status to the one asked for."""


class RefundError(OrderError):
    pass


class ReservationError(OrderError):
    pass


class InvalidWebhook(Exception):
    """A webhook whose signature or shape does not check out."""


class OneTapNotReady(OrderError):
    """One-tap buying needs a saved card and a shipping address."""


class ReviewError(OrderError):
    """A review that can't be saved as given (rating out of range, text too long, NUL bytes)."""


class ReviewNotAllowed(OrderError):
    """The order can't be reviewed (yet): it has not shipped, or was cancelled."""
