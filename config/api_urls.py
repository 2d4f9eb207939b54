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
from orders.api import views as order_views
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
router.register("merchant/sync-runs", catalog_views.MerchantSyncRunViewSet, basename="merchant-sync-run")
router.register("merchant/orders", order_views.MerchantOrderViewSet, basename="merchant-order")
router.register(
    "merchant/webhook-endpoints",
    shop_views.MerchantWebhookEndpointViewSet,
    basename="merchant-webhook-endpoint",
)
router.register(
    "merchant/webhook-deliveries",
    shop_views.MerchantWebhookDeliveryViewSet,
    basename="merchant-webhook-delivery",
)
router.register("merchant/shows", show_views.MerchantShowViewSet, basename="merchant-show")
router.register("me/reminders", show_views.ReminderViewSet, basename="me-reminder")
router.register("me/cart/lines", order_views.CartLineViewSet, basename="me-cart-line")
router.register("me/orders", order_views.ShopperOrderViewSet, basename="me-order")


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
@schema(None)
def not_found(request, rest=""):
    raise NotFound("No such API endpoint.")


urlpatterns = [
    path("me/cart/", order_views.CartView.as_view(), name="me-cart"),
    path("", include(router.urls)),
    re_path(r"^(?P<rest>[\s\S]*)$", not_found),  # [\s\S]: a path with a newline is an API 404 too
]
