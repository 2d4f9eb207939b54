from decimal import Decimal

from rest_framework import serializers

from catalog.models import Product
from config.api_base import ScopedRelatedField
from shows.auctions import EXTEND_SECONDS, LOT_QUANTITY, LOT_SECONDS
from shows.models import FlashDeal, LineupItem, Lot, Show, ShowReminder
from shows.services import ingest_url


class PublicShowSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    shop_name = serializers.CharField(source="shop.name", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    cover = serializers.SerializerMethodField()
    playback_url = serializers.CharField(read_only=True)

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


# --- Merchant side --------------------------------------------------------------------------------


class LineupItemSerializer(serializers.ModelSerializer):
    product_title = serializers.CharField(source="product.title", read_only=True)

    class Meta:
        model = LineupItem
        fields = ("product", "product_title", "position")
        read_only_fields = fields


class MerchantShowSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lineup = LineupItemSerializer(source="lineup_items", many=True, read_only=True)
    ingest_url = serializers.SerializerMethodField()
    stream_key_hint = serializers.CharField(
        read_only=True, help_text="The stream key's last four characters; the key is shown only when made."
    )
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    # Blank when not set, so plain strings rather than `format: uri`.
    playback_url = serializers.CharField(read_only=True)
    replay_url = serializers.CharField(read_only=True)

    class Meta:
        model = Show
        fields = (
            "id",
            "shop",
            "title",
            "description",
            "status",
            "scheduled_start",
            "started_at",
            "ended_at",
            "playback_url",
            "replay_url",
            "pinned_product",
            "peak_viewers",
            "stream_key_hint",
            "ingest_url",
            "lineup",
            "url",
            "created_at",
        )
        read_only_fields = fields

    def get_ingest_url(self, show) -> str:
        return ingest_url()


class MerchantShowCreatedSerializer(MerchantShowSerializer):
    stream_key = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The stream key, in this response only (null on an idempotent replay): only a hash is "
        "kept. Lost it? Make a new one from the host console or the admin.",
    )

    class Meta(MerchantShowSerializer.Meta):
        fields = (*MerchantShowSerializer.Meta.fields, "stream_key")
        read_only_fields = fields


class ShowWriteSerializer(serializers.Serializer):
    shop = serializers.SlugField(
        required=False, help_text="Your shop's slug; needed only with several shops."
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    scheduled_start = serializers.DateTimeField()
    playback_url = serializers.URLField(max_length=200, required=False, allow_blank=True)
    products = ScopedRelatedField(
        queryset=Product.objects.all(), many=True, required=False, help_text="The lineup, in order."
    )


class ShowUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=20_000, required=False, allow_blank=True)
    scheduled_start = serializers.DateTimeField(required=False)
    playback_url = serializers.URLField(max_length=200, required=False, allow_blank=True)
    replay_url = serializers.URLField(max_length=200, required=False, allow_blank=True)


class LineupWriteSerializer(serializers.Serializer):
    products = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=200, help_text="Product ids, in order."
    )


class PinSerializer(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, allow_null=True, help_text="null unpins.")


class DealWriteSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    units = serializers.IntegerField(min_value=1, max_value=10_000)
    per_buyer_limit = serializers.IntegerField(min_value=1, max_value=100, default=1)
    duration_seconds = serializers.IntegerField(min_value=10, max_value=3600, default=120)


class DealSerializer(serializers.ModelSerializer):
    class Meta:
        model = FlashDeal
        fields = (
            "id",
            "variant",
            "price",
            "units_total",
            "per_buyer_limit",
            "status",
            "starts_at",
            "ends_at",
        )
        read_only_fields = fields


# --- Shopper side ---------------------------------------------------------------------------------


class ReminderSerializer(serializers.ModelSerializer):
    show = PublicShowSerializer(read_only=True)

    class Meta:
        model = ShowReminder
        fields = ("show", "created_at")
        read_only_fields = fields


class ReminderWriteSerializer(serializers.Serializer):
    show = serializers.IntegerField(min_value=1)


class LotWriteSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    starting_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    increment = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("0.01"), required=False
    )
    increment_table = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField(max_length=20), min_length=2, max_length=2),
        required=False,
        max_length=20,
        help_text='Optional steps [["0", "1"], ["50", "5"]]: from each price on, that increment.',
    )
    duration_seconds = serializers.IntegerField(
        min_value=LOT_SECONDS[0], max_value=LOT_SECONDS[1], default=30
    )
    mode = serializers.ChoiceField(choices=Lot.Mode.choices, default=Lot.Mode.EXTEND)
    extend_seconds = serializers.IntegerField(
        min_value=EXTEND_SECONDS[0], max_value=EXTEND_SECONDS[1], default=10
    )
    quantity = serializers.IntegerField(min_value=LOT_QUANTITY[0], max_value=LOT_QUANTITY[1], default=1)
    bid_ceiling = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Optional: no bid and no maximum bid above this amount is accepted (not below the "
        "starting price).",
    )


class LotSerializer(serializers.Serializer):
    """A lot as the room sees it (shows.auctions.lot_payload)."""

    id = serializers.IntegerField()
    show_id = serializers.IntegerField()
    title = serializers.CharField()
    variant_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Lot.Status.choices)
    mode = serializers.ChoiceField(choices=Lot.Mode.choices)
    extend_seconds = serializers.IntegerField()
    starting_price = serializers.DecimalField(max_digits=12, decimal_places=2)
    current_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    next_minimum = serializers.DecimalField(max_digits=12, decimal_places=2)
    bid_limit = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The highest bid accepted now (README, bid bounds)."
    )
    max_limit = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The highest maximum (proxy) bid accepted now."
    )
    confirm_above = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="The room asks the shopper to confirm an amount above this.",
    )
    bid_ceiling = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    leader = serializers.CharField(allow_null=True)
    bid_count = serializers.IntegerField()
    ends_at = serializers.DateTimeField()
    seconds_left = serializers.IntegerField()
    winner = serializers.CharField(allow_null=True)
    winning_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
