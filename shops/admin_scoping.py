"""Shop scoping for every admin that shows shop-owned rows.

A merchant sees only rows whose `shop_path` leads to a shop they work for; anything else is
filtered out of the queryset, so list pages, change/delete/history URLs, autocomplete and raw-id
lookups all 404 or omit it. Foreign-key choices are scoped the same way through the related
model's own admin. Ops superusers see everything.
"""

from allauth.core import ratelimit
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path

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


class LivemarketAdminSite(admin.AdminSite):
    """The admin site (`admin.site`, through shops.apps.LivemarketAdminConfig)."""

    def login(self, request, extra_context=None):
        """Django's admin login has no limit of its own, so every POST counts against allauth's
        `admin_login` rates (per IP and per username, ACCOUNT_RATE_LIMITS) before the password is
        checked. Over a limit it is a 429 page: no login even with the right password, and nothing
        written but the expiring cache counter."""
        if request.method == "POST":
            username = str(request.POST.get("username", ""))[:150].strip().lower()
            if not ratelimit.consume(request, action="admin_login", key=username):
                message = "Too many admin sign-in attempts. Wait a few minutes, then try again."
                return render(request, "429.html", {"message": message}, status=429)
        return super().login(request, extra_context)

    def get_urls(self):
        urls = super().get_urls()
        scoped = path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site_scoped),
            name="view_on_site",
        )
        return [scoped if getattr(url, "name", None) == "view_on_site" else url for url in urls]

    def view_on_site_scoped(self, request, content_type_id, object_id):
        """Django's "view on site" redirects to any object's page for any staff member, which told
        one shop's staff another shop's order numbers. Here a row is reachable only when its admin
        shows it to this user: anything else is a 404, as everywhere in the admin."""
        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ContentType.DoesNotExist, ValueError):
            raise Http404("No such object") from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            raise Http404("No such object")
        try:
            visible = model_admin.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404("No such object")
        return shortcut(request, content_type_id, object_id)
