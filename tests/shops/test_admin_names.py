"""The admin names every model in good English ("Waitlist entrys" was on the ops index in round 2)."""

import re

import pytest
from django.apps import apps
from django.contrib import admin

from tests.shops.factories import UserFactory

OUR_APPS = {"shops", "catalog", "orders", "shows", "outbox"}
# Where the plural is not simply the singular plus "s".
PLURALS = {
    "waitlist entry": "waitlist entries",
    "giveaway entry": "giveaway entries",
    "stock": "stock",  # uncountable: "stocks" are shares
}


def _models():
    return [m for m in apps.get_models() if m._meta.app_label in OUR_APPS or admin.site.is_registered(m)]


@pytest.mark.parametrize("model", _models(), ids=lambda m: f"{m._meta.app_label}.{m.__name__}")
def test_every_models_plural_is_english(model):
    """Django's default plural appends "s": "entry" -> "entrys", "address" -> "addresss"."""
    singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
    if singular in PLURALS:
        assert plural == PLURALS[singular]
    elif re.search(r"([^aeiou]y|s|x|z|ch|sh)$", singular):
        assert plural != singular + "s", f"{singular!r} -> {plural!r}"


@pytest.mark.django_db
def test_admin_index_shows_english_plurals_to_ops(client):
    client.force_login(UserFactory(username="ops_user", is_superuser=True))
    html = client.get("/admin/").content.decode()
    assert "Waitlist entries" in html and "Stock<" in html
    assert not re.search(r"[^aeiou]ys<", html), re.findall(r">[^<>]*[^aeiou]ys<", html)
