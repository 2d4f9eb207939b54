"""Factories for products and variants, built through catalog.services."""

from decimal import Decimal

import factory

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
