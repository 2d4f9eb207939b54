from django import forms
from django.contrib import admin, messages

from shops.admin_scoping import ShopScopedInline, ShopScopedModelAdmin

from .exceptions import StockBelowAllocated
from .models import Category, Product, ProductImage, Stock, Variant
from .services import products_set_status
from .stock import stock_set_on_hand


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}


class VariantInlineForm(forms.ModelForm):
    on_hand = forms.IntegerField(min_value=0, required=False, label="On hand", help_text="Units in stock.")

    class Meta:
        model = Variant
        fields = ("sku", "name", "price", "compare_at_price", "weight_grams", "position")

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


class VariantInline(ShopScopedInline):
    model = Variant
    form = VariantInlineForm
    shop_path = "shop"
    extra = 1

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock")


class ProductImageInline(ShopScopedInline):
    model = ProductImage
    shop_path = "product__shop"
    extra = 1
    fields = ("image", "alt_text", "position")


@admin.register(Product)
class ProductAdmin(ShopScopedModelAdmin):
    list_display = ("title", "shop", "status", "category", "is_featured", "updated_at")
    list_filter = ("status", "category", "is_featured")
    search_fields = ("title", "slug", "variants__sku")
    prepopulated_fields = {"slug": ("title",)}
    inlines = [VariantInline, ProductImageInline]
    actions = ["publish", "archive"]
    list_select_related = ("shop", "category")

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

    def save_formset(self, request, form, formset, change):
        if formset.model is not Variant:
            return super().save_formset(request, form, formset, change)
        for variant in formset.save(commit=False):
            variant.shop_id = form.instance.shop_id
            variant.save()
            Stock.objects.get_or_create(variant=variant)
        for obj in formset.deleted_objects:
            obj.delete()
        for variant_form in formset.forms:
            on_hand = variant_form.cleaned_data.get("on_hand") if variant_form.cleaned_data else None
            variant = variant_form.instance
            if on_hand is None or not variant.pk or variant_form in formset.deleted_forms:
                continue
            try:
                stock_set_on_hand(variant_id=variant.pk, on_hand=on_hand)
            except StockBelowAllocated as exc:
                self.message_user(
                    request,
                    f"{variant.sku}: on hand not changed, {exc.allocated} units are allocated.",
                    messages.ERROR,
                )


@admin.register(Stock)
class StockAdmin(ShopScopedModelAdmin):
    shop_path = "variant__shop"
    list_display = ("variant", "on_hand", "allocated", "available")
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
            self.message_user(request, f"Not changed: {exc.allocated} units are allocated.", messages.ERROR)
