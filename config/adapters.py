"""allauth hooks: after login, the visitor's anonymous cart joins the account's cart."""

from allauth.account.adapter import DefaultAccountAdapter

from orders.cart_session import SESSION_KEY, session_cart_token
from orders.services import cart_merge


class AccountAdapter(DefaultAccountAdapter):
    def login(self, request, user):
        token = session_cart_token(request)
        super().login(request, user)
        cart_merge(user=user, token=token)
        request.session.pop(SESSION_KEY, None)
