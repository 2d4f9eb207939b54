"""The shows admin: merchants plan and run their shows and see their rooms' records, scoped per shop.

Rows written by the room (pins, deals, giveaways, reminders, summaries) are read-only here; bans and
mutes can be deleted (lifted). ShowNotification is internal bookkeeping and is not registered.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from config.redact import Secret
from orders.admin import ReadOnlyAdminMixin, ReadOnlyInline
from shops.admin_refusals import AdminRefused, RefusalAdminMixin
from shops.admin_scoping import ShopScopedInline, ShopScopedModelAdmin
from shops.models import User

from . import auctions, services
from .exceptions import ShowError
from .models import (
    Bid,
    BlockedWord,
    ChatMessage,
    FlashDeal,
    Giveaway,
    LineupItem,
    Lot,
    PinEvent,
    ShopBan,
    Show,
    ShowMute,
    ShowReminder,
    ShowRole,
    ShowSummary,
)
from .selectors import deals_with_units_claimed, show_peak_viewers

FROM_CHANGE_PAGE = "_from_change"

# Which change-page buttons a show gets in each status (the list offers every action).
ACTIONS_BY_STATUS = {
    "go_live": (Show.Status.SCHEDULED,),
    "end_show": (Show.Status.SCHEDULED, Show.Status.LIVE),
}


class ShopRelatedOnlyFilter(admin.RelatedOnlyFieldListFilter):
    """Filter by shop, offering only the shops in the (scoped) list: never another shop's name."""


# --- Show and its inlines ----------------------------------------------------------------------


class LineupItemForm(forms.ModelForm):
    class Meta:
        model = LineupItem
        fields = ("product", "position")

    def clean(self):
        cleaned = super().clean()
        product = cleaned.get("product")
        try:
            shop_id = self.instance.show.shop_id  # the inline formset sets the (possibly unsaved) show
        except Show.DoesNotExist:
            shop_id = None
        if product is not None and shop_id is not None and product.shop_id != shop_id:
            self.add_error("product", "Choose a product of this show's shop.")
        return cleaned


class LineupItemInline(ShopScopedInline):
    """The lineup, in order. Product choices come from the merchant's own shops (the Product admin's scoping)."""

    model = LineupItem
    form = LineupItemForm
    shop_path = "show__shop"
    fields = ("product", "position")
    autocomplete_fields = ("product",)
    ordering = ("position", "id")
    extra = 1
    verbose_name = "lineup product"
    verbose_name_plural = "lineup"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    # An ended or cancelled show's lineup is fixed (shows.services.lineup_set): shown, not editable.
    def has_add_permission(self, request, obj=None):
        return (obj is None or services.show_lineup_editable(obj)) and super().has_add_permission(
            request, obj
        )

    def has_change_permission(self, request, obj=None):
        editable = obj is None or services.show_lineup_editable(obj)
        return editable and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        editable = obj is None or services.show_lineup_editable(obj)
        return editable and super().has_delete_permission(request, obj)


class UsernameField(forms.ModelChoiceField):
    """A user picked by username: merchants may name anyone, but can't browse the list of accounts."""

    default_error_messages = {"invalid_choice": "There is no active account with that username."}

    def __init__(self, **kwargs):
        super().__init__(
            queryset=User.objects.filter(is_active=True),
            to_field_name="username",
            widget=forms.TextInput(attrs={"autocomplete": "off", "size": 24}),
            **kwargs,
        )

    def prepare_value(self, value):
        if isinstance(value, User):
            return value.username
        if isinstance(value, int):  # a saved row's user_id
            return User.objects.filter(pk=value).values_list("username", flat=True).first() or ""
        return super().prepare_value(value)


class ShowRoleForm(forms.ModelForm):
    user = UsernameField(
        label="Username", help_text="The account's username; users of any shop, or none, can be invited."
    )

    class Meta:
        model = ShowRole
        fields = ("user", "role")


class ShowRoleInline(ShopScopedInline):
    """Co-hosts and moderators for this show only."""

    model = ShowRole
    form = ShowRoleForm
    shop_path = "show__shop"
    extra = 0
    verbose_name = "co-host or moderator"
    verbose_name_plural = "co-hosts and moderators"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Show)
