from rest_framework import serializers

from shows.models import Show


class PublicShowSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    shop_name = serializers.CharField(source="shop.name", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    cover = serializers.SerializerMethodField()

    class Meta:
        model = Show
        fields = (
            "id",
            "shop",
            "shop_name",
            "title",
            "description",
            "status",
            "scheduled_start",
            "started_at",
            "playback_url",
            "cover",
            "pinned_product",
            "url",
        )

    def get_cover(self, show) -> str | None:
        return show.cover.url if show.cover else None
