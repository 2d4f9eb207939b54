from .cart_session import current_cart
from .selectors import cart_item_count


def cart_summary(request):
    """The header's cart badge; one small query, and none for visitors without a cart."""

    def count():
        cart = current_cart(request)
        return cart_item_count(cart_id=cart.pk) if cart else 0

    return {"cart_item_count": count}
