"""Shop scoping for every admin that shows shop-owned rows.

A merchant sees only rows whose `shop_path` leads to a shop they work for; anything else is
filtered out of the queryset, so list pages, change/delete/history URLs, autocomplete and raw-id
lookups all 404 or omit it. Foreign-key choices are scoped the same way through the related
model's own admin. Ops superusers see everything.
"""

from django.contrib import admin
from django.http import Http404

from .selectors import shop_ids_for_user


def scope_queryset(queryset, *, user, shop_path: str):
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{shop_path}__in": shop_ids_for_user(user)})


class ShopScopedAdminMixin:
    """Mix into a ModelAdmin or inline; set `shop_path` to the lookup from the model to its Shop."""

    shop_path: str = "shop"

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), user=request.user, shop_path=self.shop_path)

    def get_object(self, request, object_id, from_field=None):
        # Django would redirect to the index with "doesn't exist"; another shop's row is a plain 404.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object")
        return obj

    def has_module_permission(self, request):
        if not request.user.is_superuser and not shop_ids_for_user(request.user):
            return False
        return super().has_module_permission(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related_admin = self.admin_site._registry.get(db_field.related_model)
        if isinstance(related_admin, ShopScopedAdminMixin) and "queryset" not in kwargs:
            kwargs["queryset"] = related_admin.get_queryset(request)
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        shop_ids = shop_ids_for_user(request.user)
        if (
            field is not None
            and db_field.name == self.shop_path
            and not request.user.is_superuser
            and len(shop_ids) == 1
        ):
            # A one-shop merchant's rows always belong to that shop: fixed, whatever is posted.
            field.initial = next(iter(shop_ids))
            field.disabled = True
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related_admin = self.admin_site._registry.get(db_field.related_model)
        if isinstance(related_admin, ShopScopedAdminMixin) and "queryset" not in kwargs:
            kwargs["queryset"] = related_admin.get_queryset(request)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ShopScopedModelAdmin(ShopScopedAdminMixin, admin.ModelAdmin):
    pass


class ShopScopedInline(ShopScopedAdminMixin, admin.TabularInline):
    pass
