"""Payment gateways. Every module in this package is imported so its gateway class registers itself;
`get_gateway()` returns the one named by LIVEMARKET_PAYMENT_GATEWAY (the built-in test gateway by default)."""

import importlib
import pkgutil

from django.conf import settings
from django.http import Http404

from .base import GatewayResult, PaymentGateway, WebhookEvent

_NOT_GATEWAYS = {"attempts", "base", "recovery", "webhooks", "views"}
for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_GATEWAYS:
        importlib.import_module(f"{__name__}.{_module.name}")


def get_gateway(name: str | None = None) -> PaymentGateway:
    name = name or settings.LIVEMARKET_PAYMENT_GATEWAY
    try:
        return PaymentGateway.registry[name]()
    except KeyError:
        raise Http404(f"No payment gateway called {name!r}") from None


__all__ = ["GatewayResult", "PaymentGateway", "WebhookEvent", "get_gateway"]
