"""Writes for the catalog. Stock itself changes only in catalog.stock."""

from decimal import Decimal

from django.core.files.base import File
from django.db import transaction
from django.utils.text import slugify

from shops.images import RENDITIONS, render_rendition, validate_image_upload
from shops.models import Shop

from .models import Category, Product, ProductImage, Variant
from .stock import stock_ensure, stock_set_on_hand


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
    return True


def products_set_status(*, product_ids: list[int], status: str) -> int:
    """Bulk publish / archive; returns how many products changed."""
    return Product.objects.filter(pk__in=product_ids).exclude(status=status).update(status=status)
