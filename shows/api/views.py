from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api_base import ApiGenericViewSet, DateTimeFilter, MerchantViewSet, ShopperViewSet
from shows import auctions, services
from shows.models import Show, ShowReminder
from shows.selectors import (
    lots_for_show,
    reminders_for_user,
    show_get_public,
    shows_for_merchant,
    shows_public_current,
)

from .serializers import (
    DealSerializer,
    DealWriteSerializer,
    LineupWriteSerializer,
    LotSerializer,
    LotWriteSerializer,
    MerchantShowCreatedSerializer,
    MerchantShowSerializer,
    PinSerializer,
    PublicShowSerializer,
    ReminderSerializer,
    ReminderWriteSerializer,
    ShowUpdateSerializer,
    ShowWriteSerializer,
)


class PublicShowFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=[(Show.Status.LIVE, "Live now"), (Show.Status.SCHEDULED, "Upcoming")],
        label="live or scheduled",
    )
    shop = filters.CharFilter(field_name="shop__slug", label="Shop slug")


@extend_schema_view(
    list=extend_schema(summary="Shows live now and upcoming", tags=["public"]),
    retrieve=extend_schema(summary="One live or upcoming show", tags=["public"]),
)
class PublicShowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiGenericViewSet):
    permission_classes = [permissions.AllowAny]
    serializer_class = PublicShowSerializer
    filterset_class = PublicShowFilter
    ordering_fields = ("scheduled_start", "started_at")
    ordering = ("scheduled_start", "id")

    def get_queryset(self):
        return shows_public_current()


# --- Merchant side --------------------------------------------------------------------------------


class MerchantShowFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=Show.Status.choices)
    scheduled_after = DateTimeFilter(field_name="scheduled_start", lookup_expr="gte")
    scheduled_before = DateTimeFilter(field_name="scheduled_start", lookup_expr="lt")


@extend_schema_view(
    list=extend_schema(summary="Your shows"),
    retrieve=extend_schema(
        summary="One of your shows, with its lineup (the stream key is shown only when made)"
    ),
)
@extend_schema(tags=["merchant: shows"])
class MerchantShowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, MerchantViewSet):
    """Every write goes through shows.services, with the same rights checks as the host console."""

    queryset = Show.objects.all()
    serializer_class = MerchantShowSerializer
    filterset_class = MerchantShowFilter
    ordering_fields = ("scheduled_start", "created_at")
    ordering = ("-scheduled_start", "-id")

    def base_queryset(self):
        return shows_for_merchant()

    @extend_schema(
        summary="Create (schedule) a show",
        request=ShowWriteSerializer,
        responses={201: MerchantShowCreatedSerializer},
    )
    def create(self, request):
        data = self.validated(ShowWriteSerializer)
        shop = self.shop_for_write(data.pop("shop", None))
        products = data.pop("products", [])
        if any(product.shop_id != shop.pk for product in products):
            raise serializers.ValidationError({"products": ["Choose products of the show's shop."]})
        show = services.show_create(shop=shop, products=products, **data)
        response = self.respond(show, status=status.HTTP_201_CREATED)
        response.data["stream_key"] = show.stream_key  # shown this once; only its hash is kept
        response.secret_fields = ("stream_key",)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Edit or reschedule a show", request=ShowUpdateSerializer, responses=MerchantShowSerializer
    )
    def partial_update(self, request, pk=None):
        show = self.get_object()
        services.show_update(
            show=show, user=request.user, **self.validated(ShowUpdateSerializer, partial=True)
        )
        return self.respond(show)

    @extend_schema(
        summary="Replace the lineup (products of the show's shop, in order)",
        request=LineupWriteSerializer,
        responses=MerchantShowSerializer,
    )
    @action(detail=True, methods=["put"])
    def lineup(self, request, pk=None):
        show = self.get_object()
        services.lineup_set(
            show=show, user=request.user, product_ids=self.validated(LineupWriteSerializer)["products"]
        )
        return self.respond(show)

    @extend_schema(summary="Go live", request=None, responses=MerchantShowSerializer)
    @action(detail=True, methods=["post"], url_path="go-live")
    def go_live(self, request, pk=None):
        show = self.get_object()
        services.show_go_live(show=show, user=request.user)
        return self.respond(show)

    @extend_schema(summary="End the show", request=None, responses=MerchantShowSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        show = self.get_object()
        services.show_end(show=show, user=request.user)
        return self.respond(show)

    @extend_schema(
        summary="Pin a product for every viewer (null unpins)",
        request=PinSerializer,
        responses=MerchantShowSerializer,
    )
    @action(detail=True, methods=["post"])
    def pin(self, request, pk=None):
        show = self.get_object()
        services.show_pin_product(
            show=show, user=request.user, product_id=self.validated(PinSerializer)["product"]
        )
        return self.respond(show)

    @extend_schema(
        summary="Start a flash deal on a variant (the show must be live)",
        request=DealWriteSerializer,
        responses={201: DealSerializer},
    )
    @action(detail=True, methods=["post"])
    def deals(self, request, pk=None):
        show = self.get_object()
        data = self.validated(DealWriteSerializer)
        deal = services.deal_start(
            show=show,
            user=request.user,
            variant_id=data["variant"],
            price=data["price"],
            units=data["units"],
            per_buyer_limit=data["per_buyer_limit"],
            duration_seconds=data["duration_seconds"],
        )
        return Response(DealSerializer(deal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary="The show's auction lots, newest first",
        request=None,
        responses=LotSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Start an auction lot on a variant (the show must be live; the units are allocated)",
        request=LotWriteSerializer,
        responses={201: LotSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def lots(self, request, pk=None):
        show = self.get_object()
        if request.method == "GET":
            return Response([auctions.lot_payload(lot) for lot in lots_for_show(show=show)])
        data = self.validated(LotWriteSerializer)
        variant_id = data.pop("variant")
        data = {key: value for key, value in data.items() if value is not None}
        lot = auctions.lot_start(show=show, user=request.user, variant_id=variant_id, **data)
        return Response(auctions.lot_payload(lot), status=status.HTTP_201_CREATED)


# --- Shopper side ---------------------------------------------------------------------------------


@extend_schema_view(list=extend_schema(summary="Shows you asked to be reminded of"))
@extend_schema(tags=["shopper"])
class ReminderViewSet(mixins.ListModelMixin, ShopperViewSet):
    queryset = ShowReminder.objects.all()
    serializer_class = ReminderSerializer
    lookup_field = "show_id"
    lookup_url_kwarg = "show_id"
    lookup_value_regex = r"\d+"
    ordering_fields = ("created_at",)
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return reminders_for_user(user=self.request.user)

    @extend_schema(
        summary="Remind me when this show goes live",
        request=ReminderWriteSerializer,
        responses={201: ReminderSerializer},
    )
    def create(self, request):
        show = show_get_public(show_id=self.validated(ReminderWriteSerializer)["show"])
        reminder = services.show_remind(show=show, user=request.user)
        return self.respond(reminder, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Stop the reminder", responses={204: None})
    def destroy(self, request, show_id=None):
        reminder = self.get_object()
        services.show_forget(show=reminder.show, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
