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
