"""The built-in test gateway: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined."""

import hashlib
from decimal import Decimal

from .base import GatewayResult

SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"


def normalise_card(card_number: str) -> str:
    return "".join(ch for ch in card_number if ch.isdigit())


class TestGateway:
    __test__ = False  # not a pytest class
    name = "test"

    def authorize(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> GatewayResult:
        digits = normalise_card(card_number)
        last4 = digits[-4:]
        if digits == DECLINE_CARD:
            return GatewayResult(ok=False, message="Your card was declined.", card_last4=last4)
        if digits != SUCCESS_CARD:
            return GatewayResult(
                ok=False, message="Test mode: use card 4242 4242 4242 4242.", card_last4=last4
            )
        reference = "test_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
        return GatewayResult(ok=True, reference=reference, card_last4=last4)

    def capture(self, *, reference: str, amount: Decimal) -> GatewayResult:
        return GatewayResult(ok=True, reference=reference)

    def void(self, *, reference: str) -> GatewayResult:
        return GatewayResult(ok=True, reference=reference)

    def refund(self, *, reference: str, amount: Decimal) -> GatewayResult:
        return GatewayResult(ok=True, reference=reference)
