from decimal import Decimal

from rest_framework import serializers

from orders.models import ADDRESS_FIELDS, Order, OrderEvent, OrderLine, Refund, Shipment


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = (
            "id",
            "variant",
            "sku",
            "product_title",
            "variant_name",
            "quantity",
            "unit_price",
            "line_total",
        )
        read_only_fields = fields


class ShipmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shipment
        fields = ("id", "status", "carrier", "tracking_number", "shipped_at")
        read_only_fields = fields


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ("kind", "from_status", "to_status", "actor_label", "message", "created_at")
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ("id", "amount", "reason", "created_at")
        read_only_fields = fields


ORDER_FIELDS = (
    "id",
    "number",
    "status",
    "shop",
    "show_id",
    "currency",
    "subtotal",
    "shipping_method_name",
    "shipping_total",
    "total",
    "refunded_total",
    "created_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "lines",
    "shipment",
)


class ShopperOrderSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    shipment = ShipmentSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Order
        fields = ORDER_FIELDS
        read_only_fields = fields


class MerchantOrderSerializer(ShopperOrderSerializer):
    class Meta:
        model = Order
        fields = (*ORDER_FIELDS, "email", *ADDRESS_FIELDS, "cancel_reason")
        read_only_fields = fields


class MerchantOrderDetailSerializer(MerchantOrderSerializer):
    events = OrderEventSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta(MerchantOrderSerializer.Meta):
        fields = (*MerchantOrderSerializer.Meta.fields, "events", "refunds")
        read_only_fields = fields


class ShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=80)


class RefundWriteSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        allow_null=True,
        help_text="Leave out for a full refund of what is left.",
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


# --- The shopper's cart ------------------------------------------------------------------------------


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    variant = serializers.IntegerField(source="variant_id")
    product = serializers.IntegerField(source="variant.product_id")
    product_title = serializers.CharField(source="variant.product.title")
    variant_name = serializers.CharField(source="variant.label")
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(source="variant.price", max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    available = serializers.IntegerField()
    show_id = serializers.IntegerField(allow_null=True)


class CartGroupSerializer(serializers.Serializer):
    shop = serializers.SlugField(source="shop.slug")
    currency = serializers.CharField(source="shop.currency")
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    lines = CartLineSerializer(many=True)


class CartSerializer(serializers.Serializer):
    item_count = serializers.IntegerField()
    groups = CartGroupSerializer(many=True)


class CartAddSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    quantity = serializers.IntegerField(min_value=1, max_value=99, default=1)
    show_id = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class CartLineUpdateSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=0, max_value=99, help_text="0 removes the line.")
