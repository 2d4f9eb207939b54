"""Storefront pages that mix live shows with the catalog (home, shop, product) and the show page.

They live here because shows sit on top of the dependency chain (shops <- catalog <- orders <- shows).
"""

from django.shortcuts import render

from catalog.selectors import product_get_storefront, products_featured, products_for_shop
from shops.selectors import shop_follower_count, shop_get_active, shop_is_followed, user_is_shop_staff

from . import selectors


def home(request):
    context = {
        "live_shows": selectors.shows_live(),
        "upcoming_shows": selectors.shows_upcoming(),
        "featured_products": products_featured(),
    }
    return render(request, "home.html", context)


def shop_detail(request, shop_slug: str):
    shop = shop_get_active(slug=shop_slug)
    context = {
        "shop": shop,
        "products": products_for_shop(shop=shop),
        "upcoming_shows": selectors.shows_upcoming(shop=shop, limit=6),
        "live_shows": [s for s in selectors.shows_live() if s.shop_id == shop.pk],
        "is_following": shop_is_followed(user=request.user, shop=shop),
        "follower_count": shop_follower_count(shop=shop),
    }
    return render(request, "shops/shop_detail.html", context)


def product_detail(request, shop_slug: str, product_slug: str):
    shop = shop_get_active(slug=shop_slug)
    product = product_get_storefront(shop=shop, slug=product_slug)
    variants = list(product.variants.all())
    context = {
        "shop": shop,
        "product": product,
        "variants": variants,
        "images": list(product.images.all()),
        "in_stock": any(v.stock.available > 0 for v in variants),
        "shows": selectors.shows_for_product(product_id=product.pk),
    }
    return render(request, "catalog/product_detail.html", context)


def show_detail(request, show_id: int):
    show = selectors.show_get_public(show_id=show_id)
    is_host = request.user.is_authenticated and (
        request.user.is_superuser or user_is_shop_staff(user=request.user, shop_id=show.shop_id)
    )
    context = {
        "show": show,
        "pinned": selectors.show_pinned_product(show=show),
        "lineup": selectors.show_lineup(show=show),
        "chat": selectors.chat_recent(show_id=show.pk),
        "is_host": is_host,
    }
    return render(request, "shows/show_detail.html", context)
