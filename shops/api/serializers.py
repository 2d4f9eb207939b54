from rest_framework import serializers

from shops.models import Shop


class PublicShopSerializer(serializers.ModelSerializer):
    logo = serializers.SerializerMethodField()

    class Meta:
        model = Shop
        fields = ("id", "slug", "name", "description", "currency", "logo", "created_at")

    def get_logo(self, shop) -> str | None:
        return shop.logo.url if shop.logo else None
