from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ShopsConfig(AppConfig):
    default = True
    name = "shops"
    verbose_name = "Shops"


class LivemarketAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (shops.admin_scoping.LivemarketAdminSite) as `admin.site`."""

    default = False
    default_site = "shops.admin_scoping.LivemarketAdminSite"
