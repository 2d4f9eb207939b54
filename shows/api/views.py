from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions

from config.api_base import ApiGenericViewSet
from shows.models import Show
from shows.selectors import shows_public_current

from .serializers import PublicShowSerializer


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
