from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, Max
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from shops.admin_refusals import AdminRefused, RefusalAdminMixin
from shops.admin_scoping import ShopScopedInline, ShopScopedModelAdmin, scope_queryset
from shops.models import Shop

from .csv_io import COLUMNS, REQUIRED_COLUMNS, csv_lines, products_export_csv_rows, products_import_csv
from .exceptions import SkuTaken, SlugTaken, StockBelowAllocated
from .forms import ProductImportForm
from .models import Category, InventorySyncRun, Product, ProductImage, Stock, StockFeed, Variant
from .selectors import product_slug_taken, sku_taken
from .services import (
    PRODUCT_EDITABLE,
    product_create,
    product_delete,
    product_image_add,
    product_image_delete,
    product_image_replace,
    product_image_update,
    product_update,
    products_set_status,
    variant_create,
    variant_delete,
    variant_update,
)
from .stock import stock_set_on_hand
from .storefront_cache import product_page_invalidate
from .sync.services import inventory_sync_request

LOW_STOCK_THRESHOLD = 5
VARIANT_FORM_FIELDS = ("sku", "name", "price", "compare_at_price", "weight_grams", "position")


class StockLevelFilter(admin.SimpleListFilter):
    """Sold out / low / healthy, by units available (on hand minus allocated)."""

    title = "stock level"
    parameter_name = "stock"
    stock_path = ""  # lookup from the admin's model to Stock; empty when the model is Stock

    def lookups(self, request, model_admin):
        return [
            ("sold_out", "Sold out"),
            ("low", f"Low (1–{LOW_STOCK_THRESHOLD} left)"),
            ("ok", f"More than {LOW_STOCK_THRESHOLD}"),
        ]

    def queryset(self, request, queryset):
        prefix = f"{self.stock_path}__" if self.stock_path else ""
        on_hand, allocated = f"{prefix}on_hand", F(f"{prefix}allocated")
        conditions = {
            "sold_out": {f"{on_hand}__lte": allocated},
            "low": {f"{on_hand}__gt": allocated, f"{on_hand}__lte": allocated + LOW_STOCK_THRESHOLD},
            "ok": {f"{on_hand}__gt": allocated + LOW_STOCK_THRESHOLD},
        }
        if self.value() not in conditions:
            return queryset
        filtered = queryset.filter(**conditions[self.value()])
        return filtered.distinct() if self.stock_path else filtered


class ProductStockLevelFilter(StockLevelFilter):
    title = "a variant's stock level"
    stock_path = "variants__stock"


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class VariantInlineForm(forms.ModelForm):
    on_hand = forms.IntegerField(min_value=0, required=False, label="On hand", help_text="Units in stock.")

    class Meta:
        model = Variant
        fields = VARIANT_FORM_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stock = getattr(self.instance, "stock", None) if self.instance.pk else None
        self.allocated = stock.allocated if stock else 0
        if stock is not None:
            self.fields["on_hand"].initial = stock.on_hand
            self.fields["on_hand"].help_text = f"Units in stock ({stock.allocated} allocated to orders)."

    def clean_on_hand(self):
        on_hand = self.cleaned_data.get("on_hand")
        if on_hand is not None and on_hand < self.allocated:
            raise forms.ValidationError(
                f"{self.allocated} units are allocated to orders; on hand can't be lower."
            )
        return on_hand


class VariantInlineFormSet(forms.BaseInlineFormSet):
    """A SKU taken in the shop (or twice in the form) is an error on its row, before anything is
    saved (a deleted row's SKU is free); variant_create and variant_update check again when saving."""

    def clean(self):
        super().clean()
        shop_id = self.instance.shop_id
        freed = {form.initial.get("sku") for form in self.deleted_forms}  # deleted first when saving
        seen: set[str] = set()
        for form in self.forms:
            if not form.has_changed() or form in self.deleted_forms or "sku" not in form.cleaned_data:
                continue
            sku = form.cleaned_data["sku"]
            if sku in seen:
                form.add_error("sku", f"SKU {sku} is on two rows.")
            elif (
                "sku" in form.changed_data
                and shop_id
                and sku not in freed
                and sku_taken(shop_id=shop_id, sku=sku, exclude_variant_id=form.instance.pk)
            ):
                form.add_error("sku", str(SkuTaken(sku)))
            seen.add(sku)


