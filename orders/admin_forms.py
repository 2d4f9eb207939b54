"""Forms of the order admin's intermediate action pages. They check the shape of the input only;
the services in orders.fulfilment decide whether the move is allowed."""

import uuid
from decimal import Decimal

from django import forms


class OrderShipForm(forms.Form):
    carrier = forms.CharField(max_length=60, help_text="e.g. UPS, DHL, Royal Mail.")
    tracking_number = forms.CharField(max_length=80)

    def clean_tracking_number(self):
        value = self.cleaned_data["tracking_number"].strip()
        if not value:
            raise forms.ValidationError("Enter the parcel's tracking number.")
        return value


class OrderRefundForm(forms.Form):
    FULL, PARTIAL = "full", "partial"

    kind = forms.ChoiceField(
        label="Refund",
        choices=[(FULL, "Everything not refunded yet"), (PARTIAL, "A part of it")],
        initial=FULL,
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="For a partial refund, in the order's currency.",
    )
    reason = forms.CharField(max_length=200)
    # Names this submit: the same form sent twice (a double click) refunds once.
    request_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4, required=False)

    def __init__(self, *args, currencies: set[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currencies = currencies or set()
        if len(self.currencies) == 1:
            self.fields["amount"].help_text = f"For a partial refund, in {next(iter(self.currencies))}."

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == self.PARTIAL:
            if cleaned.get("amount") is None and "amount" not in self.errors:
                self.add_error("amount", "Enter the amount to refund.")
            if len(self.currencies) > 1:
                raise forms.ValidationError(
                    "These orders are in different currencies: refund a part of them one currency at a time."
                )
        return cleaned

    @property
    def refund_amount(self) -> Decimal | None:
        """None means the full remaining amount (what order_refund expects)."""
        return self.cleaned_data["amount"] if self.cleaned_data["kind"] == self.PARTIAL else None


class OrderCancelForm(forms.Form):
    reason = forms.CharField(
        max_length=200, help_text="Kept on the order and shown to the shopper in the cancellation e-mail."
    )
