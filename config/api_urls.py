"""/api/v1/: every route of the REST API, registered here from each app's `api` package.

tests/api/test_tenant_isolation.py walks this router: a merchant route added without an isolation
rule there fails the suite.
"""

from django.urls import include, path, re_path
from rest_framework.decorators import api_view, permission_classes, schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from catalog.api import views as catalog_views
from shops.api import views as shop_views
from shows.api import views as show_views

router = DefaultRouter()
router.register("public/shops", shop_views.PublicShopViewSet, basename="public-shop")
router.register("public/products", catalog_views.PublicProductViewSet, basename="public-product")
router.register("public/shows", show_views.PublicShowViewSet, basename="public-show")
router.register("merchant/products", catalog_views.MerchantProductViewSet, basename="merchant-product")
router.register("merchant/variants", catalog_views.MerchantVariantViewSet, basename="merchant-variant")
router.register("merchant/images", catalog_views.MerchantImageViewSet, basename="merchant-image")
router.register("merchant/stock", catalog_views.MerchantStockViewSet, basename="merchant-stock")


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, rest=""):
    raise NotFound("No such API endpoint.")


urlpatterns = [
    path("", include(router.urls)),
    re_path(r"^(?P<rest>.*)$", not_found),
]
