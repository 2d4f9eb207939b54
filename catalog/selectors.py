"""Reads for the storefront and admin: every list query carries its own joins and prefetches."""

from decimal import Decimal

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import F, Min, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.http import Http404

from shops.models import Shop
from shops.selectors import shop_get_active

from .models import Category, InventorySyncRun, Product, ProductImage, Stock, StockFeed, Variant


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
    """Ranked full-text search on PostgreSQL (title over shop name over description); a plain
    substring match on the embedded SQLite default."""
    query = query.strip()[:200]
    if not query:
        return []
    products = products_storefront()
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("title", weight="A", config="english")
            + SearchVector("shop__name", weight="B", config="english")
            + SearchVector("description", weight="C", config="english")
        )
        search_query = SearchQuery(query, search_type="websearch", config="english")
        ranked = (
            Product.objects.filter(status=Product.Status.ACTIVE, shop__status=Shop.Status.ACTIVE)
            .annotate(search=vector)
            .filter(Q(search=search_query) | Q(title__icontains=query))
            .annotate(rank=SearchRank(vector, search_query))
            .order_by("-rank", "title")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(ranked)
        by_id = {p.pk: p for p in products.filter(pk__in=ids)}
        return [by_id[pk] for pk in ids if pk in by_id]
    terms = Q()
    for word in query.split()[:8]:
        terms &= Q(title__icontains=word) | Q(description__icontains=word) | Q(shop__name__icontains=word)
    return list(products.filter(terms).order_by("title")[:limit])


SORTS = {
    "newest": ("-created_at", "-id"),
    "price_asc": ("min_price", "id"),
    "price_desc": ("-min_price", "-id"),
    "title": ("title", "id"),
}


def categories_with_descendants(*, category: Category) -> list[int]:
    """The category and everything under it (the tree is shallow; one query per level)."""
    ids, level = [category.pk], [category.pk]
    while level:
        level = list(Category.objects.filter(parent_id__in=level).values_list("pk", flat=True))
        ids.extend(level)
    return ids


def products_browse(
    *,
    category: Category | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock: bool = False,
    sort: str = "newest",
) -> QuerySet[Product]:
    """The storefront listing with its filters and sort; paginate the result."""
    products = products_storefront()
    if category is not None:
        products = products.filter(category_id__in=categories_with_descendants(category=category))
    if min_price is not None:
        products = products.filter(min_price__gte=min_price)
    if max_price is not None:
        products = products.filter(min_price__lte=max_price)
    if in_stock:
        products = products.filter(units_available__gt=0)
    return products.order_by(*SORTS.get(sort, SORTS["newest"]))


def category_get(*, slug: str) -> Category:
    category = Category.objects.select_related("parent").filter(slug=slug).first()
    if category is None:
        raise Http404("No such category")
    return category


def categories_top() -> list[Category]:
    return list(Category.objects.filter(parent__isnull=True).prefetch_related("children").order_by("name"))


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


def variant_ids_by_sku(*, shop_id: int, skus: list[str]) -> dict[str, int]:
    """SKU -> variant id for one shop. On PostgreSQL the SKUs go as one array parameter: 1,000 of them
    compiled as an IN list cost 47 ms against 14 ms (bench/inventory_sync.py)."""
    if connection.vendor != "postgresql":
        return dict(Variant.objects.filter(shop_id=shop_id, sku__in=skus).values_list("sku", "pk"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sku, id FROM catalog_variant WHERE shop_id = %s AND sku = ANY(%s)", [shop_id, list(skus)]
        )
        return dict(cursor.fetchall())


_PAGE_VARIANTS_SQL = """
    SELECT v.id, v.product_id, v.sku, v.name, v.price, v.compare_at_price, v.position,
           s.on_hand, s.allocated, sh.id, sh.slug, sh.name, sh.logo, sh.currency, sh.status
    FROM catalog_variant v
    JOIN catalog_product p ON p.id = v.product_id
    JOIN shops_shop sh ON sh.id = v.shop_id
    LEFT JOIN catalog_stock s ON s.variant_id = v.id
    WHERE v.product_id = %s AND p.slug = %s AND p.status = %s AND sh.slug = %s AND sh.status = %s
    ORDER BY v.position, v.id
"""


def _money(value) -> Decimal | None:
    """A price column as Decimal: PostgreSQL's driver gives one; SQLite (the demo) gives a number."""
    if value is None or isinstance(value, Decimal):
        return value
    return Decimal(str(value)).quantize(Decimal("0.01"))


def variants_with_stock(*, product_id: int, product_slug: str, shop_slug: str) -> list[Variant]:
    """A product's variants with their stock and shop, read fresh on every product page view, in one
    query that also checks the product and the shop: empty when the shop is suspended, the product is
    no longer on sale, either slug has moved on, or the product has no variants.

    Hand-written SQL: this is the storefront's hottest read, and building it through the ORM cost four
    times the query itself (bench/analysis.md, "Storefront"). The rows become real model instances
    (`Model.from_db`) with just the fields the product page reads."""
    with connection.cursor() as cursor:
        cursor.execute(
            _PAGE_VARIANTS_SQL,
            [product_id, product_slug, Product.Status.ACTIVE, shop_slug, Shop.Status.ACTIVE],
        )
        rows = cursor.fetchall()
    if not rows:
        return []
    shop_id, slug, name, logo, currency, status = rows[0][9:]
    shop = Shop.from_db(
        connection.alias,
        ["id", "slug", "name", "logo", "currency", "status"],
        [shop_id, slug, name, logo, currency, status],
    )
    variants = []
    for pk, product_pk, sku, variant_name, price, compare_at, position, on_hand, allocated, *_ in rows:
        variant = Variant.from_db(
            connection.alias,
            ["id", "product_id", "shop_id", "sku", "name", "price", "compare_at_price", "position"],
            [pk, product_pk, shop_id, sku, variant_name, _money(price), _money(compare_at), position],
        )
        stock = Stock.from_db(
            connection.alias, ["variant_id", "on_hand", "allocated"], [pk, on_hand or 0, allocated or 0]
        )
        variant._state.fields_cache["stock"] = stock
        variant._state.fields_cache["shop"] = shop
        variants.append(variant)
    return variants


# (shop id, product id) by (shop slug, product slug), remembered per process, so the product page
# needs no query to find them. A stale entry is harmless: the variants query checks both slugs and
# both statuses, and an empty answer sends the caller back to the full checks.
_page_ids: dict[tuple[str, str], tuple[int, int]] = {}


def product_page_live(*, shop_slug: str, product_slug: str) -> tuple[Shop, list[Variant]]:
    """What the product page reads fresh on every view: (shop, variants with stock). One query when the
    ids are remembered; the full checks (404 for a suspended shop or a product not on sale) otherwise."""
    ids = _page_ids.get((shop_slug, product_slug))
    if ids is not None:
        variants = variants_with_stock(product_id=ids[1], product_slug=product_slug, shop_slug=shop_slug)
        if variants:
            return variants[0].shop, variants
    shop = shop_get_active(slug=shop_slug)
    product = product_get_storefront(shop=shop, slug=product_slug)
    if len(_page_ids) > 50_000:
        _page_ids.clear()
    _page_ids[shop_slug, product_slug] = (shop.pk, product.pk)
    return shop, list(product.variants.all())


def variants_for_cart(*, variant_ids: list[int]) -> dict[int, Variant]:
    """Buyable variants by id, with product, shop and stock; drafts and suspended shops are left out."""
    variants = Variant.objects.filter(
        pk__in=variant_ids, product__status=Product.Status.ACTIVE, shop__status=Shop.Status.ACTIVE
    ).select_related("product", "shop", "stock")
    return {variant.pk: variant for variant in variants}


def products_public_api() -> QuerySet[Product]:
    """Storefront products for the public API, with variants and their stock in one more query."""
    return products_storefront().prefetch_related(
        Prefetch("variants", queryset=Variant.objects.select_related("stock").order_by("position", "id"))
    )


def products_for_merchant() -> QuerySet[Product]:
    """Every product of any status with variants, stock and images (scope it to the caller's shops)."""
    return Product.objects.select_related("shop", "category").prefetch_related(
        _images_prefetch(),
        Prefetch(
            "variants", queryset=Variant.objects.select_related("stock", "shop").order_by("position", "id")
        ),
    )


def variants_for_merchant() -> QuerySet[Variant]:
    return Variant.objects.select_related("product", "shop", "stock")


def images_for_merchant() -> QuerySet[ProductImage]:
    return ProductImage.objects.select_related("product")


def stock_for_merchant() -> QuerySet[Stock]:
    return Stock.objects.select_related("variant__product", "variant__shop")


def sku_taken(*, shop_id: int, sku: str, exclude_variant_id: int | None = None) -> bool:
    return Variant.objects.filter(shop_id=shop_id, sku=sku).exclude(pk=exclude_variant_id).exists()


def product_slug_taken(*, shop_id: int, slug: str, exclude_product_id: int | None = None) -> bool:
    return Product.objects.filter(shop_id=shop_id, slug=slug).exclude(pk=exclude_product_id).exists()


def sync_runs_for_merchant() -> QuerySet[InventorySyncRun]:
    return InventorySyncRun.objects.select_related("shop")


def stock_feed_for_shop(*, shop: Shop) -> StockFeed | None:
    return StockFeed.objects.filter(shop=shop).first()
