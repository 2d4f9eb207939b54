"""The show page (reminders, replay chapters, moderator hooks) and who may open the host console."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from shows.models import Show, ShowReminder
from shows.services import show_create, show_end, show_go_live, show_pin_product, show_stream_key_rotate
from tests.catalog.factories import ProductFactory, VariantFactory


@pytest.fixture
def scheduled_show(shop, variant):
    return show_create(
        shop=shop,
        title="Sunday digging",
        scheduled_start=timezone.now() + timedelta(days=1),
        products=[variant.product],
    )


@pytest.fixture
def live_show(shop, variant):
    return show_go_live(
        show=show_create(
            shop=shop, title="Crates", scheduled_start=timezone.now(), products=[variant.product]
        )
    )


@pytest.mark.django_db
def test_scheduled_show_offers_remind_me_and_post_toggles_it(client, shopper, scheduled_show):
    client.force_login(shopper)
    page = client.get(scheduled_show.get_absolute_url()).content.decode()
    assert "Remind me" in page and f'action="/shows/{scheduled_show.pk}/remind/"' in page

    response = client.post(f"/shows/{scheduled_show.pk}/remind/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Reminder set" in response.content.decode()
    assert ShowReminder.objects.filter(show=scheduled_show, user=shopper).exists()
    assert "Reminder set" in client.get(scheduled_show.get_absolute_url()).content.decode()

    response = client.post(f"/shows/{scheduled_show.pk}/remind/")
    assert response.status_code == 302
    assert not ShowReminder.objects.filter(show=scheduled_show, user=shopper).exists()


@pytest.mark.django_db
def test_scheduled_show_sends_visitors_to_log_in_before_reminding(client, scheduled_show):
    page = client.get(scheduled_show.get_absolute_url()).content.decode()
    assert "Remind me" in page and "/accounts/login/?next=" in page
    assert 'data-can-moderate="false"' in page and 'data-user-id=""' in page


@pytest.mark.django_db
def test_live_show_has_no_remind_button(client, shopper, live_show):
    client.force_login(shopper)
    assert "Remind me" not in client.get(live_show.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_host_console_is_404_for_a_shopper_and_another_shops_merchant(
    client, shopper, other_shop, other_merchant, live_show
):
    client.force_login(shopper)
    assert client.get(f"/shows/{live_show.pk}/host/").status_code == 404
    client.force_login(other_merchant)
    assert client.get(f"/shows/{live_show.pk}/host/").status_code == 404


@pytest.mark.django_db
def test_host_console_is_200_for_the_owner_with_stream_key_hint_and_controls(client, merchant, live_show):
    key = show_stream_key_rotate(show=live_show)
    client.force_login(merchant)
    response = client.get(f"/shows/{live_show.pk}/host/")
    assert response.status_code == 200
    page = response.content.decode()
    assert key not in page  # shown once, when made (tests/security/test_secrets.py)
    assert f"…{key[-4:]}" in page and "Make a new stream key" in page
    for hook in (
        'data-host="go_live"',
        'data-host="end"',
        "data-deal-form",
        "data-giveaway-form",
        "data-pin=",
    ):
        assert hook in page
    assert "js/host-console.js" in page


@pytest.mark.django_db
def test_show_page_links_the_host_console_and_moderation_only_for_the_shop(
    client, merchant, shopper, live_show
):
    client.force_login(merchant)
    page = client.get(live_show.get_absolute_url()).content.decode()
    assert f'href="/shows/{live_show.pk}/host/"' in page and 'data-can-moderate="true"' in page
    client.force_login(shopper)
    page = client.get(live_show.get_absolute_url()).content.decode()
    assert "/host/" not in page and 'data-can-moderate="false"' in page
    assert f'data-user-id="{shopper.pk}"' in page


@pytest.mark.django_db
def test_ended_show_with_replay_lists_chapters_with_offsets(client, shop, merchant, live_show, variant):
    second = ProductFactory(shop=shop, title="Kind of Blue <LP>")
    VariantFactory(product=second, sku="KOB", name="Mono", price="25.00", on_hand=2)
    started = live_show.started_at
    with mock.patch("shows.services.timezone.now", return_value=started + timedelta(seconds=75)):
        show_pin_product(show=live_show, user=merchant, product_id=variant.product_id)
    with mock.patch("shows.services.timezone.now", return_value=started + timedelta(seconds=3725)):
        show_pin_product(show=live_show, user=merchant, product_id=second.pk)
    show_end(show=live_show, user=merchant)
    Show.objects.filter(pk=live_show.pk).update(replay_url="https://media.example.test/replay/crates.m3u8")

    page = client.get(live_show.get_absolute_url()).content.decode()

    assert 'data-replay-src="https://media.example.test/replay/crates.m3u8"' in page
    assert 'href="#t=75" data-seek="75"' in page and "1:15" in page
    assert 'href="#t=3725" data-seek="3725"' in page and "1:02:05" in page
    assert page.index('data-seek="75"') < page.index('data-seek="3725"')
    assert variant.product.get_absolute_url() in page and second.get_absolute_url() in page
    assert "Kind of Blue &lt;LP&gt;" in page and "Kind of Blue <LP>" not in page


@pytest.mark.django_db
def test_ended_show_without_replay_has_no_chapters(client, merchant, live_show, variant):
    show_pin_product(show=live_show, user=merchant, product_id=variant.product_id)
    show_end(show=live_show, user=merchant)
    page = client.get(live_show.get_absolute_url()).content.decode()
    assert "data-seek" not in page and "This show has ended" in page


@pytest.mark.django_db
def test_ended_show_offers_the_product_page_instead_of_buy_now_and_one_tap(
    client, merchant, live_show, variant
):
    """B5: buying in a show that ended answers 409, so the pinned card must not offer it."""
    from orders.services import address_save, payment_method_save
    from tests.orders.test_services_checkout import ADDRESS
    from tests.shops.factories import UserFactory

    buyer = UserFactory()
    address_save(user=buyer, data=ADDRESS)
    payment_method_save(user=buyer, card_number="4242424242424242")  # 1-tap would be offered live
    client.force_login(buyer)
    show_pin_product(show=live_show, user=merchant, product_id=variant.product_id)
    live = client.get(live_show.get_absolute_url()).content.decode()
    assert "Buy now</button>" in live and "1-tap" in live

    show_end(show=live_show, user=merchant)
    ended = client.get(live_show.get_absolute_url()).content.decode()
    assert "Buy now</button>" not in ended and "1-tap ·" not in ended
    assert "data-pinned-shop-link>View product</a>" in ended
    assert variant.product.get_absolute_url() in ended
