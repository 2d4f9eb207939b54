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


class LotError(ShowError):
    """A lot can't be started, relisted or offered as asked."""

    code = "lot_error"


class LotClosed(ShowError):
    code = "lot_closed"


class BidTooLow(ShowError):
    code = "bid_too_low"


class BidTooHigh(ShowError):
    """Above the lot's bid bounds (the jump rule or the seller's ceiling); the message names the limit."""

    code = "bid_too_high"


class BidNotAllowed(NotAllowed):
    """Not logged in, not ready to bid (card, address), muted, banned, or the seller's own staff."""

    code = "bid_not_allowed"


class ShowStateError(ShowError):
    """The show is in a status where this change is not possible (e.g. rescheduling a live show)."""

    code = "invalid_state"
