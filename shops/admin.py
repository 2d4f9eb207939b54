from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .admin_scoping import ShopScopedModelAdmin
from .models import Follow, Shop, ShopMembership, User
from .services import shop_member_add


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
