from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.template.response import TemplateResponse

from config.ratelimit import over_limit, too_many_message
from config.redact import Secret

from .admin_scoping import ShopScopedModelAdmin
from .apikeys import api_key_create, api_key_rename, api_keys_revoke
from .models import ApiKey, Follow, Shop, ShopMembership, User, WebhookDelivery, WebhookEndpoint, WebhookEvent
from .services import shop_member_add
from .webhooks import (
    webhook_deliveries_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
    webhook_url_validate,
)


@admin.register(User)
class LivemarketUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Livemarket", {"fields": ("display_name",)}))
    list_display = ("username", "email", "display_name", "is_staff", "is_superuser")


@admin.register(Shop)
class ShopAdmin(ShopScopedModelAdmin):
    shop_path = "pk"
    list_display = ("name", "slug", "status", "currency", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_readonly_fields(self, request, obj=None):
        # Merchants edit their storefront, not their standing or identity.
        if request.user.is_superuser:
            return ()
        return ("slug", "status", "currency")

    def get_prepopulated_fields(self, request, obj=None):
        # A read-only slug is not in the form: prepopulating it would be a KeyError (a 500).
        return self.prepopulated_fields if request.user.is_superuser else {}

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(ShopMembership)
class ShopMembershipAdmin(ShopScopedModelAdmin):
    list_display = ("user", "shop", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "shop__name")
    raw_id_fields = ("user",)

    def save_model(self, request, obj, form, change):
        # Through the service, so the new member also gets admin access and merchant permissions.
        shop_member_add(shop=obj.shop, user=obj.user, role=obj.role)


@admin.register(Follow)
class FollowAdmin(ShopScopedModelAdmin):
    list_display = ("user", "shop", "created_at")
    search_fields = ("user__username", "shop__name")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser


# --- API keys and webhooks ---------------------------------------------------------------------


class CredentialRateLimitMixin:
    """New API keys and webhook endpoints count against LIVEMARKET_CREDENTIAL_CREATE_RATE per user
    (shared with the API's endpoint creation). Over it, the add form answers 429 and saves nothing."""

    def add_view(self, request, form_url="", extra_context=None):
        if request.method == "POST":
            over = over_limit(setting="LIVEMARKET_CREDENTIAL_CREATE_RATE", key=f"cred:{request.user.pk}")
            if over:
                context = {
                    **self.admin_site.each_context(request),
                    "title": "Too many new keys",
                    "message": too_many_message(*over, "new API keys and webhook endpoints"),
                    "opts": self.opts,
                }
                response = TemplateResponse(request, "admin/too_many_requests.html", context, status=429)
                response["Retry-After"] = str(over[1])
                return response
        return super().add_view(request, form_url, extra_context)


@admin.register(ApiKey)
class ApiKeyAdmin(CredentialRateLimitMixin, ShopScopedModelAdmin):
    """Keys are made here and shown once, on the page after saving; only a hash is kept."""

    list_display = ("name", "shop", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    @admin.display(description="key")
    def key_prefix(self, key):
        return f"lm_{key.prefix}_…"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("shop", "name")
        return ("shop", "name", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("shop", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row is the record of who could call the API

    def save_model(self, request, obj, form, change):
        if change:
            api_key_rename(key=obj, name=form.cleaned_data["name"])
            return
        key, raw = api_key_create(shop=obj.shop, name=obj.name, created_by=request.user)
        obj.pk, obj.prefix, obj.created_by = key.pk, key.prefix, key.created_by
        request._lm_new_api_key = raw

    def response_add(self, request, obj, post_url_continue=None):
        raw = getattr(request, "_lm_new_api_key", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "Copy your new API key",
            "key": obj,
            "raw_key": Secret(raw),
            "opts": self.opts,
        }
        response = TemplateResponse(request, "admin/shops/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        count = api_keys_revoke(key_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} key(s) revoked.", messages.SUCCESS)


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("shop", "url", "events", "is_active")

    def clean_url(self):
        return webhook_url_validate(self.cleaned_data["url"])


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(CredentialRateLimitMixin, ShopScopedModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "shop", "event_list", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("url",)

    @admin.display(description="events")
    def event_list(self, endpoint):
        return ", ".join(endpoint.events)

    def get_readonly_fields(self, request, obj=None):
        # The signing secret, to configure the receiver; the shop is fixed once made.
        return () if obj is None else ("shop", "secret")

    def get_fields(self, request, obj=None):
        fields = ["shop", "url", "events", "is_active"]
        return fields if obj is None else [*fields, "secret"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            webhook_endpoint_update(
                endpoint=obj, url=data["url"], events=data["events"], is_active=data["is_active"]
            )
            return
        endpoint = webhook_endpoint_create(
            shop=data["shop"], url=data["url"], events=data["events"], is_active=data["is_active"]
        )
        obj.pk, obj.secret = endpoint.pk, endpoint.secret

    def delete_model(self, request, obj):
        webhook_endpoint_delete(endpoint=obj)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ShopScopedModelAdmin):
    """The log of every delivery and its attempts; failed ones can be replayed."""

    shop_path = "endpoint__shop"
    list_display = (
        "event",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "delivered_at",
    )
    list_filter = ("status", "event")
    list_select_related = ("endpoint",)
    search_fields = ("endpoint__url", "event_id")
    actions = ["replay"]
    readonly_fields = (
        "endpoint",
        "event",
        "event_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "payload",
        "attempt_log",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_replay_permission(self, request):
        return request.user.has_perm("shops.change_webhookdelivery")

    @admin.action(description="Replay the selected deliveries", permissions=["replay"])
    def replay(self, request, queryset):
        count = webhook_deliveries_replay(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliver(y/ies) queued again.", messages.SUCCESS)
