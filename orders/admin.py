"""The merchant's order desk, and read-only views of holds, waitlists, parcels and refunds.

Every admin of a shop-owned model is scoped with ShopScopedModelAdmin. The order actions only
collect input and call the services in orders.fulfilment; the services decide what is allowed and
their domain errors become per-order messages here.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from catalog.exceptions import InsufficientStock
from shops.admin_scoping import ShopScopedInline, ShopScopedModelAdmin
from shops.selectors import shop_ids_for_user

from .admin_forms import OrderCancelForm, OrderRefundForm, OrderShipForm
from .exceptions import OrderError
from .lifecycle import NOT_YET_SHIPPED
from .models import (
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentWebhookEvent,
    Refund,
    Reservation,
    Review,
    Shipment,
    ShippingMethod,
    WaitlistEntry,
)
from .services import order_cancel, order_mark_delivered, order_refund, orders_ship, review_set_hidden

S = Order.Status
FROM_CHANGE_PAGE = "_from_change"


class ReadOnlyAdminMixin:
    """Rows written only by services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, ShopScopedInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


# --- Order -------------------------------------------------------------------------------------


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    shop_path = "order__shop"
    fields = ("product_title", "variant_name", "sku", "unit_price", "quantity", "line_total")


class PaymentInline(ReadOnlyInline):
    model = Payment
    shop_path = "order__shop"
    fields = (
        "gateway",
        "reference",
        "status",
        "amount",
        "currency",
        "refunded_amount",
        "card_last4",
        "message",
        "created_at",
    )


class RefundInline(ReadOnlyInline):
    model = Refund
    shop_path = "order__shop"
    fields = ("created_at", "amount", "reason", "reference", "actor")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    shop_path = "order__shop"
    verbose_name = "timeline entry"
    verbose_name_plural = "timeline"
    fields = ("created_at", "kind", "from_status", "to_status", "actor_label", "actor", "message")
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class BoughtInShowFilter(admin.SimpleListFilter):
    title = "bought in a live show"
    parameter_name = "in_show"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(show_id__isnull=False)
        if self.value() == "no":
            return queryset.filter(show_id__isnull=True)
        return queryset


# Which single-order buttons the change page offers, by status (the services still decide).
ACTIONS_BY_STATUS = {
    "mark_shipped": {S.PAID, S.FULFILLING},
    "mark_delivered": {S.SHIPPED},
    "refund": {S.PAID, S.FULFILLING, S.SHIPPED, S.DELIVERED},
    "cancel": set(NOT_YET_SHIPPED),
}


