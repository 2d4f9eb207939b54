from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions

from config.api_base import ApiGenericViewSet
from shops.selectors import shops_active

from .serializers import PublicShopSerializer


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
