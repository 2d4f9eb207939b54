"""Payment gateways. `get_gateway()` returns the configured one (the built-in test gateway by default)."""

from django.conf import settings
from django.utils.module_loading import import_string

from .base import GatewayResult, PaymentGateway


def get_gateway() -> PaymentGateway:
    path = getattr(settings, "LIVEMARKET_PAYMENT_GATEWAY", "orders.payments.test_gateway.TestGateway")
    return import_string(path)()


__all__ = ["GatewayResult", "PaymentGateway", "get_gateway"]
