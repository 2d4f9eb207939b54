from django.contrib import admin

from shops.admin_scoping import ShopScopedModelAdmin

from .models import ChatMessage, Show


@admin.register(Show)
class ShowAdmin(ShopScopedModelAdmin):
    list_display = ("title", "shop", "status", "scheduled_start", "started_at")
    list_filter = ("status",)
    search_fields = ("title",)
    autocomplete_fields = ("pinned_product",)
    readonly_fields = ("status", "started_at", "ended_at", "stream_key")
    list_select_related = ("shop",)


@admin.register(ChatMessage)
class ChatMessageAdmin(ShopScopedModelAdmin):
    shop_path = "show__shop"
    list_display = ("show", "user", "text", "is_deleted", "created_at")
    list_filter = ("is_deleted",)
    search_fields = ("text", "user__username")
    readonly_fields = ("show", "user", "text", "created_at")
    list_select_related = ("show", "user")

    def has_add_permission(self, request):
        return False
