"""Account forms: allauth's, with labels a shopper understands."""

from allauth.account.forms import LoginForm


class ShopperLoginForm(LoginForm):
    """allauth labels the field "Login"; say what to type (e-mail or username both work)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = "Email or username"
        self.fields["login"].widget.attrs["placeholder"] = "you@example.com"
