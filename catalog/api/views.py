from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from catalog import services
from catalog.exceptions import StockFeedError
from catalog.models import InventorySyncRun, Product, ProductImage, Stock, Variant
from catalog.selectors import (
    images_for_merchant,
    product_search,
    products_for_merchant,
    products_public_api,
    stock_feed_for_shop,
    stock_for_merchant,
    sync_runs_for_merchant,
    variants_for_merchant,
)
from catalog.stock import stock_adjust, stock_set_on_hand
from catalog.sync.services import inventory_sync_now, inventory_sync_request
from config.api import FormParser, JSONParser
from config.api_base import ApiGenericViewSet, DateTimeFilter, MerchantViewSet

from .serializers import (
    ImageUpdateSerializer,
    ImageWriteSerializer,
    MerchantImageSerializer,
    MerchantProductSerializer,
    MerchantVariantSerializer,
    ProductUpdateSerializer,
    ProductWriteSerializer,
    PublicProductSerializer,
    StockAdjustSerializer,
    StockSerializer,
    StockSetSerializer,
    SyncRunSerializer,
    SyncRunStartSerializer,
    VariantUpdateSerializer,
    VariantWriteSerializer,
)


class PublicProductFilter(filters.FilterSet):
    shop = filters.CharFilter(field_name="shop__slug", label="Shop slug")
    category = filters.CharFilter(field_name="category__slug", label="Category slug")
    q = filters.CharFilter(
        method="filter_q", label="Search, as /search/ does (title, shop name, description); best match first"
    )
    min_price = filters.NumberFilter(field_name="min_price", lookup_expr="gte")
    max_price = filters.NumberFilter(field_name="min_price", lookup_expr="lte")
    in_stock = filters.BooleanFilter(method="filter_in_stock")

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(units_available__gt=0) if value else queryset.filter(units_available__lte=0)

    def filter_q(self, queryset, name, value):
        return product_search(query=value, products=queryset)


class RelevanceFirstOrdering(OrderingFilter):
    """With a search (`q`) and no `ordering`, the search's own order (best match first), not newest."""

    def get_default_ordering(self, view):
        if view.request.query_params.get("q", "").strip():
            return None
        return super().get_default_ordering(view)


@extend_schema_view(
    list=extend_schema(summary="Products for sale (active products of active shops)", tags=["public"]),
    retrieve=extend_schema(summary="One product for sale", tags=["public"]),
)
class PublicProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    permission_classes = [permissions.AllowAny]
    serializer_class = PublicProductSerializer
    filterset_class = PublicProductFilter
    filter_backends = [filters.DjangoFilterBackend, RelevanceFirstOrdering]
    ordering_fields = ("created_at", "min_price", "title")
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return products_public_api()


# --- Merchant side --------------------------------------------------------------------------------


class MerchantProductFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Product.Status.choices)
    category = filters.CharFilter(field_name="category__slug")
    q = filters.CharFilter(field_name="title", lookup_expr="icontains", label="Title contains")
    sku = filters.CharFilter(field_name="variants__sku", distinct=True, label="Has a variant with this SKU")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")


@extend_schema_view(
    list=extend_schema(summary="Your products (every status)"),
    retrieve=extend_schema(summary="One of your products, with variants, stock and images"),
)
@extend_schema(tags=["merchant: catalog"])
class MerchantProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    queryset = Product.objects.all()
    serializer_class = MerchantProductSerializer
    filterset_class = MerchantProductFilter
    ordering_fields = ("created_at", "updated_at", "title")
    ordering = ("-created_at", "-id")

    def base_queryset(self):
        return products_for_merchant()

    @extend_schema(
        summary="Create a product", request=ProductWriteSerializer, responses={201: MerchantProductSerializer}
    )
    def create(self, request):
        data = self.validated(ProductWriteSerializer)
        shop = self.shop_for_write(data.pop("shop", None))
        product = services.product_create(shop=shop, **data)
        return self.respond(product, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a product", request=ProductUpdateSerializer, responses=MerchantProductSerializer
    )
    def partial_update(self, request, pk=None):
        product = self.get_object()
        services.product_update(product=product, **self.validated(ProductUpdateSerializer, partial=True))
        return self.respond(product)

    @extend_schema(
        summary="Delete a product (refused while units are allocated: archive it instead)",
        responses={204: None},
    )
    def destroy(self, request, pk=None):
        services.product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MerchantVariantFilter(filters.FilterSet):
    product = filters.NumberFilter(field_name="product_id")
    sku = filters.CharFilter(field_name="sku")


