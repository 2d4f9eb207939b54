"""Input shapes for cart and checkout; business rules stay in services."""

import uuid

from django import forms

from .models import Address


class AddToCartForm(forms.Form):
    variant_id = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)


class CartLineForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=99)


class CardAndAddressForm(forms.ModelForm):
    """A card number and a shipping address: checkout, and getting ready to bid."""

    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        help_text="Test mode: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.",
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )

    class Meta:
        model = Address
        fields = ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")
        error_messages = {"country": {"max_length": "Use the two-letter country code, e.g. US or DE."}}
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "country": forms.TextInput(attrs={"autocomplete": "country", "maxlength": 2}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel"}),
        }

    def clean_country(self):
        country = self.cleaned_data["country"].strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise forms.ValidationError("Use the two-letter country code, e.g. US or DE.")
        return country

    def clean_card_number(self):
        digits = "".join(ch for ch in self.cleaned_data["card_number"] if ch.isdigit())
        if not 12 <= len(digits) <= 19:
            raise forms.ValidationError("Enter a valid card number.")
        return digits

    def address_data(self) -> dict:
        return {field: self.cleaned_data.get(field, "") for field in self.Meta.fields}


class BiddingSetupForm(CardAndAddressForm):
    """Bidders save a card (charged only if they win) and where to ship what they win."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card_number"].help_text = (
            "Charged only when you win. Test mode: 4242 4242 4242 4242; "
            "4000 0000 0000 0341 saves but its charges are declined."
        )


class CheckoutForm(CardAndAddressForm):
    checkout_key = forms.UUIDField(widget=forms.HiddenInput)
    email = forms.EmailField()
    save_address = forms.BooleanField(required=False, initial=True, label="Save this address")

    field_order = ["checkout_key", "email", *CardAndAddressForm.Meta.fields, "card_number", "save_address"]

    def __init__(self, *args, shipping_methods: dict | None = None, shops: dict | None = None, **kwargs):
        """`shipping_methods`: shop id -> that shop's active methods; one choice per shop in the cart."""
        super().__init__(*args, **kwargs)
        self.shipping_field_names = []
        for shop_id, methods in sorted((shipping_methods or {}).items()):
            if not methods:
                continue
            name = f"shipping_{shop_id}"
            shop = (shops or {}).get(shop_id) or methods[0].shop
            self.fields[name] = forms.TypedChoiceField(
                label=f"Shipping from {shop.name}",
                coerce=int,
                choices=[
                    (m.pk, f"{m.name} — {m.price} {shop.currency} ({m.min_days}–{m.max_days} days)")
                    for m in methods
                ],
                initial=methods[0].pk,
                widget=forms.RadioSelect,
            )
            self.shipping_field_names.append(name)

    @property
    def shipping_fields(self):
        return [self[name] for name in self.shipping_field_names]

    def shipping_choices(self) -> dict[int, int]:
        return {int(name.split("_", 1)[1]): self.cleaned_data[name] for name in self.shipping_field_names}

    @staticmethod
    def new_key() -> uuid.UUID:
        return uuid.uuid4()


class ReviewForm(forms.Form):
    """A shop review's shape; orders.reviews.review_save decides whether the order may be reviewed."""

    RATINGS = [(n, f"{n} star{'s' if n != 1 else ''}") for n in range(5, 0, -1)]

    rating = forms.TypedChoiceField(
        choices=RATINGS,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a rating from 1 to 5 stars.",
            "invalid_choice": "Choose a rating from 1 to 5 stars.",
        },
    )
    text = forms.CharField(
        label="Your review",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}),
        help_text="Optional. Shown on the shop page with your display name.",
    )
