"""Forms of the catalog: they check the shape of the input, services do the rest."""

from django import forms
from django.db.models import QuerySet

from shops.models import Shop

from .csv_io import COLUMNS, MAX_FILE_BYTES, MAX_ROWS


class ProductImportForm(forms.Form):
    """Upload a products CSV into one of `shops` (the shops the user may manage).

    With a single permitted shop the choice is not shown: the import always goes there, and a
    posted shop id is ignored. With several, only those shops are valid choices.
    """

    shop = forms.ModelChoiceField(queryset=Shop.objects.none(), empty_label=None)
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"UTF-8 CSV, at most {MAX_FILE_BYTES // (1024 * 1024)} MB and {MAX_ROWS:,} rows. "
            f"Columns: {', '.join(COLUMNS)}."
        ),
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip bad rows",
        help_text="Import the valid rows and list the others. Unticked, one bad row stops the whole import.",
    )

    def __init__(self, *args, shops: QuerySet[Shop], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shop"].queryset = shops
        shop_list = list(shops[:2])
        self.only_shop = shop_list[0] if len(shop_list) == 1 else None
        if self.only_shop is not None:
            del self.fields["shop"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"The file is too large; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.only_shop is not None:
            cleaned["shop"] = self.only_shop
        return cleaned
