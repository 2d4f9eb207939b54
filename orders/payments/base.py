"""What every payment gateway offers: authorise, capture, void and refund."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class GatewayResult:
    ok: bool
    reference: str = ""
    message: str = ""
    card_last4: str = ""


class PaymentGateway(Protocol):
    name: str

    def authorize(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> GatewayResult: ...

    def capture(self, *, reference: str, amount: Decimal) -> GatewayResult: ...

    def void(self, *, reference: str) -> GatewayResult: ...

    def refund(self, *, reference: str, amount: Decimal) -> GatewayResult: ...
