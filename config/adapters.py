"""allauth hooks: after login, the visitor's anonymous cart joins the account's cart; a signup is
answered the same whether or not its e-mail is registered (shops.forms.ShopperSignupForm)."""

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.contrib import messages

from orders.cart_session import SESSION_KEY, session_cart_token
from orders.services import cart_merge


class AccountAdapter(DefaultAccountAdapter):
    def pre_login(self, request, user, *, email_verification, email, signup, **kwargs):
        """With optional verification allauth logs a new account straight in, while a registered
        address can only get a "check your e-mail" answer: the difference told anyone which
        addresses have accounts. So a fresh signup also gets the confirmation mail and that answer,
        and signs in with its password (verification stays optional)."""
        if signup and email_verification == app_settings.EmailVerificationMethod.OPTIONAL:
            address = EmailAddress.objects.filter(user=user, verified=False).first()
            if address is not None:
                address.send_confirmation(request, signup=True)
                return self.respond_signup_received(request, address.email)
        return super().pre_login(
            request, user, email_verification=email_verification, email=email, signup=signup, **kwargs
        )

    def respond_signup_received(self, request, email: str):
        """The one answer to every signup: a message and allauth's "verify your e-mail" page."""
        self.add_message(
            request,
            messages.INFO,
            "account/messages/email_confirmation_sent.txt",
            {"email": email, "login": False, "signup": True},
        )
        return self.respond_email_verification_sent(request, None)

    def login(self, request, user):
        token = session_cart_token(request)
        super().login(request, user)
        cart_merge(user=user, token=token)
        request.session.pop(SESSION_KEY, None)
