"""Merchants plan and run their shows from the admin, and only ever see their own shop's rows."""

import re

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from shops.models import Shop
from shops.services import shop_set_status
from shows.exceptions import InvalidMessage
from shows.models import BlockedWord, LineupItem, ShopBan, Show, ShowRole, stream_key_digest
from shows.permissions import PIN, show_rights
from shows.services import chat_post, show_create, show_go_live, viewer_ban
from tests.catalog.factories import ProductFactory
from tests.shops.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def show(shop, variant):
    return show_create(
        shop=shop,
        title="Friday Crate Digging",
        scheduled_start=timezone.now() + timezone.timedelta(hours=2),
        products=[variant.product],
    )


def _change_url(show):
    return reverse("admin:shows_show_change", args=[show.pk])


def _show_form(show, *, lineup, roles=(), **overrides):
    """The change form as the browser posts it: `lineup` is [(item or None, product, position)]."""
    start = timezone.localtime(show.scheduled_start)
    data = {
        "title": show.title,
        "description": show.description,
        "scheduled_start_0": start.strftime("%Y-%m-%d"),
        "scheduled_start_1": start.strftime("%H:%M:%S"),
        "playback_url": show.playback_url,
        "replay_url": show.replay_url,
    }
    for prefix, rows in (("lineup_items", lineup), ("roles", roles)):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": str(sum(1 for row in rows if row[0] is not None)),
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    for n, (item, product, position) in enumerate(lineup):
        data.update(
            {
                f"lineup_items-{n}-id": item.pk if item else "",
                f"lineup_items-{n}-show": show.pk,
                f"lineup_items-{n}-product": product.pk,
                f"lineup_items-{n}-position": str(position),
            }
        )
    for n, (role, username, kind) in enumerate(roles):
        data.update(
            {
                f"roles-{n}-id": role.pk if role else "",
                f"roles-{n}-show": show.pk,
                f"roles-{n}-user": username,
                f"roles-{n}-role": kind,
            }
        )
    data.update(overrides)
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_merchant_reorders_the_lineup_adds_a_product_and_grants_a_cohost(client, merchant, shop, show):
    first = LineupItem.objects.get(show=show)
    second = ProductFactory(shop=shop, title="Giant Steps LP")
    cohost = UserFactory(username="dj_guest")  # a user of no shop at all: allowed by design
    client.force_login(merchant)

    response = client.post(
        _change_url(show),
        _show_form(
            show,
            lineup=[(first, first.product, 2), (None, second, 1)],
            roles=[(None, "dj_guest", ShowRole.Role.COHOST)],
            replay_url="https://media.example.test/replay.m3u8",
        ),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    lineup = list(LineupItem.objects.filter(show=show).values_list("product__title", flat=True))
    assert lineup == ["Giant Steps LP", first.product.title]
    role = ShowRole.objects.get(show=show)
    assert (role.user, role.role) == (cohost, ShowRole.Role.COHOST)
    assert PIN in show_rights(user=cohost, show=show)
    show.refresh_from_db()
    assert show.replay_url == "https://media.example.test/replay.m3u8"
    page = client.get(_change_url(show)).content.decode()
    assert 'value="dj_guest"' in page  # the saved co-host shows by username, not by id


def test_lineup_refuses_another_shops_product_and_roles_an_unknown_username(
    client, merchant, show, other_variant
):
    first = LineupItem.objects.get(show=show)
    client.force_login(merchant)

    response = client.post(
        _change_url(show),
        _show_form(
            show,
            lineup=[(first, first.product, 0), (None, other_variant.product, 1)],
            roles=[(None, "nobody-by-that-name", ShowRole.Role.MODERATOR)],
        ),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert "There is no active account with that username." in html
    assert LineupItem.objects.filter(show=show).count() == 1
    assert not ShowRole.objects.exists()


def test_change_page_shows_the_obs_settings_and_the_host_console_link(client, merchant, show):
    client.force_login(merchant)

    html = client.get(_change_url(show)).content.decode()

    assert show.stream_key not in html  # shown once, when made (tests/security/test_secrets.py)
    assert f"…{show.stream_key[-4:]}" in html and "Make a new key" in html
    assert settings.LIVEMARKET_INGEST_URL in html
    assert reverse("host_console", args=[show.pk]) in html
    assert show.get_absolute_url() in html
    assert 'value="go_live"' in html  # the Go live button for a scheduled show
    listing = client.get(reverse("admin:shows_show_changelist")).content.decode()
    assert reverse("host_console", args=[show.pk]) in listing


def test_another_shops_merchant_gets_404_on_the_shows_admin_urls(client, other_merchant, other_shop, show):
    client.force_login(other_merchant)

    for view in ("change", "delete", "history"):
        url = reverse(f"admin:shows_show_{view}", args=[show.pk])
        assert client.get(url).status_code == 404, view
    assert client.post(_change_url(show), _show_form(show, lineup=[])).status_code == 404
    listing = client.get(reverse("admin:shows_show_changelist")).content.decode()
    assert show.title not in listing
    # Actions with a foreign id do nothing.
    client.post(reverse("admin:shows_show_changelist"), {"action": "go_live", "_selected_action": [show.pk]})
    show.refresh_from_db()
    assert show.status == Show.Status.SCHEDULED


def test_go_live_and_end_show_actions_call_the_services(client, merchant, show):
    client.force_login(merchant)
    url = reverse("admin:shows_show_changelist")

    response = client.post(url, {"action": "go_live", "_selected_action": [show.pk]}, follow=True)

    show.refresh_from_db()
    assert show.status == Show.Status.LIVE and show.started_at is not None
    assert "Went live: Friday Crate Digging." in _messages(response)

    response = client.post(url, {"action": "end_show", "_selected_action": [show.pk], "_from_change": "1"})

    assert response.status_code == 302 and response.url == _change_url(show)
    show.refresh_from_db()
    assert show.status == Show.Status.ENDED


def test_go_live_action_reports_a_suspended_shop_per_show(client, merchant, shop, show):
    other = show_create(shop=shop, title="Second show", scheduled_start=timezone.now())
    shop_set_status(shop=shop, status=Shop.Status.SUSPENDED)
    client.force_login(merchant)

    response = client.post(
        reverse("admin:shows_show_changelist"),
        {"action": "go_live", "_selected_action": [show.pk, other.pk]},
        follow=True,
    )

    assert response.status_code == 200
    messages = _messages(response)
    suspended = "This shop is suspended; its shows cannot go live."
    assert f"Friday Crate Digging: {suspended}" in messages
    assert f"Second show: {suspended}" in messages
    assert set(Show.objects.values_list("status", flat=True)) == {Show.Status.SCHEDULED}


def test_blocked_words_are_scoped_to_the_merchants_shop(
    client, merchant, other_merchant, shop, other_shop, show, shopper
):
    theirs = BlockedWord.objects.create(shop=other_shop, word="theirword")
    client.force_login(merchant)

    response = client.post(reverse("admin:shows_blockedword_add"), {"shop": other_shop.pk, "word": " SCAM "})

    assert response.status_code == 302
    word = BlockedWord.objects.get(word="scam")
    assert word.shop == shop  # whatever shop was posted
    listing = client.get(reverse("admin:shows_blockedword_changelist")).content.decode()
    assert "scam" in listing and "theirword" not in listing
    assert client.get(reverse("admin:shows_blockedword_change", args=[theirs.pk])).status_code == 404
    show = show_go_live(show=show, user=merchant)
    with pytest.raises(InvalidMessage):
        chat_post(show=show, user=shopper, text="total Scam, don't buy")

    client.force_login(other_merchant)
    listing = client.get(reverse("admin:shows_blockedword_changelist")).content.decode()
    assert "theirword" in listing and ">scam<" not in listing


def test_merchant_lifts_a_ban_by_deleting_it(client, merchant, show, shopper):
    show = show_go_live(show=show, user=merchant)
    viewer_ban(show=show, user=merchant, target_id=shopper.pk, reason="spam")
    ban = ShopBan.objects.get()
    client.force_login(merchant)

    assert client.get(reverse("admin:shows_shopban_add")).status_code == 403
    response = client.post(reverse("admin:shows_shopban_delete", args=[ban.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not ShopBan.objects.exists()
    chat_post(show=show, user=shopper, text="thanks for letting me back in")


def test_lineup_product_autocomplete_offers_only_the_merchants_products(
    client, merchant, show, other_variant
):
    client.force_login(merchant)

    response = client.get(
        "/admin/autocomplete/",
        {"term": "", "app_label": "shows", "model_name": "lineupitem", "field_name": "product"},
    )

    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Blue Train LP"]


def _lineup(show):
    return list(
        LineupItem.objects.filter(show=show).order_by("position", "id").values_list("product_id", flat=True)
    )


def test_a_live_show_cannot_be_rescheduled_from_the_admin_but_its_other_details_change(
    client, merchant, shop, show
):
    show = show_go_live(show=show, user=merchant)
    item = LineupItem.objects.get(show=show)
    second = ProductFactory(shop=shop, title="Giant Steps LP")
    planned = show.scheduled_start
    client.force_login(merchant)

    html = client.get(_change_url(show)).content.decode()
    assert 'name="scheduled_start_0"' not in html  # shown read-only
    response = client.post(
        _change_url(show),
        _show_form(
            show,
            lineup=[(item, item.product, 1), (None, second, 0)],
            title="Friday Crate Digging (live)",
            scheduled_start_0="2031-01-01",
            scheduled_start_1="20:00:00",
        ),
    )

    assert response.status_code == 302
    show.refresh_from_db()
    assert show.scheduled_start == planned
    assert show.title == "Friday Crate Digging (live)"
    assert _lineup(show) == [second.pk, item.product_id]  # a live show's lineup still changes


def test_a_scheduled_show_is_rescheduled_from_the_admin(client, merchant, show):
    item = LineupItem.objects.get(show=show)
    client.force_login(merchant)

    response = client.post(
        _change_url(show),
        _show_form(
            show,
            lineup=[(item, item.product, 0)],
            scheduled_start_0="2031-01-01",
            scheduled_start_1="20:00:00",
        ),
    )

    assert response.status_code == 302
    show.refresh_from_db()
    assert timezone.localtime(show.scheduled_start).strftime("%Y-%m-%d %H:%M") == "2031-01-01 20:00"


def test_an_ended_shows_lineup_and_start_are_read_only_in_the_admin(client, merchant, shop, show):
    from shows.services import show_end

    show = show_end(show=show_go_live(show=show, user=merchant), user=merchant)
    item = LineupItem.objects.get(show=show)
    second = ProductFactory(shop=shop, title="Giant Steps LP")
    planned = show.scheduled_start
    client.force_login(merchant)

    html = client.get(_change_url(show)).content.decode()
    assert 'name="lineup_items-0-product"' not in html and 'name="scheduled_start_0"' not in html
    response = client.post(
        _change_url(show),
        _show_form(
            show,
            lineup=[(item, second, 0), (None, second, 1)],
            scheduled_start_0="2031-01-01",
            scheduled_start_1="20:00:00",
            **{"lineup_items-0-DELETE": "on"},
        ),
    )

    assert response.status_code == 302
    show.refresh_from_db()
    assert show.scheduled_start == planned
    assert _lineup(show) == [item.product_id]


def test_a_new_show_is_made_by_show_create_with_its_key_shown_once(client, merchant, shop):
    client.force_login(merchant)
    start = timezone.localtime(timezone.now() + timezone.timedelta(days=1))

    response = client.post(
        reverse("admin:shows_show_add"),
        {
            "shop": shop.pk,
            "title": "Sunday Soul",
            "description": "",
            "scheduled_start_0": start.strftime("%Y-%m-%d"),
            "scheduled_start_1": start.strftime("%H:%M:%S"),
            "playback_url": "",
            "replay_url": "https://media.example.test/soul.m3u8",
            "lineup_items-TOTAL_FORMS": "0",
            "lineup_items-INITIAL_FORMS": "0",
            "roles-TOTAL_FORMS": "0",
            "roles-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200  # the page with the new stream key
    show = Show.objects.get(title="Sunday Soul")
    assert (show.shop, show.status, show.replay_url) == (
        shop,
        Show.Status.SCHEDULED,
        "https://media.example.test/soul.m3u8",
    )
    html = response.content.decode()
    assert "Copy your stream key" in html
    keys = [
        k for k in re.findall(r"[A-Za-z0-9_-]{20,}", html) if stream_key_digest(k) == show.stream_key_hash
    ]
    assert len(keys) == 1 and keys[0].endswith(show.stream_key_hint)


def test_the_deal_list_counts_claimed_units_by_the_services_rule(client, merchant, shop, show, variant):
    from datetime import timedelta

    from orders.models import Reservation
    from orders.services import reservations_release_expired
    from shows.selectors import deal_units_claimed
    from shows.services import deal_start, show_buy_now

    show = show_go_live(show=show, user=merchant)
    deal = deal_start(
        show=show, user=merchant, variant_id=variant.pk, price="9.99", units=4, per_buyer_limit=1
    )
    buyers = [UserFactory() for _ in range(3)]
    holds = [show_buy_now(show=show, user=buyer, variant_id=variant.pk) for buyer in buyers]
    Reservation.objects.filter(pk=holds[0].pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert reservations_release_expired() == 1  # an expired hold gives its unit back
    client.force_login(merchant)

    html = client.get(reverse("admin:shows_flashdeal_changelist")).content.decode()

    assert deal_units_claimed(deal=deal) == 2
    assert '<td class="field-units_claimed">2</td>' in html


def test_hiding_a_chat_message_in_the_admin_is_the_rooms_moderation(client, merchant, show, shopper):
    from shows.models import ChatMessage

    show = show_go_live(show=show, user=merchant)
    message = chat_post(show=show, user=shopper, text="first!")
    client.force_login(merchant)
    url = reverse("admin:shows_chatmessage_change", args=[message.pk])

    assert 'name="deleted_by"' not in client.get(url).content.decode()  # no list of every account
    response = client.post(url, {"is_deleted": "on", "deleted_by": shopper.pk})

    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.is_deleted, message.deleted_by) == (True, merchant)

    response = client.post(url, {})
    message.refresh_from_db()
    assert response.status_code == 302 and (message.is_deleted, message.deleted_by) == (False, None)
    assert ChatMessage.objects.count() == 1
