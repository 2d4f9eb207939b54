"""Domain errors of live shows; consumers turn them into `error` events, views into 4xx."""


class ShowError(Exception):
    code = "show_error"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class ShowNotLive(ShowError):
    code = "not_live"


class NotAllowed(ShowError):
    code = "forbidden"


class InvalidMessage(ShowError):
    code = "invalid"


class ShopNotActive(ShowError):
    code = "shop_suspended"


class RateLimited(ShowError):
    code = "rate_limited"


class DealUnavailable(ShowError):
    """The deal is over, sold out, or the buyer reached its limit."""

    code = "deal_unavailable"


class GiveawayError(ShowError):
    code = "giveaway"
