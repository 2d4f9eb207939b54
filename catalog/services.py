"""Writes for the catalog. Stock itself changes only in catalog.stock."""

from decimal import Decimal

from django.core.files.base import File
from django.db import transaction
from django.utils.text import slugify

from shops.images import RENDITIONS, render_rendition, validate_image_upload
from shops.models import Shop

from .exceptions import SkuTaken, SlugTaken
from .models import Category, Product, ProductImage, Variant
from .selectors import product_slug_taken, sku_taken
from .stock import stock_ensure, stock_lock_unallocated, stock_set_on_hand
from .storefront_cache import product_page_invalidate


def _unique_product_slug(*, shop: Shop, title: str) -> str:
    base = slugify(title)[:180] or "product"
    slug, n = base, 2
    while Product.objects.filter(shop=shop, slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def category_get_or_create(*, name: str, parent: Category | None = None) -> Category:
    category, _ = Category.objects.get_or_create(
        slug=slugify(name), defaults={"name": name, "parent": parent}
    )
    return category


@transaction.atomic
def product_create(
    *,
    shop: Shop,
    title: str,
    description: str = "",
    status: str = Product.Status.ACTIVE,
    category: Category | None = None,
    slug: str | None = None,
    is_featured: bool = False,
) -> Product:
    """A taken slug in the shop raises SlugTaken; without a slug one is made from the title."""
    if slug and product_slug_taken(shop_id=shop.pk, slug=slug):
        raise SlugTaken(slug)
    return Product.objects.create(
        shop=shop,
        title=title,
        slug=slug or _unique_product_slug(shop=shop, title=title),
        description=description,
        status=status,
        category=category,
        is_featured=is_featured,
    )


@transaction.atomic
def variant_create(
    *,
    product: Product,
    sku: str,
    price: Decimal,
    name: str = "",
    options: dict | None = None,
    compare_at_price: Decimal | None = None,
    weight_grams: int = 0,
    on_hand: int = 0,
    position: int = 0,
) -> Variant:
    """SKUs are unique per shop: a taken one raises SkuTaken."""
    if sku_taken(shop_id=product.shop_id, sku=sku):
        raise SkuTaken(sku)
    variant = Variant.objects.create(
        product=product,
        shop_id=product.shop_id,
        sku=sku,
        name=name,
        options=options or {},
        price=Decimal(price),
        compare_at_price=compare_at_price,
        weight_grams=weight_grams,
        position=position,
    )
    stock_ensure(variant_id=variant.pk)
    if on_hand:
        stock_set_on_hand(variant_id=variant.pk, on_hand=on_hand)
    return variant


def product_image_add(
    *, product: Product, image: File, alt_text: str = "", position: int = 0
) -> ProductImage:
    """Store a validated upload; its renditions are made by a task after commit."""
    validate_image_upload(image)
    product_image = ProductImage.objects.create(
        product=product, image=image, alt_text=alt_text, position=position
    )
    product_images_renditions_enqueue(image_ids=[product_image.pk])
    product_page_invalidate(shop_id=product.shop_id, slugs=[product.slug])
    return product_image


def product_images_renditions_enqueue(*, image_ids: list[int]) -> None:
    from .tasks import product_image_renditions_task

    for image_id in image_ids:
        product_image_renditions_task.delay_on_commit(image_id)


def product_image_renditions_make(*, image_id: int) -> bool:
    """Make the thumbnail, card and full renditions. Idempotent: returns False when already current."""
    product_image = ProductImage.objects.filter(pk=image_id).first()
    if product_image is None or not product_image.image:
        return False
    source_name = product_image.image.name
    if product_image.renditions_source == source_name and all(
        getattr(product_image, name) for name in RENDITIONS
    ):
        return False
    values = {}
    with product_image.image.open("rb") as source:
        for name, longest_side in RENDITIONS.items():
            rendition = render_rendition(source, longest_side=longest_side)
            field = getattr(product_image, name)
            values[name] = field.storage.save(
                field.field.generate_filename(product_image, rendition.name), rendition
            )
    # Only if the upload was not replaced meanwhile (a later task will handle the new one).
    ProductImage.objects.filter(pk=image_id, image=source_name).update(
        renditions_source=source_name, **values
    )
    _product_pages_invalidate(product_ids=[product_image.product_id])
    return True


def products_set_status(*, product_ids: list[int], status: str) -> int:
    """Bulk publish / archive; returns how many products changed."""
    changed = Product.objects.filter(pk__in=product_ids).exclude(status=status).update(status=status)
    _product_pages_invalidate(product_ids=product_ids)
    return changed


def _product_pages_invalidate(*, product_ids) -> None:
    by_shop: dict[int, list[str]] = {}
    for shop_id, slug in Product.objects.filter(pk__in=list(product_ids)).values_list("shop_id", "slug"):
        by_shop.setdefault(shop_id, []).append(slug)
    for shop_id, slugs in by_shop.items():
        product_page_invalidate(shop_id=shop_id, slugs=slugs)


# --- Editing (the API and the admin's forms change rows only through these) -------------------------

PRODUCT_EDITABLE = ("title", "slug", "description", "status", "category", "is_featured")
VARIANT_EDITABLE = ("sku", "name", "options", "price", "compare_at_price", "weight_grams", "position")


def _apply(instance, allowed: tuple[str, ...], changes: dict) -> list[str]:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(instance, name, value)
    return list(changes)


@transaction.atomic
def product_update(*, product: Product, **changes) -> Product:
    """Change a product's own fields; a taken slug in the same shop raises SlugTaken."""
    if "slug" in changes:
        changes["slug"] = slugify(changes["slug"])[:200] or product.slug
        if product_slug_taken(shop_id=product.shop_id, slug=changes["slug"], exclude_product_id=product.pk):
            raise SlugTaken(changes["slug"])
    old_slug = product.slug
    fields = _apply(product, PRODUCT_EDITABLE, changes)
    if fields:
        product.save(update_fields=[*fields, "updated_at"])
        product_page_invalidate(shop_id=product.shop_id, slugs=[old_slug, product.slug])
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Delete a product and its variants, unless units of it are promised to orders or holds
    (archive it instead: it leaves the storefront and the orders keep their snapshot)."""
    variant_ids = list(product.variants.values_list("pk", flat=True))
    stock_lock_unallocated(variant_ids=variant_ids)
    product_page_invalidate(shop_id=product.shop_id, slugs=[product.slug])
    product.delete()


@transaction.atomic
def variant_update(*, variant: Variant, **changes) -> Variant:
    """Change a variant's own fields (stock changes through catalog.stock); SKUs stay unique per shop."""
    if "sku" in changes and sku_taken(
        shop_id=variant.shop_id, sku=changes["sku"], exclude_variant_id=variant.pk
    ):
        raise SkuTaken(changes["sku"])
    if "price" in changes:
        changes["price"] = Decimal(changes["price"])
    fields = _apply(variant, VARIANT_EDITABLE, changes)
    if fields:
        variant.save(update_fields=fields)
    return variant


@transaction.atomic
def variant_delete(*, variant: Variant) -> None:
    stock_lock_unallocated(variant_ids=[variant.pk])
    variant.delete()


def product_image_update(
    *, image: ProductImage, alt_text: str | None = None, position: int | None = None
) -> ProductImage:
    changes = {k: v for k, v in (("alt_text", alt_text), ("position", position)) if v is not None}
    if changes:
        ProductImage.objects.filter(pk=image.pk).update(**changes)
        _product_pages_invalidate(product_ids=[image.product_id])
        for name, value in changes.items():
            setattr(image, name, value)
    return image


def product_image_replace(*, image: ProductImage, file: File) -> ProductImage:
    """A new upload in place of the photo (the admin's form); its renditions are made again after commit."""
    validate_image_upload(file)
    image.image = file
    image.save(update_fields=["image"])
    product_images_renditions_enqueue(image_ids=[image.pk])
    _product_pages_invalidate(product_ids=[image.product_id])
    return image


def product_image_delete(*, image: ProductImage) -> None:
    _product_pages_invalidate(product_ids=[image.product_id])
    image.delete()
