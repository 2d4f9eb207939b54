from django.contrib import admin

from shops.admin_scoping import ShopScopedInline, ShopScopedModelAdmin

from .models import Order, OrderLine, Payment


class OrderLineInline(ShopScopedInline):
    model = OrderLine
    shop_path = "order__shop"
    extra = 0
    can_delete = False
    fields = ("product_title", "variant_name", "sku", "unit_price", "quantity", "line_total")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(ShopScopedInline):
    model = Payment
    shop_path = "order__shop"
    extra = 0
    can_delete = False
    fields = ("gateway", "reference", "status", "amount", "currency", "card_last4", "message", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True if obj is not None else super().has_view_permission(request, obj)


@admin.register(Order)
class OrderAdmin(ShopScopedModelAdmin):
    list_display = ("number", "shop", "status", "total", "currency", "email", "created_at")
    list_filter = ("status", "created_at")
    search_fields = ("number", "email", "full_name", "lines__sku")
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline]
    list_select_related = ("shop",)
    readonly_fields = (
        "number",
        "checkout_key",
        "user",
        "shop",
        "status",
        "email",
        "currency",
        "subtotal",
        "shipping_total",
        "total",
        "created_at",
        "paid_at",
        "shipped_at",
        "full_name",
        "line1",
        "line2",
        "city",
        "postal_code",
        "country",
        "phone",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "shop",
                    "status",
                    "user",
                    "email",
                    "created_at",
                    "paid_at",
                    "shipped_at",
                )
            },
        ),
        ("Totals", {"fields": ("currency", "subtotal", "shipping_total", "total")}),
        ("Ship to", {"fields": ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")}),
        ("Technical", {"classes": ("collapse",), "fields": ("checkout_key",)}),
    )

    def has_add_permission(self, request):
        return False  # orders are placed by shoppers, never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # orders are money records: cancel or refund, never delete
