"""Top-level URL routes; the public paths are fixed by shared/CONTRACT.md."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import views

admin.site.site_header = "Livemarket seller admin"
admin.site.site_title = "Livemarket admin"
admin.site.index_title = "Your shop"

handler500 = "config.views.server_error"  # a database outage is a 503, not a 500

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include("config.api_urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("orders.urls")),
    path("", include("shows.urls")),
    path("", include("catalog.urls")),
]

if settings.LIVEMARKET_BENCH_VIEWS:  # bench/storefront.py's trivial view; off unless benchmarking
    urlpatterns.insert(0, path("bench/ping", views.bench_ping, name="bench_ping"))

if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
