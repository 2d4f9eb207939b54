"""Find the current visitor's cart: the user's, or the anonymous one named by a token in the session."""

import uuid

from .models import Cart
from .selectors import cart_find
from .services import cart_get_or_create

SESSION_KEY = "cart_token"


def session_cart_token(request) -> uuid.UUID | None:
    raw = request.session.get(SESSION_KEY)
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def current_cart(request, *, create: bool = False) -> Cart | None:
    if request.user.is_authenticated:
        return cart_get_or_create(user=request.user) if create else cart_find(user=request.user)
    token = session_cart_token(request)
    if token is None and create:
        token = uuid.uuid4()
        request.session[SESSION_KEY] = str(token)
    if token is None:
        return None
    return cart_get_or_create(token=token) if create else cart_find(token=token)
