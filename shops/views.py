from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .selectors import shop_follower_count, shop_get_active, shop_is_followed
from .services import shop_follow, shop_unfollow


@login_required
@require_POST
def follow_toggle(request, shop_slug: str):
    shop = shop_get_active(slug=shop_slug)
    if shop_is_followed(user=request.user, shop=shop):
        shop_unfollow(user=request.user, shop=shop)
    else:
        shop_follow(user=request.user, shop=shop)
    if request.htmx:
        context = {
            "shop": shop,
            "is_following": shop_is_followed(user=request.user, shop=shop),
            "follower_count": shop_follower_count(shop=shop),
        }
        return render(request, "shops/_follow_button.html", context)
    return redirect(shop.get_absolute_url())
