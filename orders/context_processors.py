from .cart_session import session_cart_token
from .selectors import cart_item_count


def cart_summary(request):
    """The header's cart badge, computed only if a template asks: one aggregate query."""

    def count():
        return cart_item_count(user=request.user, token=session_cart_token(request))

    return {"cart_item_count": count}
