"""Signup does not tell whether an e-mail is registered (allauth's ACCOUNT_PREVENT_ENUMERATION, with
the demo's optional verification): a new address and a registered one get the same answer, a
"check your e-mail" page and nobody logged in; the registered address's owner gets a notice instead
of a second account."""

import re

import pytest
from django.core import mail
from django.test import Client

from shops.models import User

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
PASSWORD = "Sturdy-pass-42"


def _sign_up(email: str) -> tuple[int, str, str, bool]:
    """Status, Location, the page it leads to (the address blanked out), and whether it logged in."""
    browser = Client()
    response = browser.post(SIGNUP, {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    landing = browser.get(response["Location"]).content.decode() if response.status_code == 302 else ""
    landing = re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+"', "", landing)  # per request
    landing = landing.replace(email, "<email>")
    return response.status_code, response.get("Location", ""), landing, "_auth_user_id" in browser.session


def test_signing_up_with_a_registered_email_looks_exactly_like_a_new_signup(shopper):
    registered = _sign_up(shopper.email)
    new = _sign_up("newcomer@example.test")

    assert registered == new
    status, location, page, logged_in = new
    assert (status, logged_in) == (302, False)
    assert "Verify Your Email Address" in page or "verify your email" in page.lower()
    assert "Confirmation email sent to <email>." in page
    assert User.objects.filter(email__iexact=shopper.email).count() == 1  # no second account


def test_the_registered_owner_gets_a_notice_and_the_newcomer_a_confirmation_link(shopper):
    mail.outbox.clear()
    _sign_up(shopper.email)
    (notice,) = mail.outbox
    assert notice.to == [shopper.email]
    assert "already" in (notice.subject + notice.body).lower()
    assert "/accounts/password/reset/" in notice.body  # how to get back in

    mail.outbox.clear()
    _sign_up("newcomer@example.test")
    (confirm,) = mail.outbox
    assert confirm.to == ["newcomer@example.test"]
    assert "/accounts/confirm-email/" in confirm.body
    newcomer = User.objects.get(email="newcomer@example.test")
    # Verification stays optional: the newcomer signs in with the password right away.
    browser = Client()
    response = browser.post("/accounts/login/", {"login": newcomer.email, "password": PASSWORD})
    assert response.status_code == 302 and browser.session["_auth_user_id"] == str(newcomer.pk)