@extend_schema_view(
    list=extend_schema(summary="Your variants"), retrieve=extend_schema(summary="One variant")
)
@extend_schema(tags=["merchant: catalog"])
class MerchantVariantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    queryset = Variant.objects.all()
    serializer_class = MerchantVariantSerializer
    filterset_class = MerchantVariantFilter
    ordering_fields = ("position", "sku", "price")
    ordering = ("product_id", "position", "id")

    def base_queryset(self):
        return variants_for_merchant()

    @extend_schema(
        summary="Add a variant to a product",
        request=VariantWriteSerializer,
        responses={201: MerchantVariantSerializer},
    )
    def create(self, request):
        data = self.validated(VariantWriteSerializer)
        product = data.pop("product")
        variant = services.variant_create(product=product, **data)
        return self.respond(variant, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a variant (stock has its own endpoints)",
        request=VariantUpdateSerializer,
        responses=MerchantVariantSerializer,
    )
    def partial_update(self, request, pk=None):
        variant = self.get_object()
        services.variant_update(variant=variant, **self.validated(VariantUpdateSerializer, partial=True))
        return self.respond(variant)

    @extend_schema(summary="Delete a variant (refused while units are allocated)", responses={204: None})
    def destroy(self, request, pk=None):
        services.variant_delete(variant=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class MerchantImageFilter(filters.FilterSet):
    product = filters.NumberFilter(field_name="product_id")


@extend_schema_view(
    list=extend_schema(summary="Your product images"), retrieve=extend_schema(summary="One image")
)
@extend_schema(tags=["merchant: catalog"])
class MerchantImageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    queryset = ProductImage.objects.all()
    serializer_class = MerchantImageSerializer
    filterset_class = MerchantImageFilter
    shop_path = "product__shop"
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    ordering_fields = ("position",)
    ordering = ("product_id", "position", "id")

    def base_queryset(self):
        return images_for_merchant()

    @extend_schema(
        summary="Upload an image (multipart/form-data); checked like the admin's uploads",
        request={"multipart/form-data": ImageWriteSerializer},
        responses={201: MerchantImageSerializer},
    )
    def create(self, request):
        data = self.validated(ImageWriteSerializer)
        try:
            image = services.product_image_add(
                product=data["product"],
                image=data["image"],
                alt_text=data.get("alt_text", ""),
                position=data.get("position", 0),
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError({"image": error.messages}) from None
        return self.respond(image, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an image's alt text or position",
        request=ImageUpdateSerializer,
        responses=MerchantImageSerializer,
    )
    def partial_update(self, request, pk=None):
        image = self.get_object()
        services.product_image_update(image=image, **self.validated(ImageUpdateSerializer, partial=True))
        return self.respond(image)

    @extend_schema(summary="Delete an image", responses={204: None})
    def destroy(self, request, pk=None):
        services.product_image_delete(image=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class StockFilter(filters.FilterSet):
    product = filters.NumberFilter(field_name="variant__product_id")
    sku = filters.CharFilter(field_name="variant__sku")
    level = filters.ChoiceFilter(
        choices=[("sold_out", "Sold out"), ("low", "1 to 5 available"), ("ok", "More than 5 available")],
        method="filter_level",
    )

    def filter_level(self, queryset, name, value):
        available = F("on_hand") - F("allocated")
        queryset = queryset.alias(units=available)
        return {
            "sold_out": queryset.filter(units__lte=0),
            "low": queryset.filter(units__gt=0, units__lte=5),
            "ok": queryset.filter(units__gt=5),
        }[value]


@extend_schema_view(
    list=extend_schema(summary="Stock levels of your variants"),
    retrieve=extend_schema(summary="One variant's stock (by variant id)"),
)
@extend_schema(tags=["merchant: stock"])
class MerchantStockViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """Set and adjust go through catalog.stock: on hand never drops below what is allocated."""

    queryset = Stock.objects.all()
    serializer_class = StockSerializer
    filterset_class = StockFilter
    shop_path = "variant__shop"
    lookup_url_kwarg = "variant_id"
    lookup_value_regex = r"\d+"
    ordering_fields = ("on_hand", "allocated", "variant_id")
    ordering = ("variant_id",)

    def base_queryset(self):
        return stock_for_merchant()

    @extend_schema(
        summary="Set the units on hand (a stock take)", request=StockSetSerializer, responses=StockSerializer
    )
    def update(self, request, variant_id=None):
        row = self.get_object()
        stock_set_on_hand(variant_id=row.variant_id, on_hand=self.validated(StockSetSerializer)["on_hand"])
        return self.respond(row)

    @extend_schema(
        summary="Add or remove units (a delivery, breakage)",
        request=StockAdjustSerializer,
        responses=StockSerializer,
    )
    @action(detail=True, methods=["post"])
    def adjust(self, request, variant_id=None):
        row = self.get_object()
        stock_adjust(variant_id=row.variant_id, delta=self.validated(StockAdjustSerializer)["delta"])
        return self.respond(row)


class SyncRunFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=InventorySyncRun.Status.choices)
    trigger = filters.ChoiceFilter(choices=InventorySyncRun.Trigger.choices)


@extend_schema_view(
    list=extend_schema(summary="Inventory sync runs, newest first"),
    retrieve=extend_schema(summary="One run: counts, status and the first problems by line"),
)
@extend_schema(tags=["merchant: stock"])
class MerchantSyncRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """Runs of catalog.sync, the same service the admin's "Sync now" and `sync_inventory` use."""

    queryset = InventorySyncRun.objects.all()
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def base_queryset(self):
        return sync_runs_for_merchant()

    @extend_schema(
        summary="Start a sync: of the shop's feed in the background (202), or of an uploaded file now (201)",
        request={"application/json": SyncRunStartSerializer, "multipart/form-data": SyncRunStartSerializer},
        responses={201: SyncRunSerializer, 202: SyncRunSerializer},
    )
    def create(self, request):
        data = self.validated(SyncRunStartSerializer)
        shop = self.shop_for_write(data.get("shop"))
        upload = data.get("file")
        if upload is None:
            feed = stock_feed_for_shop(shop=shop)
            if feed is None:
                raise StockFeedError(
                    f"The shop {shop.slug} has no stock feed; upload a file or add a feed in the admin."
                )
            run = inventory_sync_request(
                feed=feed,
                trigger=InventorySyncRun.Trigger.API,
                started_by=request.user,
                dry_run=data["dry_run"],
            )
            return self.respond(run, status=status.HTTP_202_ACCEPTED)
        run = inventory_sync_now(
            shop=shop,
            trigger=InventorySyncRun.Trigger.API,
            file=upload,
            format=data.get("format") or ("json" if upload.name.lower().endswith(".json") else "csv"),
            source_label=f"API upload {upload.name}"[:500],
            started_by=request.user,
            dry_run=data["dry_run"],
            skip_invalid=data["skip_invalid_rows"],
        )
        return self.respond(run, status=status.HTTP_201_CREATED)
