"""Account forms: allauth's, with labels a shopper understands."""

from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm, SignupForm


class ShopperLoginForm(LoginForm):
    """allauth labels the field "Login"; say what to type (e-mail or username both work)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Email or username"
        self.fields["login"].widget.attrs["placeholder"] = "you@example.com"


class ShopperSignupForm(SignupForm):
    """A registered e-mail is not a form error ("already registered" told anyone who has an account):
    its owner gets allauth's "someone tried to sign up with your address" mail, and the visitor the
    same answer as a new signup (config.adapters.AccountAdapter.pre_login). No account is made."""

    def validate_unique_email(self, value):
        email = get_adapter().clean_email(value)
        self.account_already_exists = self.account_already_exists or _email_taken(email)
        return email if self.account_already_exists else super().validate_unique_email(value)

    def try_save(self, request):
        if not self.account_already_exists:
            return super().try_save(request)
        adapter = get_adapter()
        email = self.cleaned_data["email"]
        adapter.send_account_already_exists_mail(email)
        return None, adapter.respond_signup_received(request, email)


def _email_taken(email: str) -> bool:
    from allauth.account.models import EmailAddress

    from .models import User

    return (
        User.objects.filter(email__iexact=email).exists()
        or EmailAddress.objects.filter(email__iexact=email).exists()
    )