class VariantInline(ShopScopedInline):
    model = Variant
    form = VariantInlineForm
    formset = VariantInlineFormSet
    shop_path = "shop"
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock")


class ProductImageInline(ShopScopedInline):
    model = ProductImage
    shop_path = "product__shop"
    extra = 1
    fields = ("image", "alt_text", "position")


class ProductAdminForm(forms.ModelForm):
    """A slug taken in the shop is a form error (Django's own unique check skips it once the shop is
    read-only); product_create and product_update check again when saving."""

    def clean(self):
        cleaned = super().clean()
        shop = cleaned.get("shop") or (self.instance.shop if self.instance.pk else None)
        slug = cleaned.get("slug")
        if (
            shop is not None
            and slug
            and product_slug_taken(shop_id=shop.pk, slug=slug, exclude_product_id=self.instance.pk)
        ):
            self.add_error("slug", str(SlugTaken(slug)))
        return cleaned


@admin.register(Product)
class ProductAdmin(RefusalAdminMixin, ShopScopedModelAdmin):
    form = ProductAdminForm
    list_display = ("title", "shop", "status", "category", "is_featured", "updated_at")
    list_filter = ("status", ProductStockLevelFilter, "category", "is_featured")
    search_fields = ("title", "slug", "variants__sku")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [VariantInline, ProductImageInline]
    actions = ["publish", "archive", "export_csv"]
    list_select_related = ("shop", "category")
    change_list_template = "admin/catalog/product/change_list.html"

    class Media:
        css = {"all": ["css/admin.css"]}  # the variants table fits a 1280 px window

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "import-csv/", self.admin_site.admin_view(self.import_csv_view), name=f"{prefix}_import_csv"
            ),
            path(
                "export-csv/", self.admin_site.admin_view(self.export_csv_view), name=f"{prefix}_export_csv"
            ),
            *super().get_urls(),
        ]

    def _csv_response(self, request, queryset):
        rows = products_export_csv_rows(queryset=queryset, include_shop=request.user.is_superuser)
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
        filename = f"products-{timezone.localdate():%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    @admin.action(description="Export selected products to CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        # `queryset` is the selection within the changelist's shop-scoped get_queryset().
        return self._csv_response(request, queryset)

    def export_csv_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._csv_response(request, self.get_queryset(request))

    def import_csv_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        shops = scope_queryset(Shop.objects.order_by("name"), user=request.user, shop_path="pk")
        form = ProductImportForm(request.POST or None, request.FILES or None, shops=shops)
        result = None
        if request.method == "POST" and form.is_valid():
            result = products_import_csv(
                shop=form.cleaned_data["shop"],
                file=form.cleaned_data["file"],
                skip_invalid=form.cleaned_data["skip_invalid"],
                require_shop_match=request.user.is_superuser,
            )
            if result.applied:
                self.message_user(request, f"Imported into {form.cleaned_data['shop']}.", messages.SUCCESS)
            else:
                self.message_user(request, "Nothing was imported: fix the errors below.", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import products from CSV",
            "form": form,
            "result": result,
            "columns": COLUMNS,
            "required_columns": REQUIRED_COLUMNS,
        }
        return TemplateResponse(request, "admin/catalog/product/import_csv.html", context)

    @admin.action(description="Publish selected products", permissions=["change"])
    def publish(self, request, queryset):
        count = products_set_status(product_ids=list(queryset.values_list("pk", flat=True)), status="active")
        self.message_user(request, f"Published {count} product(s).", messages.SUCCESS)

    @admin.action(description="Archive selected products", permissions=["change"])
    def archive(self, request, queryset):
        count = products_set_status(
            product_ids=list(queryset.values_list("pk", flat=True)), status="archived"
        )
        self.message_user(request, f"Archived {count} product(s).", messages.SUCCESS)

    def get_readonly_fields(self, request, obj=None):
        # A product stays in its shop (its variants, orders and SKUs are the shop's), as in the API.
        return ("shop",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                changes = {name: data[name] for name in form.changed_data if name in PRODUCT_EDITABLE}
                product_update(product=obj, **changes)
                return
            product = product_create(
                shop=data["shop"], **{name: data[name] for name in PRODUCT_EDITABLE if name in data}
            )
        except SlugTaken as exc:
            raise AdminRefused(str(exc)) from exc
        # The admin goes on with the form's instance (inlines, log entry, redirect): make it the row.
        obj.pk, obj.created_at, obj.updated_at = product.pk, product.created_at, product.updated_at

    def delete_model(self, request, obj):
        try:
            product_delete(product=obj)
        except StockBelowAllocated as exc:
            raise AdminRefused(_promised(obj.title, exc, instead="Archive it instead.")) from exc

    def delete_queryset(self, request, queryset):
        for product in queryset.order_by("pk"):
            self.delete_model(request, product)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        slugs = [form.instance.slug, form.initial.get("slug") or form.instance.slug]
        product_page_invalidate(shop_id=form.instance.shop_id, slugs=slugs)

    def save_formset(self, request, form, formset, change):
        if formset.model is ProductImage:
            return self._save_images(form.instance, formset)
        if formset.model is not Variant:
            return super().save_formset(request, form, formset, change)
        return self._save_variants(form.instance, formset)

    def _save_images(self, product, formset):
        """Each image row through the image services (uploads checked, renditions made after commit)."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for image_form in formset.deleted_forms:
            if image_form.instance.pk is not None:
                product_image_delete(image=image_form.instance)
                formset.deleted_objects.append(image_form.instance)
        for image_form in formset.forms:
            if image_form in formset.deleted_forms or not image_form.has_changed():
                continue
            data, image, changed = image_form.cleaned_data, image_form.instance, image_form.changed_data
            if image.pk is None:
                image = product_image_add(
                    product=product, image=data["image"], alt_text=data["alt_text"], position=data["position"]
                )
                formset.new_objects.append(image)
                continue
            if "image" in changed:
                product_image_replace(image=image, file=data["image"])
            product_image_update(
                image=image, **{name: data[name] for name in ("alt_text", "position") if name in changed}
            )
            formset.changed_objects.append((image, changed))

    def _save_variants(self, product, formset):
        """Deletes first (a freed SKU can be reused), then changes and new rows, all through the
        services; any refusal undoes the whole form. Sets the formset's new/changed/deleted_objects
        for the admin's change message, as formset.save() would."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for variant_form in formset.deleted_forms:
            variant = variant_form.instance
            if variant.pk is None:
                continue
            sku = variant_form.initial.get("sku", variant.sku)
            try:
                variant_delete(variant=variant)
            except StockBelowAllocated as exc:
                raise AdminRefused(
                    _promised(f"Variant {sku}", exc, instead="Archive the product instead.")
                ) from exc
            formset.deleted_objects.append(variant)
        for variant_form in formset.forms:
            if variant_form in formset.deleted_forms or not variant_form.has_changed():
                continue
            data, variant = variant_form.cleaned_data, variant_form.instance
            try:
                if variant.pk is None:
                    fields = {name: data[name] for name in VARIANT_FORM_FIELDS}
                    variant = variant_create(product=product, on_hand=data.get("on_hand") or 0, **fields)
                    formset.new_objects.append(variant)
                    continue
                changed = [name for name in VARIANT_FORM_FIELDS if name in variant_form.changed_data]
                variant_update(variant=variant, **{name: data[name] for name in changed})
                if "on_hand" in variant_form.changed_data and data.get("on_hand") is not None:
                    stock_set_on_hand(variant_id=variant.pk, on_hand=data["on_hand"])
                    changed.append("on_hand")
            except SkuTaken as exc:
                raise AdminRefused(str(exc)) from exc
            except StockBelowAllocated as exc:
                raise AdminRefused(
                    f"{variant.sku}: on hand can't go below the {exc.allocated} units allocated to orders."
                ) from exc
            formset.changed_objects.append((variant, changed))


def _promised(what: str, exc: StockBelowAllocated, *, instead: str) -> str:
    units = "unit is" if exc.allocated == 1 else "units are"
    return f"{what} can't be deleted: {exc.allocated} {units} promised to orders or holds. {instead}"


@admin.register(Stock)
class StockAdmin(RefusalAdminMixin, ShopScopedModelAdmin):
    shop_path = "variant__shop"
    list_display = ("variant", "on_hand", "allocated", "available")
    list_filter = (StockLevelFilter,)
    search_fields = ("variant__sku", "variant__product__title")
    readonly_fields = ("variant", "allocated")
    fields = ("variant", "on_hand", "allocated")
    list_select_related = ("variant__product",)

    def has_add_permission(self, request):
        return False  # stock rows come with their variant

    def save_model(self, request, obj, form, change):
        try:
            stock_set_on_hand(variant_id=obj.variant_id, on_hand=obj.on_hand)
        except StockBelowAllocated as exc:
            raise AdminRefused(
                f"On hand can't go below the {exc.allocated} units allocated to orders."
            ) from exc


class StockFeedForm(forms.ModelForm):
    class Meta:
        model = StockFeed
        fields = (
            "shop",
            "source",
            "file",
            "url",
            "format",
            "skip_invalid_rows",
            "enabled",
            "interval_minutes",
        )

    def clean(self):
        data = super().clean()
        source, upload = data.get("source"), data.get("file")
        url = data.get("url") or ""
        if source == StockFeed.Source.URL and not url:
            self.add_error("url", "A URL feed needs its URL.")
        elif url and not url.lower().startswith(("http://", "https://")):
            self.add_error("url", "The URL must start with http:// or https://.")
        if source == StockFeed.Source.UPLOAD and not upload:
            self.add_error("file", "Upload the feed file, or choose the URL source.")
        if upload and getattr(upload, "size", 0) > settings.LIVEMARKET_STOCK_FEED_MAX_BYTES:
            limit = settings.LIVEMARKET_STOCK_FEED_MAX_BYTES // (1024 * 1024)
            self.add_error("file", f"The file is larger than {limit} MB.")
        return data


@admin.register(StockFeed)
class StockFeedAdmin(ShopScopedModelAdmin):
    form = StockFeedForm
    list_display = ("shop", "source", "format", "enabled", "interval_minutes", "last_run")
    list_filter = ("source", "format", "enabled")
    list_select_related = ("shop",)
    actions = ["sync_now", "dry_run_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(last_run_at=Max("runs__created_at"))

    @admin.display(description="last run", ordering="last_run_at")
    def last_run(self, feed):
        return timezone.localtime(feed.last_run_at).strftime("%Y-%m-%d %H:%M") if feed.last_run_at else "—"

    def _request(self, request, queryset, *, dry_run: bool) -> None:
        runs = [
            inventory_sync_request(
                feed=feed, trigger=InventorySyncRun.Trigger.ADMIN, started_by=request.user, dry_run=dry_run
            )
            for feed in queryset.select_related("shop")
        ]
        what = "Dry run" if dry_run else "Sync"
        self.message_user(
            request,
            f"{what} started for {len(runs)} feed(s); see Inventory sync runs for the results.",
            messages.SUCCESS,
        )

    @admin.action(description="Sync now", permissions=["change"])
    def sync_now(self, request, queryset):
        self._request(request, queryset, dry_run=False)

    @admin.action(description="Dry run now (report what would change)", permissions=["change"])
    def dry_run_now(self, request, queryset):
        self._request(request, queryset, dry_run=True)


@admin.register(InventorySyncRun)
class InventorySyncRunAdmin(ShopScopedModelAdmin):
    """The trail of every sync: read-only."""

    list_display = (
        "id",
        "shop",
        "created_at",
        "trigger",
        "started_by",
        "status",
        "dry_run",
        "updated",
        "unchanged",
        "unknown_sku",
        "invalid",
        "conflicts",
    )
    list_filter = ("status", "trigger", "dry_run")
    list_select_related = ("shop", "started_by")
    date_hierarchy = "created_at"
    readonly_fields = (
        "shop",
        "feed",
        "source_label",
        "trigger",
        "started_by",
        "dry_run",
        "status",
        "message",
        "created_at",
        "started_at",
        "finished_at",
        "rows_total",
        "updated",
        "unchanged",
        "unknown_sku",
        "invalid",
        "conflicts",
        "error_list",
    )
    exclude = ("errors",)

    @admin.display(description="first problems")
    def error_list(self, run):
        if not run.errors:
            return "—"
        return format_html_join(
            mark_safe("<br>"), "line {}: {}", ((e.get("line"), e.get("message")) for e in run.errors)
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
