"""What every payment gateway offers. A new provider is one subclass in a module of this package:
it registers itself by `name` and is picked with the LIVEMARKET_PAYMENT_GATEWAY setting.

Every call that moves money carries an idempotency key: the same key sent twice (a retry, a
re-driven job, a crash and a restart) is one operation at the provider, which answers with the first
result. `lookup` asks the provider what happened under a key, so a recovery job can settle an
attempt whose answer was lost (Stripe's idempotency keys and PaymentIntent retrieval work this way).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar


@dataclass(frozen=True)
class GatewayResult:
    ok: bool
    reference: str = ""
    message: str = ""
    card_last4: str = ""
    # What the provider holds under the key: authorized | captured | voided | declined ("" if not said).
    status: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A provider's webhook, verified and reduced to what Livemarket acts on."""

    id: str
    type: str  # payment.succeeded | payment.failed | refund.succeeded
    reference: str
    amount: Decimal | None = None
    raw: dict = field(default_factory=dict)


class GatewayUnavailable(Exception):
    """The provider did not answer (time-out, network): the outcome is unknown until a lookup."""


class PaymentGateway(ABC):
    name: ClassVar[str]
    registry: ClassVar[dict[str, type["PaymentGateway"]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "name", None):
            PaymentGateway.registry[cls.name] = cls

    @abstractmethod
    def authorize(
        self, *, amount: Decimal, currency: str, card_number: str, idempotency_key: str
    ) -> GatewayResult:
        """Reserve the amount on the card."""

    @abstractmethod
    def save_card(self, *, card_number: str) -> GatewayResult:
        """Store a card with the provider; `reference` is the token to charge it later."""

    @abstractmethod
    def authorize_saved(
        self, *, token: str, amount: Decimal, currency: str, idempotency_key: str
    ) -> GatewayResult:
        """Reserve the amount on a saved card (off-session, e.g. a won auction)."""

    @abstractmethod
    def capture(self, *, reference: str, amount: Decimal, idempotency_key: str) -> GatewayResult:
        """Take an authorised amount."""

    @abstractmethod
    def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        """Drop an authorisation that will not be captured."""

    @abstractmethod
    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> GatewayResult:
        """Give back all or part of a captured amount."""

    @abstractmethod
    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        """What became of the authorisation made with this key (its `status`), or None when the
        provider never saw the key."""

    @abstractmethod
    def parse_webhook(self, *, body: bytes, headers) -> WebhookEvent:
        """Verify the signature and parse; raise orders.exceptions.InvalidWebhook when it fails."""
