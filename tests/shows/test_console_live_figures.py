"""The host's live figures: peak viewers while the show is live, and the console's sales card pushed
over the socket to the show's team (never to viewers) once an order of the show is paid."""

import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from orders.models import Order
from shows import presence
from shows.services import show_buy_one_tap
from tests.shows.roomkit import frames, join, next_of
from tests.shows.test_auctions import make_bidder

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_sync_thread_connection():
    """Consumers query from asgiref's sync thread; close its connection so the test DB can be dropped."""
    yield
    from django.db import close_old_connections, connections

    await sync_to_async(connections.close_all)()
    close_old_connections()


def test_the_shows_admin_list_shows_the_live_peak_while_the_show_is_live(client, merchant, pinned_live_show):
    async_to_sync(presence.peak_record)(pinned_live_show.pk, 7)
    client.force_login(merchant)
    response = client.get("/admin/shows/show/")
    assert response.status_code == 200
    assert '<td class="field-peak">7</td>' in response.content.decode()


def _buy(show, variant) -> Order:
    buyer = make_bidder("tapper")
    order = show_buy_one_tap(show=show, user=buyer, variant_id=variant.pk, checkout_key=uuid.uuid4())
    order.refresh_from_db()
    return order


async def _types_until_quiet(communicator) -> list[dict]:
    seen = []
    while not await communicator.receive_nothing(timeout=1):
        seen.extend(frames(await communicator.receive_json_from(timeout=5)))
    return seen


async def test_a_paid_order_pushes_the_sales_card_to_the_host_and_not_to_viewers(
    pinned_live_show, variant, merchant, shopper
):
    host, _ = await join(pinned_live_show, merchant)
    viewer, _ = await join(pinned_live_show, shopper)
    anonymous, _ = await join(pinned_live_show)
    try:
        order = await sync_to_async(_buy)(pinned_live_show, variant)
        assert order.paid_at is not None  # paid (and packed at once: eager Celery in tests)
        sales = await next_of(host, "sales")
        seen = await _types_until_quiet(viewer) + await _types_until_quiet(anonymous)
    finally:
        for communicator in (host, viewer, anonymous):
            await communicator.disconnect()
    assert sales == {
        "type": "sales",
        "show_id": pinned_live_show.pk,
        "orders": 1,
        "units": 1,
        "sales": str(order.total),
        "currency": pinned_live_show.shop.currency,
    }
    assert any(e["type"] == "stock" for e in seen)  # the viewers heard the sale, just not its figures
    assert not [e for e in seen if e["type"] == "sales" or "sales" in e]
