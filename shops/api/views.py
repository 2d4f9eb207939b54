from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api_base import ApiGenericViewSet, MerchantViewSet
from config.ratelimit import over_limit, too_many_message
from shops import webhooks
from shops.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from shops.selectors import shops_active, webhook_deliveries_for_merchant, webhook_endpoints_for_merchant

from .serializers import (
    PublicShopSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWriteSerializer,
)


class PublicShopFilter(filters.FilterSet):
    q = filters.CharFilter(field_name="name", lookup_expr="icontains", label="Name contains")


@extend_schema_view(
    list=extend_schema(summary="Active shops", tags=["public"]),
    retrieve=extend_schema(summary="One active shop, by slug", tags=["public"]),
)
class PublicShopViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    permission_classes = [permissions.AllowAny]
    serializer_class = PublicShopSerializer
    lookup_field = "slug"
    filterset_class = PublicShopFilter
    ordering_fields = ("name", "created_at")
    ordering = ("name",)

    def get_queryset(self):
        return shops_active()


def _validation(call):
    try:
        return call()
    except DjangoValidationError as error:
        raise serializers.ValidationError({"url": error.messages}) from None


@extend_schema_view(
    list=extend_schema(summary="Your webhook endpoints"), retrieve=extend_schema(summary="One endpoint")
)
@extend_schema(tags=["merchant: webhooks"])
class MerchantWebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """HTTPS endpoints that receive order.paid, order.shipped, show.live and show.ended, signed with
    the endpoint's `secret` (see the README for verifying the signature)."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def base_queryset(self):
        return webhook_endpoints_for_merchant()

    @extend_schema(
        summary="Register an endpoint",
        request=WebhookEndpointWriteSerializer,
        responses={201: WebhookEndpointSerializer},
    )
    def create(self, request):
        over = over_limit(setting="LIVEMARKET_CREDENTIAL_CREATE_RATE", key=f"cred:{request.user.pk}")
        if over:  # per user, shared with the admin's new keys and endpoints; nothing is created
            raise exceptions.Throttled(
                wait=over[1], detail=too_many_message(*over, "new API keys and webhook endpoints")
            )
        data = self.validated(WebhookEndpointWriteSerializer)
        shop = self.shop_for_write(data.pop("shop", None))
        endpoint = _validation(lambda: webhooks.webhook_endpoint_create(shop=shop, **data))
        return self.respond(endpoint, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an endpoint",
        request=WebhookEndpointUpdateSerializer,
        responses=WebhookEndpointSerializer,
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = self.validated(WebhookEndpointUpdateSerializer, partial=True)
        _validation(lambda: webhooks.webhook_endpoint_update(endpoint=endpoint, **data))
        return self.respond(endpoint)

    @extend_schema(summary="Remove an endpoint", responses={204: None})
    def destroy(self, request, pk=None):
        webhooks.webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveryFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = filters.ChoiceFilter(choices=WebhookEvent.choices)
    endpoint = filters.NumberFilter(field_name="endpoint_id")


@extend_schema_view(
    list=extend_schema(summary="Deliveries and their attempts"),
    retrieve=extend_schema(summary="One delivery"),
)
@extend_schema(tags=["merchant: webhooks"])
class MerchantWebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    queryset = WebhookDelivery.objects.all()
    serializer_class = WebhookDeliverySerializer
    filterset_class = WebhookDeliveryFilter
    shop_path = "endpoint__shop"
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def base_queryset(self):
        return webhook_deliveries_for_merchant()

    @extend_schema(
        summary="Send a delivery again (same event id)", request=None, responses=WebhookDeliverySerializer
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        delivery = self.get_object()
        webhooks.webhook_deliveries_replay(delivery_ids=[delivery.pk])
        return self.respond(delivery)