@admin.register(Order)
class OrderAdmin(ShopScopedModelAdmin):
    # Every column fits beside the nav and filter sidebars at 1280 px (tests/e2e/test_admin_layout.py):
    # the total carries its currency and any refund, the e-mail is cut with an ellipsis, the date is
    # short, the shop column shows only to someone who sees more than one shop, and whether it was
    # bought in a live show is a filter (and on the order's page), not a column.
    list_display = ("number", "shop", "status", "total_shown", "email_shown", "placed")
    list_filter = ("status", BoughtInShowFilter, "created_at")
    search_fields = ("number", "email", "full_name", "lines__sku")
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline, RefundInline, OrderEventInline]
    list_select_related = ("shop",)
    actions = ["mark_shipped", "mark_delivered", "refund", "cancel"]
    change_form_template = "admin/orders/order/change_form.html"
    readonly_fields = (
        "number",
        "checkout_key",
        "user",
        "shop",
        "show_id",
        "status",
        "cancel_reason",
        "email",
        "currency",
        "subtotal",
        "shipping_method_name",
        "shipping_total",
        "total",
        "refunded_total",
        "created_at",
        "paid_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
        "full_name",
        "line1",
        "line2",
        "city",
        "postal_code",
        "country",
        "phone",
        "shipment_summary",
        "packing_slip",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "shop",
                    "status",
                    "cancel_reason",
                    "user",
                    "email",
                    "show_id",
                    "created_at",
                    "paid_at",
                    "shipped_at",
                    "delivered_at",
                    "cancelled_at",
                )
            },
        ),
        (
            "Totals",
            {
                "fields": (
                    "currency",
                    "subtotal",
                    "shipping_method_name",
                    "shipping_total",
                    "total",
                    "refunded_total",
                )
            },
        ),
        ("Ship to", {"fields": ("full_name", "line1", "line2", "city", "postal_code", "country", "phone")}),
        ("Parcel", {"fields": ("shipment_summary", "packing_slip")}),
        ("Technical", {"classes": ("collapse",), "fields": ("checkout_key",)}),
    )

    class Media:
        css = {"all": ["css/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shop", "shipment", "user")

    def get_list_display(self, request):
        if request.user.is_superuser or len(shop_ids_for_user(request.user)) > 1:
            return self.list_display
        return tuple(column for column in self.list_display if column != "shop")

    def has_add_permission(self, request):
        return False  # orders are placed by shoppers, never typed in

    def has_delete_permission(self, request, obj=None):
        return False  # orders are money records: cancel or refund, never delete

    # Every field is read-only and every change is an action: saving the page writes nothing to the order
    # (a plain save would write back the whole row as read, over a payment or cancellation made meanwhile).
    def save_model(self, request, obj, form, change):
        pass

    # --- Read-only displays -----------------------------------------------------------------

    @admin.display(description="Total", ordering="total")
    def total_shown(self, order):
        if order.refunded_total:
            return format_html(
                '{} {}<br><span class="lm-muted">{} refunded</span>',
                order.total,
                order.currency,
                order.refunded_total,
            )
        return f"{order.total} {order.currency}"

    @admin.display(description="E-mail", ordering="email")
    def email_shown(self, order):
        return format_html('<span class="lm-ellipsis" title="{}">{}</span>', order.email, order.email)

    @admin.display(description="Placed", ordering="created_at")
    def placed(self, order):
        return date_format(localtime(order.created_at), "j M Y, H:i")

    @admin.display(description="Parcel")
    def shipment_summary(self, order):
        shipment = order.shipment
        if shipment is None:
            return "Not packed yet"
        bundled = [o for o in shipment.orders.order_by("id") if o.pk != order.pk]
        parts = [format_html("Shipment {} · {}", shipment.pk, shipment.get_status_display())]
        if shipment.carrier or shipment.tracking_number:
            parts.append(
                format_html("Carrier: {} · Tracking number: {}", shipment.carrier, shipment.tracking_number)
            )
        if bundled:
            parts.append(
                format_html(
                    "Ships with {}",
                    format_html_join(
                        ", ",
                        '<a href="{}">{}</a>',
                        ((reverse("admin:orders_order_change", args=[o.pk]), o.number) for o in bundled),
                    ),
                )
            )
        return format_html_join("\n", "<div>{}</div>", ((part,) for part in parts))

    @admin.display(description="Packing slip")
    def packing_slip(self, order):
        if order.shipment is None or not order.shipment.packing_slip:
            return "-"
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', order.shipment.packing_slip)

    # --- Change page: buttons for the same actions on this one order --------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if self.has_change_permission(request, order):
            available = self.get_actions(request)
            extra_context["order_actions"] = [
                (name, available[name][2].rstrip("…"))
                for name, statuses in ACTIONS_BY_STATUS.items()
                if name in available and order.status in statuses
            ]
        extra_context["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
        extra_context["from_change_page"] = FROM_CHANGE_PAGE
        return super().change_view(request, object_id, form_url, extra_context)

    # --- Actions ------------------------------------------------------------------------------

    def _after_action(self, request, queryset):
        """Back to the order's page when the action was started there, else to the list."""
        if request.POST.get(FROM_CHANGE_PAGE) and len(queryset) == 1:
            return HttpResponseRedirect(reverse("admin:orders_order_change", args=[queryset[0].pk]))
        return None

    def _nothing_selected(self, request):
        self.message_user(request, "None of the selected orders can be found in your shop.", messages.WARNING)

    def _confirm_page(self, request, queryset, *, action: str, form, title: str, intro: str, button: str):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "button": button,
            "opts": self.opts,
            "orders": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "from_change_page": FROM_CHANGE_PAGE,
            "from_change": request.POST.get(FROM_CHANGE_PAGE, ""),
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/orders/order/action_confirm.html", context)

    def _apply(self, request, orders, apply: Callable[[Order], str], *, done: str) -> None:
        """Run `apply` per order; a domain error is reported for that order and the rest go on."""
        succeeded, refused = [], []
        for order in orders:
            try:
                succeeded.append((order, apply(order)))
            except (OrderError, InsufficientStock) as exc:
                refused.append((order, exc))
        self._report(request, succeeded, refused, done=done)

    def _report(self, request, succeeded: list[tuple[Order, str]], refused, *, done: str) -> None:
        """An error message per refused order, a log entry per changed one, then one success line."""
        for order, exc in refused:
            if isinstance(exc, InsufficientStock):
                message = (
                    f"Order {order.number}: the stock records don't cover its units; nothing was changed."
                )
            else:
                message = exc.message
            self.message_user(request, message, messages.ERROR)
        for order, note in succeeded:
            self.log_change(request, order, note)
        if succeeded:
            numbers = ", ".join(order.number for order, _ in succeeded)
            count = len(succeeded)
            self.message_user(
                request, f"{count} order{'s' if count != 1 else ''} {done}: {numbers}.", messages.SUCCESS
            )

    @admin.action(description="Mark shipped…", permissions=["change"])
    def mark_shipped(self, request, queryset):
        orders = list(queryset.order_by("pk"))
        if not orders:
            return self._nothing_selected(request)
        form = OrderShipForm(request.POST if "apply" in request.POST else None)
        if not form.is_bound or not form.is_valid():
            return self._confirm_page(
                request,
                orders,
                action="mark_shipped",
                form=form,
                title="Mark orders shipped",
                intro=(
                    "Orders packed in one parcel ship together: every order in a selected order's "
                    "parcel is marked shipped with this tracking number."
                ),
                button="Mark shipped",
            )
        carrier, tracking = form.cleaned_data["carrier"], form.cleaned_data["tracking_number"]
        result = orders_ship(orders=orders, actor=request.user, carrier=carrier, tracking_number=tracking)
        note = f"Shipped with {carrier} {tracking}"
        self._report(
            request, [(order, note) for order in result.shipped], result.refused, done="marked shipped"
        )
        if result.bundled:
            numbers = ", ".join(order.number for order in result.bundled)
            self.message_user(request, f"Shipped in the same parcel: {numbers}.", messages.INFO)
        return self._after_action(request, orders)

    @admin.action(description="Mark delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        orders = list(queryset.order_by("pk"))
        if not orders:
            return self._nothing_selected(request)

        def deliver(order):
            order_mark_delivered(order=order, actor=request.user)
            return "Marked delivered"

        self._apply(request, orders, deliver, done="marked delivered")
        return self._after_action(request, orders)

    @admin.action(description="Refund…", permissions=["change"])
    def refund(self, request, queryset):
        orders = list(queryset.order_by("pk"))
        if not orders:
            return self._nothing_selected(request)
        currencies = {o.currency for o in orders}
        form = OrderRefundForm(request.POST if "apply" in request.POST else None, currencies=currencies)
        if not form.is_bound or not form.is_valid():
            return self._confirm_page(
                request,
                orders,
                action="refund",
                form=form,
                title="Refund orders",
                intro=(
                    "The money goes back to the card the order was paid with. A refund of everything "
                    "that is left ends the order and puts its units back in stock."
                ),
                button="Refund",
            )
        amount, reason, key = (
            form.refund_amount,
            form.cleaned_data["reason"],
            form.cleaned_data["request_key"],
        )

        def do_refund(order):
            refunded = order_refund(
                order=order,
                actor=request.user,
                amount=amount,
                reason=reason,
                request_key=f"admin:{key}:{order.pk}" if key else None,
            )
            what = f"{amount} {order.currency}" if amount is not None else "in full"
            return f"Refunded {what} (now {refunded.refunded_total} {order.currency} refunded): {reason}"

        self._apply(request, orders, do_refund, done="refunded")
        return self._after_action(request, orders)

    @admin.action(description="Cancel…", permissions=["change"])
    def cancel(self, request, queryset):
        orders = list(queryset.order_by("pk"))
        if not orders:
            return self._nothing_selected(request)
        form = OrderCancelForm(request.POST if "apply" in request.POST else None)
        if not form.is_bound or not form.is_valid():
            return self._confirm_page(
                request,
                orders,
                action="cancel",
                form=form,
                title="Cancel orders",
                intro=(
                    "Only orders that have not shipped can be cancelled. Their units go back on sale "
                    "(or to the waitlist) and paid orders are refunded in full."
                ),
                button="Cancel orders",
            )
        reason = form.cleaned_data["reason"]

        def do_cancel(order):
            order_cancel(order=order, actor=request.user, reason=reason)
            return f"Cancelled: {reason}"

        self._apply(request, orders, do_cancel, done="cancelled")
        return self._after_action(request, orders)


# --- Shipping methods, parcels, refunds ---------------------------------------------------------


@admin.register(ShippingMethod)
class ShippingMethodAdmin(ShopScopedModelAdmin):
    list_display = ("name", "shop", "price", "currency", "min_days", "max_days", "is_active", "position")
    list_filter = ("is_active",)
    search_fields = ("name",)
    list_select_related = ("shop",)
    fields = ("shop", "name", "price", "min_days", "max_days", "is_active", "position")

    @admin.display(description="Currency")
    def currency(self, method):
        return method.shop.currency

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["price"].help_text = "In the shop's currency."
        form.base_fields["max_days"].help_text = "Delivery time shown to shoppers, in working days."
        return form


class ShipmentOrderInline(ReadOnlyInline):
    model = Order
    shop_path = "shop"
    fields = ("number", "status", "email", "total", "currency", "shipped_at")
    show_change_link = True
    verbose_name = "order in this parcel"
    verbose_name_plural = "orders in this parcel"


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    list_display = (
        "__str__",
        "shop",
        "user",
        "status",
        "carrier",
        "tracking_number",
        "created_at",
        "shipped_at",
    )
    list_filter = ("status",)
    search_fields = ("tracking_number", "orders__number", "user__email")
    list_select_related = ("shop", "user")
    inlines = [ShipmentOrderInline]
    fields = (
        "shop",
        "user",
        "show_id",
        "status",
        "carrier",
        "tracking_number",
        "created_at",
        "shipped_at",
        "packing_slip_text",
    )
    readonly_fields = fields

    @admin.display(description="Packing slip")
    def packing_slip_text(self, shipment):
        if not shipment.packing_slip:
            return "-"
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', shipment.packing_slip)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "order__shop"
    list_display = ("__str__", "order", "amount", "currency", "reason", "reference", "actor", "created_at")
    search_fields = ("order__number", "reference", "reason")
    list_select_related = ("order", "actor")
    date_hierarchy = "created_at"

    @admin.display(description="Currency")
    def currency(self, refund):
        return refund.order.currency


# --- Shop reviews -----------------------------------------------------------------------------------


@admin.register(Review)
class ReviewAdmin(ShopScopedModelAdmin):
    """Buyers' reviews of the shop. Shop staff (and ops) may hide one from the shop page; the rating
    and text are the buyer's and never edited here."""

    list_display = ("order", "shop", "user", "rating", "short_text", "hidden", "created_at")
    list_filter = ("hidden", "rating")
    search_fields = ("order__number", "text", "user__username")
    list_select_related = ("order", "shop", "user")
    fields = ("order", "shop", "user", "rating", "text", "created_at", "updated_at", "hidden")
    readonly_fields = ("order", "shop", "user", "rating", "text", "created_at", "updated_at")
    date_hierarchy = "created_at"

    @admin.display(description="Text")
    def short_text(self, review):
        return review.text[:80] + ("…" if len(review.text) > 80 else "")

    def has_add_permission(self, request):
        return False  # only the buyer writes a review, from their order page

    def has_delete_permission(self, request, obj=None):
        return False  # hide it instead

    def save_model(self, request, obj, form, change):
        review_set_hidden(review=obj, hidden=form.cleaned_data["hidden"])


# --- Holds and waitlists ---------------------------------------------------------------------------


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "variant__shop"
    list_display = (
        "__str__",
        "variant",
        "user",
        "quantity",
        "status",
        "from_waitlist",
        "expires_at",
        "order",
    )
    list_filter = ("status", "from_waitlist")
    search_fields = ("variant__sku", "variant__product__title", "user__email")
    list_select_related = ("variant__product", "user", "order")


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "variant__shop"
    list_display = ("__str__", "variant", "user", "status", "created_at", "offered_at")
    list_filter = ("status",)
    search_fields = ("variant__sku", "variant__product__title", "user__email")
    list_select_related = ("variant__product", "user")


# --- Ops only -------------------------------------------------------------------------------------


@admin.register(PaymentWebhookEvent)
class PaymentWebhookEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every webhook the gateways sent: not shop-owned, so for ops superusers only."""

    list_display = ("__str__", "gateway", "event_type", "received_at", "result")
    list_filter = ("gateway", "event_type")
    search_fields = ("event_id", "result")
    date_hierarchy = "received_at"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