class ShowAdmin(RefusalAdminMixin, ShopScopedModelAdmin):
    list_display = (
        "title",
        "shop",
        "status",
        "scheduled_start",
        "peak",
        "host_console_link",
        "watch_link",
    )
    list_filter = ("status", ("shop", ShopRelatedOnlyFilter))
    search_fields = ("title", "shop__name")
    list_select_related = ("shop",)
    date_hierarchy = "scheduled_start"
    inlines = [LineupItemInline, ShowRoleInline]
    actions = ["go_live", "end_show"]
    readonly_fields = (
        "status",
        "started_at",
        "ended_at",
        "peak",
        "pinned_product",
        "ingest_url",
        "stream_key_status",
        "host_console_link",
        "watch_link",
        "results",
    )
    fieldsets = (
        (None, {"fields": ("shop", "title", "description", "cover", "scheduled_start")}),
        ("Video", {"fields": ("playback_url", "replay_url")}),
        (
            "Streaming from OBS",
            {
                "description": "In OBS: Settings → Stream → Service “Custom…”; paste the server and the "
                "stream key. Keep the key secret: anyone with it can broadcast as this show.",
                "fields": ("ingest_url", "stream_key_status"),
            },
        ),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "started_at",
                    "ended_at",
                    "pinned_product",
                    "host_console_link",
                    "watch_link",
                )
            },
        ),
        ("Results", {"fields": ("results",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shop", "pinned_product", "summary")

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # nothing to stream, watch or count before the show exists
            return self.fieldsets[:2]
        return self.fieldsets

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        show = self.get_object(request, object_id)
        available = self.get_actions(request)
        extra_context["show_actions"] = [
            (name, available[name][2])
            for name, statuses in ACTIONS_BY_STATUS.items()
            if name in available and show.status in statuses
        ]
        extra_context["host_console_url"] = reverse("host_console", args=[show.pk])
        extra_context["watch_url"] = show.get_absolute_url()
        extra_context["action_checkbox_name"] = helpers.ACTION_CHECKBOX_NAME
        extra_context["from_change_page"] = FROM_CHANGE_PAGE
        return super().change_view(request, object_id, form_url, extra_context)

    # --- The stream key: shown once, when made ------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/stream-key/",
                self.admin_site.admin_view(self.stream_key_view),
                name="shows_show_stream_key",
            ),
            *super().get_urls(),
        ]

    def stream_key_view(self, request, object_id):
        """GET asks to confirm; POST makes a new key (the old one stops working) and shows it once."""
        show = self.get_object(request, unquote(object_id))
        if show is None or not self.has_change_permission(request, show):
            raise Http404("No such show")
        raw = None
        if request.method == "POST":
            raw = services.show_stream_key_rotate(show=show)
            self.log_change(request, show, "Made a new stream key.")
        return self._stream_key_page(request, show, raw)

    def _stream_key_page(self, request, show, raw):
        context = {
            **self.admin_site.each_context(request),
            "title": "Copy your stream key" if raw else "Make a new stream key",
            "show": show,
            "raw_key": Secret(raw) if raw else None,
            "ingest_url": settings.LIVEMARKET_INGEST_URL,
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/shows/show/stream_key.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def get_readonly_fields(self, request, obj=None):
        fixed = ("shop",) if obj is not None else ()  # a show stays in its shop, as in the API
        if obj is not None and not services.show_reschedulable(obj):
            fixed += ("scheduled_start",)
        return (*self.readonly_fields, *fixed)

    def save_model(self, request, obj, form, change):
        # A cleared cover comes as False from the form; the model stores "".
        data = {**form.cleaned_data, "cover": form.cleaned_data.get("cover") or ""}
        fields = [name for name in services.SHOW_EDITABLE if name in form.cleaned_data]
        try:
            if change:
                changed = [name for name in fields if name in form.changed_data]
                services.show_update(show=obj, user=request.user, **{name: data[name] for name in changed})
                return
            show = services.show_create(shop=data["shop"], **{name: data[name] for name in fields})
        except ShowError as exc:
            raise AdminRefused(exc.message) from exc
        # The admin goes on with the form's instance (inlines, log entry, the key page): make it the row.
        obj.pk, obj.stream_key_hash, obj.stream_key_hint = show.pk, show.stream_key_hash, show.stream_key_hint
        request._lm_new_stream_key = show.stream_key  # shown once, on the page after saving

    def save_formset(self, request, form, formset, change):
        if formset.model is not LineupItem:
            return super().save_formset(request, form, formset, change)
        if not formset.has_changed() and not formset.deleted_forms:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return None
        # The whole lineup in the posted order, through the service that checks the show's status.
        kept = [f for f in formset.forms if f not in formset.deleted_forms and f.cleaned_data.get("product")]
        kept.sort(key=lambda f: f.cleaned_data.get("position") or 0)
        try:
            services.lineup_set(
                show=form.instance,
                user=request.user,
                product_ids=[f.cleaned_data["product"].pk for f in kept],
            )
        except ShowError as exc:
            raise AdminRefused(exc.message) from exc
        formset.new_objects = [f.instance for f in kept if f.instance.pk is None]
        formset.changed_objects = [
            (f.instance, f.changed_data) for f in kept if f.instance.pk and f.has_changed()
        ]
        formset.deleted_objects = [f.instance for f in formset.deleted_forms if f.instance.pk]
        return None

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_lm_new_stream_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        return self._stream_key_page(request, obj, raw)

    @admin.display(description="Stream key")
    def stream_key_status(self, show):
        return format_html(
            "<code>…{}</code> (shown only once, when it was made) · "
            '<a href="{}">Make a new key</a> (the old one stops working)',
            show.stream_key_hint or "????",
            reverse("admin:shows_show_stream_key", args=[show.pk]),
        )

    # --- Read-only displays -----------------------------------------------------------------

    @admin.display(description="Server (ingest URL)")
    def ingest_url(self, show):
        return settings.LIVEMARKET_INGEST_URL

    @admin.display(description="Peak viewers")
    def peak(self, show):
        return show_peak_viewers(show=show)

    @admin.display(description="Host console")
    def host_console_link(self, show):
        return format_html('<a href="{}">Host console</a>', reverse("host_console", args=[show.pk]))

    @admin.display(description="Watch")
    def watch_link(self, show):
        return format_html('<a href="{}" target="_blank" rel="noopener">Watch</a>', show.get_absolute_url())

    @admin.display(description="Numbers")
    def results(self, show):
        summary = getattr(show, "summary", None) if show.pk else None
        if summary is None:
            return "Computed when the show ends."
        return format_html(
            "{} peak viewers · {} chat messages · {} orders · {} units sold · {} {} in sales "
            "<br><small>as of {}</small>",
            summary.peak_viewers,
            summary.chat_messages,
            summary.orders,
            summary.units_sold,
            summary.sales_total,
            summary.currency,
            summary.computed_at.strftime("%Y-%m-%d %H:%M"),
        )

    # --- Actions ------------------------------------------------------------------------------

    def _run(self, request, queryset, service, *, done: str, status):
        """Call `service` per show; a domain error is reported for that show and the rest go on."""
        shows = list(queryset.order_by("pk"))
        succeeded = []
        for show in shows:
            before = show.status
            try:
                show = service(show=show, user=request.user)
            except ShowError as exc:
                self.message_user(request, f"{show.title}: {exc.message}", messages.ERROR)
                continue
            if show.status == status and before != status:
                self.log_change(request, show, done)
                succeeded.append(show)
        if succeeded:
            titles = ", ".join(show.title for show in succeeded)
            self.message_user(request, f"{done.capitalize()}: {titles}.", messages.SUCCESS)
        if request.POST.get(FROM_CHANGE_PAGE) and len(shows) == 1:
            return HttpResponseRedirect(reverse("admin:shows_show_change", args=[shows[0].pk]))
        return None

    @admin.action(description="Go live", permissions=["change"])
    def go_live(self, request, queryset):
        return self._run(request, queryset, services.show_go_live, done="went live", status=Show.Status.LIVE)

    @admin.action(description="End show", permissions=["change"])
    def end_show(self, request, queryset):
        return self._run(request, queryset, services.show_end, done="ended", status=Show.Status.ENDED)


# --- The room's records ------------------------------------------------------------------------


@admin.register(ChatMessage)
class ChatMessageAdmin(RefusalAdminMixin, ShopScopedModelAdmin):
    """Hiding a message is the room's moderation (chat_delete: recorded with who hid it, and taken out
    of the live room at once); un-ticking shows it again (chat_restore)."""

    shop_path = "show__shop"
    list_display = ("show", "user", "text", "is_deleted", "created_at")
    list_filter = ("is_deleted",)
    search_fields = ("text", "user__username")
    readonly_fields = ("show", "user", "text", "deleted_by", "created_at")
    list_select_related = ("show", "user")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if "is_deleted" not in form.changed_data:
            return
        moderate = services.chat_delete if obj.is_deleted else services.chat_restore
        try:
            moderate(show=obj.show, user=request.user, message_id=obj.pk)
        except ShowError as exc:
            raise AdminRefused(exc.message) from exc


class BlockedWordForm(forms.ModelForm):
    class Meta:
        model = BlockedWord
        fields = ("shop", "word")
        help_texts = {"word": "Chat messages containing this word (any case) are refused."}

    def clean_word(self):
        word = " ".join(self.cleaned_data["word"].split()).casefold()
        if not word:
            raise forms.ValidationError("Enter a word.")
        return word


@admin.register(BlockedWord)
class BlockedWordAdmin(ShopScopedModelAdmin):
    form = BlockedWordForm
    list_display = ("word", "shop")
    list_filter = (("shop", ShopRelatedOnlyFilter),)
    search_fields = ("word",)
    list_select_related = ("shop",)


@admin.register(ShowSummary)
class ShowSummaryAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "show__shop"
    list_display = (
        "show",
        "shop",
        "peak_viewers",
        "chat_messages",
        "orders",
        "units_sold",
        "sales",
        "computed_at",
    )
    list_filter = (("show__shop", ShopRelatedOnlyFilter),)
    search_fields = ("show__title",)
    list_select_related = ("show__shop",)
    ordering = ("-show__ended_at", "-show_id")

    @admin.display(description="Shop", ordering="show__shop__name")
    def shop(self, summary):
        return summary.show.shop

    @admin.display(description="Sales", ordering="sales_total")
    def sales(self, summary):
        return f"{summary.sales_total} {summary.currency}"


@admin.register(FlashDeal)
class FlashDealAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "show__shop"
    list_display = ("variant", "show", "price", "units_total", "units_claimed", "per_buyer_limit", "status")
    list_filter = ("status",)
    search_fields = ("show__title", "variant__sku", "variant__product__title")
    list_select_related = ("show", "variant__product")
    date_hierarchy = "starts_at"

    def get_queryset(self, request):
        return deals_with_units_claimed(super().get_queryset(request))

    @admin.display(description="Units claimed", ordering="claimed_units")
    def units_claimed(self, deal):
        return deal.claimed_units


@admin.register(Giveaway)
class GiveawayAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "show__shop"
    list_display = ("variant", "show", "status", "entries_count", "winner", "followers_only", "opens_at")
    list_filter = ("status", "followers_only")
    search_fields = ("show__title", "variant__sku", "variant__product__title")
    list_select_related = ("show", "variant__product", "winner")
    date_hierarchy = "opens_at"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entry_count=Count("entries"))

    @admin.display(description="Entries", ordering="entry_count")
    def entries_count(self, giveaway):
        return giveaway.entry_count


@admin.register(ShopBan)
class ShopBanAdmin(ShopScopedModelAdmin):
    """Bans from all of a shop's shows, made in the room. Deleting one lifts the ban."""

    list_display = ("user", "shop", "reason", "banned_by", "created_at")
    list_filter = (("shop", ShopRelatedOnlyFilter),)
    search_fields = ("user__username", "reason")
    list_select_related = ("user", "shop", "banned_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShowMute)
class ShowMuteAdmin(ShopScopedModelAdmin):
    """Mutes in one show, made in the room. Deleting one lifts the mute."""

    shop_path = "show__shop"
    list_display = ("user", "show", "muted_by", "created_at")
    search_fields = ("user__username", "show__title")
    list_select_related = ("user", "show", "muted_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShowReminder)
class ShowReminderAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    shop_path = "show__shop"
    list_display = ("user", "show", "created_at")
    search_fields = ("show__title",)
    list_select_related = ("user", "show")


@admin.register(PinEvent)
class PinEventAdmin(ReadOnlyAdminMixin, ShopScopedModelAdmin):
    """Every pin with its offset into the show: the replay's chapters."""

    shop_path = "show__shop"
    list_display = ("product", "show", "offset_seconds", "pinned_at")
    search_fields = ("show__title", "product__title")
    list_select_related = ("product", "show")
    ordering = ("show", "offset_seconds", "id")


# --- Auctions ------------------------------------------------------------------------------------


class BidInline(ReadOnlyInline):
    """The full bid history of a lot, newest first, for the seller and ops to audit."""

    model = Bid
    shop_path = "lot__show__shop"
    fields = ("created_at", "user", "amount", "max_amount", "is_auto")
    ordering = ("-created_at", "-id")


class LotForm(forms.ModelForm):
    """Only the ceiling is editable, and only while the lot is open (the service re-checks it under
    the lot's lock when saving)."""

    class Meta:
        model = Lot
        fields = ("bid_ceiling",)

    def clean_bid_ceiling(self):
        value = self.cleaned_data.get("bid_ceiling")
        try:
            return auctions.lot_ceiling_parse(self.instance, value)
        except ShowError as exc:
            raise forms.ValidationError(exc.message) from None


@admin.register(Lot)
class LotAdmin(ShopScopedModelAdmin):
    """Lots are started from the host console or the API; here sellers audit them, change an open
    lot's ceiling and settle failed payments."""

    shop_path = "show__shop"
    form = LotForm
    list_display = ("title", "show", "status", "current_price", "leader", "bid_count", "winner", "ends_at")
    list_filter = ("status", "mode")
    search_fields = ("title", "show__title", "winner__email", "leader__email")
    list_select_related = ("show", "leader", "winner")
    date_hierarchy = "opened_at"
    inlines = [BidInline]
    actions = ["offer_runner_up", "relist", "release"]
    fields = (
        "title",
        "show",
        "variant",
        "quantity",
        "currency",
        "status",
        "starting_price",
        "increment",
        "increment_table",
        "bid_ceiling",
        "mode",
        "duration_seconds",
        "extend_seconds",
        "opened_at",
        "ends_at",
        "closed_at",
        "current_price",
        "leader",
        "bid_count",
        "winner",
        "winning_price",
        "order_id",
        "relisted_as",
        "created_by",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == Lot.Status.OPEN:
            return tuple(name for name in self.fields if name != "bid_ceiling")
        return self.fields

    def has_add_permission(self, request):
        return False  # lots start in a live show (host console, API)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if "bid_ceiling" not in form.changed_data:
            return
        try:
            auctions.lot_ceiling_set(lot_id=obj.pk, user=request.user, bid_ceiling=obj.bid_ceiling)
        except ShowError as exc:  # the lot closed, or a bid passed the new ceiling, since the form
            self.message_user(request, f"Ceiling not changed: {exc.message}", messages.ERROR)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_settle_permission(self, request):
        return request.user.has_perm("shows.change_lot")

    def _settle(self, request, queryset, service, done: str):
        for lot in queryset.order_by("pk"):
            try:
                service(lot_id=lot.pk, user=request.user)
            except ShowError as exc:
                self.message_user(request, f"{lot}: {exc.message}", messages.ERROR)
                continue
            self.log_change(request, lot, done)
            self.message_user(request, f"{lot.title}: {done}.", messages.SUCCESS)

    @admin.action(description="Offer to the runner-up (after a failed payment)", permissions=["settle"])
    def offer_runner_up(self, request, queryset):
        self._settle(request, queryset, auctions.lot_offer_runner_up, "offered to the runner-up")

    @admin.action(description="Relist in the live show (after a failed payment)", permissions=["settle"])
    def relist(self, request, queryset):
        self._settle(request, queryset, auctions.lot_relist, "relisted")

    @admin.action(description="Return the units to stock (after a failed payment)", permissions=["settle"])
    def release(self, request, queryset):
        self._settle(request, queryset, auctions.lot_release, "units returned to stock")
