from decimal import Decimal

from rest_framework import serializers

from catalog.models import Category, InventorySyncRun, Product, ProductImage, Stock, StockFeed, Variant
from config.api_base import ScopedRelatedField


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.CharField(read_only=True)
    card_url = serializers.CharField(read_only=True)
    full_url = serializers.CharField(read_only=True)

    class Meta:
        model = ProductImage
        fields = ("id", "alt_text", "position", "url", "thumbnail_url", "card_url", "full_url")

    def get_url(self, image) -> str:
        return image.image.url


class PublicVariantSerializer(serializers.ModelSerializer):
    available = serializers.SerializerMethodField()

    class Meta:
        model = Variant
        fields = ("id", "sku", "name", "options", "price", "compare_at_price", "available")

    def get_available(self, variant) -> int:
        stock = getattr(variant, "stock", None)
        return max(stock.available, 0) if stock else 0


class PublicProductSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    currency = serializers.CharField(source="shop.currency", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    min_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    units_available = serializers.IntegerField(read_only=True)
    images = ImageSerializer(many=True, read_only=True)
    variants = PublicVariantSerializer(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Product
        fields = (
            "id",
            "shop",
            "slug",
            "title",
            "description",
            "category",
            "currency",
            "min_price",
            "units_available",
            "is_featured",
            "images",
            "variants",
            "url",
            "created_at",
        )


# --- Merchant side --------------------------------------------------------------------------------


class StockFieldsMixin(serializers.Serializer):
    on_hand = serializers.IntegerField(source="stock.on_hand", read_only=True)
    allocated = serializers.IntegerField(source="stock.allocated", read_only=True)
    available = serializers.IntegerField(source="stock.available", read_only=True)


class MerchantVariantSerializer(StockFieldsMixin, serializers.ModelSerializer):
    currency = serializers.CharField(source="shop.currency", read_only=True)

    class Meta:
        model = Variant
        fields = (
            "id",
            "product",
            "sku",
            "name",
            "options",
            "price",
            "compare_at_price",
            "currency",
            "weight_grams",
            "position",
            "on_hand",
            "allocated",
            "available",
        )
        read_only_fields = fields


class MerchantProductSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    variants = MerchantVariantSerializer(many=True, read_only=True)
    images = ImageSerializer(many=True, read_only=True)

    class Meta:
        model = Product
        fields = (
            "id",
            "shop",
            "slug",
            "title",
            "description",
            "status",
            "category",
            "is_featured",
            "variants",
            "images",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class ProductWriteSerializer(serializers.Serializer):
    shop = serializers.SlugField(
        required=False, help_text="Your shop's slug; needed only when you work for several shops."
    )
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(
        max_length=200, required=False, help_text="Made from the title when left out."
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    status = serializers.ChoiceField(choices=Product.Status.choices, required=False)
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    is_featured = serializers.BooleanField(required=False)


class ProductUpdateSerializer(ProductWriteSerializer):
    shop = None
    title = serializers.CharField(max_length=200, required=False)


MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal("0")}


class VariantWriteSerializer(serializers.Serializer):
    product = ScopedRelatedField(queryset=Product.objects.all(), help_text="A product of your shop.")
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    options = serializers.DictField(child=serializers.CharField(max_length=80), required=False)
    price = serializers.DecimalField(**MONEY)
    compare_at_price = serializers.DecimalField(**MONEY, required=False, allow_null=True)
    weight_grams = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)
    position = serializers.IntegerField(min_value=0, max_value=100_000, required=False)
    on_hand = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False)


class VariantUpdateSerializer(VariantWriteSerializer):
    product = None
    on_hand = None
    sku = serializers.CharField(max_length=64, required=False)
    price = serializers.DecimalField(**MONEY, required=False)


class MerchantImageSerializer(ImageSerializer):
    class Meta(ImageSerializer.Meta):
        fields = ("id", "product", *ImageSerializer.Meta.fields[1:])
        read_only_fields = fields


class ImageWriteSerializer(serializers.Serializer):
    product = ScopedRelatedField(queryset=Product.objects.all())
    image = serializers.FileField(help_text="JPEG, PNG, WebP or GIF; at most 10 MB and 40 megapixels.")
    alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


class ImageUpdateSerializer(serializers.Serializer):
    alt_text = serializers.CharField(max_length=200, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=100_000, required=False)


class StockSerializer(serializers.ModelSerializer):
    variant = serializers.IntegerField(source="variant_id", read_only=True)
    product = serializers.IntegerField(source="variant.product_id", read_only=True)
    sku = serializers.CharField(source="variant.sku", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stock
        fields = ("variant", "product", "sku", "on_hand", "allocated", "available")
        read_only_fields = fields


class StockSetSerializer(serializers.Serializer):
    on_hand = serializers.IntegerField(
        min_value=0, max_value=10_000_000, help_text="Units on hand; never below what is allocated."
    )


class StockAdjustSerializer(serializers.Serializer):
    delta = serializers.IntegerField(
        min_value=-10_000_000, max_value=10_000_000, help_text="Units to add (negative: remove)."
    )

    def validate_delta(self, value):
        if value == 0:
            raise serializers.ValidationError("Give a change other than zero.")
        return value


class SyncRunSerializer(serializers.ModelSerializer):
    shop = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = InventorySyncRun
        fields = (
            "id",
            "shop",
            "trigger",
            "dry_run",
            "status",
            "source_label",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "rows_total",
            "updated",
            "unchanged",
            "unknown_sku",
            "invalid",
            "conflicts",
            "message",
            "errors",
        )
        read_only_fields = fields


class SyncRunStartSerializer(serializers.Serializer):
    shop = serializers.SlugField(
        required=False, help_text="Your shop's slug; needed only with several shops."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Read and count only; change nothing.")
    file = serializers.FileField(
        required=False,
        help_text="A feed to apply now (CSV with sku,quantity or JSON). Left out: the shop's own feed, in the background.",
    )
    format = serializers.ChoiceField(choices=StockFeed.Format.choices, required=False)
    skip_invalid_rows = serializers.BooleanField(default=False)
