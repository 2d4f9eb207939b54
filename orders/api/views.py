from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api_base import ApiView, DateTimeFilter, IsShopper, MerchantViewSet, ShopperViewSet
from orders import selectors, services
from orders.models import CartLine, Order

from .serializers import (
    CancelSerializer,
    CartAddSerializer,
    CartLineUpdateSerializer,
    CartSerializer,
    MerchantOrderDetailSerializer,
    MerchantOrderSerializer,
    RefundWriteSerializer,
    ShipSerializer,
    ShopperOrderSerializer,
)


class MerchantOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Order.Status.choices)
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    show = filters.NumberFilter(field_name="show_id")
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")


@extend_schema_view(
    list=extend_schema(summary="Your orders (filter by status, date, show)"),
    retrieve=extend_schema(summary="One order, with lines, parcel, timeline and refunds"),
)
@extend_schema(tags=["merchant: orders"])
class MerchantOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """Shipping, refunds and cancellation go through orders.fulfilment, as in the admin."""

    queryset = Order.objects.all()
    lookup_field = "number"
    lookup_value_regex = r"[A-Z0-9]{4,12}"
    filterset_class = MerchantOrderFilter
    ordering_fields = ("created_at", "total", "paid_at")
    ordering = ("-created_at", "-id")

    def base_queryset(self):
        queryset = selectors.orders_for_merchant()
        return queryset if self.action == "list" else selectors.order_detail_prefetch(queryset)

    def get_serializer_class(self):
        return MerchantOrderSerializer if self.action == "list" else MerchantOrderDetailSerializer

    @extend_schema(
        summary="Mark shipped with a tracking number (the whole parcel ships)",
        request=ShipSerializer,
        responses=MerchantOrderDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, number=None):
        order = self.get_object()
        data = self.validated(ShipSerializer)
        services.order_ship(
            order=order, actor=request.user, carrier=data["carrier"], tracking_number=data["tracking_number"]
        )
        return self.respond(order)

    @extend_schema(
        summary="Refund all or part of a paid order",
        request=RefundWriteSerializer,
        responses=MerchantOrderDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def refund(self, request, number=None):
        order = self.get_object()
        data = self.validated(RefundWriteSerializer)
        services.order_refund(
            order=order, actor=request.user, amount=data.get("amount"), reason=data["reason"]
        )
        return self.respond(order)

    @extend_schema(
        summary="Cancel before shipping (a paid order is refunded in full)",
        request=CancelSerializer,
        responses=MerchantOrderDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        order = self.get_object()
        services.order_cancel(
            order=order, actor=request.user, reason=self.validated(CancelSerializer)["reason"]
        )
        return self.respond(order)

    @extend_schema(summary="Mark delivered", request=None, responses=MerchantOrderDetailSerializer)
    @action(detail=True, methods=["post"])
    def deliver(self, request, number=None):
        order = self.get_object()
        services.order_mark_delivered(order=order, actor=request.user)
        return self.respond(order)


# --- Shopper side ------------------------------------------------------------------------------------


def _cart_response(user, *, status_code: int = 200) -> Response:
    cart = selectors.cart_find(user=user)
    return Response(CartSerializer(selectors.cart_view(cart=cart)).data, status=status_code)


@extend_schema(tags=["shopper"])
class CartView(ApiView):
    permission_classes = [IsShopper]

    @extend_schema(summary="Your cart, grouped by shop", responses=CartSerializer)
    def get(self, request):
        return _cart_response(request.user)


@extend_schema(tags=["shopper"])
class CartLineViewSet(ShopperViewSet):
    """Lines of your own cart; another shopper's line is a 404."""

    queryset = CartLine.objects.all()
    serializer_class = CartSerializer
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return selectors.cart_lines_for_user(user=self.request.user)

    @extend_schema(
        summary="Add a variant (quantities add up; refused beyond what is in stock)",
        request=CartAddSerializer,
        responses={201: CartSerializer},
    )
    def create(self, request):
        data = self.validated(CartAddSerializer)
        cart = services.cart_get_or_create(user=request.user)
        services.cart_add(
            cart=cart, variant_id=data["variant"], quantity=data["quantity"], show_id=data.get("show_id")
        )
        return _cart_response(request.user, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a line's quantity (0 removes it)",
        request=CartLineUpdateSerializer,
        responses=CartSerializer,
    )
    def partial_update(self, request, pk=None):
        line = self.get_object()
        services.cart_line_set_quantity(
            cart=line.cart, line_id=line.pk, quantity=self.validated(CartLineUpdateSerializer)["quantity"]
        )
        return _cart_response(request.user)

    @extend_schema(summary="Remove a line", responses={204: None})
    def destroy(self, request, pk=None):
        line = self.get_object()
        services.cart_line_remove(cart=line.cart, line_id=line.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShopperOrderFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Order.Status.choices)


@extend_schema_view(
    list=extend_schema(summary="Your orders"), retrieve=extend_schema(summary="One of your orders")
)
@extend_schema(tags=["shopper"])
class ShopperOrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ShopperViewSet):
    queryset = Order.objects.all()
    serializer_class = ShopperOrderSerializer
    lookup_field = "number"
    lookup_value_regex = r"[A-Z0-9]{4,12}"
    filterset_class = ShopperOrderFilter
    ordering_fields = ("created_at", "total")
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return selectors.orders_for_user_api(user=self.request.user)

    @extend_schema(
        summary="Cancel your order before it ships (refunded in full if paid)",
        request=None,
        responses=ShopperOrderSerializer,
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        order = self.get_object()
        services.order_cancel(order=order, actor=request.user, reason="Cancelled by shopper")
        return self.respond(order)
