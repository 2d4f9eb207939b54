"""Reads for the storefront and admin: every list query carries its own joins and prefetches."""

from django.db.models import F, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from shops.models import Shop

from .models import Product, ProductImage, Variant


def _images_prefetch() -> Prefetch:
    return Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))


def products_storefront() -> QuerySet[Product]:
    """Active products of active shops, with price, stock and images for a product card."""
    return (
        Product.objects.filter(status=Product.Status.ACTIVE, shop__status=Shop.Status.ACTIVE)
        .select_related("shop")
        .annotate(
            min_price=Min("variants__price"),
            units_available=Coalesce(Sum(F("variants__stock__on_hand") - F("variants__stock__allocated")), 0),
        )
        .prefetch_related(_images_prefetch())
    )


def products_featured(*, limit: int = 12) -> list[Product]:
    return list(products_storefront().order_by("-is_featured", "-created_at")[:limit])


def products_for_shop(*, shop: Shop, limit: int = 48) -> list[Product]:
    return list(products_storefront().filter(shop=shop).order_by("-is_featured", "title")[:limit])


def product_search(*, query: str, limit: int = 48) -> list[Product]:
    """Simple title/description match; issue-3 search upgrades this to ranked full-text on PostgreSQL."""
    query = query.strip()
    if not query:
        return []
    terms = Q()
    for word in query.split()[:8]:
        terms &= Q(title__icontains=word) | Q(description__icontains=word) | Q(shop__name__icontains=word)
    return list(products_storefront().filter(terms).order_by("title")[:limit])


def product_get_storefront(*, shop: Shop, slug: str) -> Product:
    product = (
        Product.objects.filter(shop=shop, slug=slug, status=Product.Status.ACTIVE)
        .select_related("shop", "category")
        .prefetch_related(
            _images_prefetch(),
            Prefetch("variants", queryset=Variant.objects.select_related("stock").order_by("position", "id")),
        )
        .first()
    )
    if product is None:
        raise Http404("No such product")
    return product


def variants_for_cart(*, variant_ids: list[int]) -> dict[int, Variant]:
    """Buyable variants by id, with product, shop and stock; drafts and suspended shops are left out."""
    variants = (
        Variant.objects.filter(
            pk__in=variant_ids, product__status=Product.Status.ACTIVE, shop__status=Shop.Status.ACTIVE
        )
        .select_related("product", "shop", "stock")
        .prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id"))
        )
    )
    return {variant.pk: variant for variant in variants}
