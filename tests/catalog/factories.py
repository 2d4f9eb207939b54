"""Factories for products and variants, built through catalog.services."""

from decimal import Decimal

import factory
from django.db import connection

from catalog import services
from catalog.models import Product, Variant
from tests.shops.factories import ShopFactory


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    shop = factory.SubFactory(ShopFactory)
    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine thing."
    status = Product.Status.ACTIVE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.product_create(**kwargs)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant

    product = factory.SubFactory(ProductFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = "Standard"
    price = Decimal("25.00")
    on_hand = 10

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.variant_create(**kwargs)


def variants_bulk_insert(shop, count: int) -> None:
    """`count` variants BULK-000000... with on_hand n % 3, inserted by PostgreSQL itself."""
    product = ProductFactory(shop=shop)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO catalog_variant (product_id, shop_id, sku, name, options, price, weight_grams, position) "
            "SELECT %s, %s, 'BULK-' || lpad(n::text, 6, '0'), '', '{}', 5.00, 0, n "
            "FROM generate_series(0, %s - 1) AS n",
            [product.pk, shop.pk, count],
        )
        cursor.execute(
            "INSERT INTO catalog_stock (variant_id, on_hand, allocated) "
            "SELECT id, position %% 3, 0 FROM catalog_variant WHERE product_id = %s",
            [product.pk],
        )
