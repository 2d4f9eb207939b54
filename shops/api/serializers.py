from rest_framework import serializers

from shops.models import Shop, WebhookDelivery, WebhookEndpoint, WebhookEvent


class PublicShopSerializer(serializers.ModelSerializer):
    logo = serializers.SerializerMethodField()

    class Meta:
        model = Shop
        fields = ("id", "slug", "name", "description", "currency", "logo", "created_at")

    def get_logo(self, shop) -> str | None:
        return shop.logo.url if shop.logo else None


class WebhookEndpointSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.choices))

    class Meta:
        model = WebhookEndpoint
        fields = ("id", "shop", "url", "events", "is_active", "secret", "created_at")
        read_only_fields = fields


class WebhookEndpointWriteSerializer(serializers.Serializer):
    shop = serializers.SlugField(
        required=False, help_text="Your shop's slug; needed only with several shops."
    )
    url = serializers.URLField(max_length=500, help_text="https:// address that receives the POSTs.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=10
    )
    is_active = serializers.BooleanField(default=True)


class WebhookEndpointUpdateSerializer(WebhookEndpointWriteSerializer):
    shop = None
    url = serializers.URLField(max_length=500, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        min_length=1,
        max_length=10,
        required=False,
    )
    is_active = serializers.BooleanField(required=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "endpoint",
            "event",
            "event_id",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "payload",
            "attempt_log",
        )
        read_only_fields = fields
