"""The auction flow end to end in `seed_demo`'s live show, over the real room socket and Redis fan-out:
the host starts a lot, the demo shopper and bidder bid (one with a maximum), every viewer sees each
bid, the clock runs out, a viewer's `lot_sync` closes it, and the winner gets a paid order."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Stock
from orders.models import Order, Payment
from shops.models import User
from shows.models import Bid, Lot, Show
from shows.selectors import show_lineup_variants
from tests.shows.roomkit import clear_rate_limits, join, next_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
async def _close_sync_thread_connection():
    yield
    from django.db import close_old_connections, connections

    await sync_to_async(connections.close_all)()
    close_old_connections()


def _demo():
    call_command("seed_demo", stdout=StringIO())
    clear_rate_limits()
    show = Show.objects.get(status=Show.Status.LIVE, shop__slug="vinyl-vault")
    variant = next(v for v in show_lineup_variants(show=show) if v.stock.available >= 1)
    people = {name: User.objects.get(username=name) for name in ("merchant", "shopper", "bidder")}
    return show, variant, people


async def test_auction_plays_end_to_end_in_the_demo_live_show():
    show, variant, people = await sync_to_async(_demo)()
    host, _ = await join(show, people["merchant"])
    shopper, _ = await join(show, people["shopper"])
    bidder, _ = await join(show, people["bidder"])
    try:
        await host.send_json_to(
            {
                "action": "lot_start",
                "variant_id": variant.pk,
                "starting_price": "5.00",
                "increment": "1.00",
                "duration_seconds": 30,
                "mode": "extend",
                "extend_seconds": 10,
            }
        )
        started = await next_of(shopper, "lot")
        lot_id = started["lot"]["id"]
        assert (started["lot"]["status"], started["lot"]["next_minimum"]) == ("open", "5.00")
        pinned = await sync_to_async(lambda: Show.objects.get(pk=show.pk).pinned_product_id)()
        assert pinned == variant.product_id  # starting a lot pins its product

        await shopper.send_json_to({"action": "bid", "lot_id": lot_id, "amount": "5.00"})
        assert (await next_of(shopper, "bid_placed"))["leading"] is True
        seen = await next_of(bidder, "bid")
        assert (seen["lot"]["current_price"], seen["lot"]["leader"]) == ("5.00", "Sam Shopper")

        await bidder.send_json_to(
            {"action": "bid", "lot_id": lot_id, "amount": "6.00", "max_amount": "20.00"}
        )
        assert (await next_of(bidder, "bid_placed"))["leading"] is True
        await shopper.send_json_to({"action": "bid", "lot_id": lot_id, "amount": "10.00"})
        placed = await next_of(shopper, "bid_placed")
        assert (placed["leading"], placed["price"]) == (False, "11.00")  # the bidder's maximum answered

        await host.send_json_to({"action": "bid", "lot_id": lot_id, "amount": "50.00"})
        refused = await next_of(host, "error")
        assert refused["code"] == "bid_not_allowed"
        await shopper.send_json_to({"action": "bid", "lot_id": lot_id, "amount": "11.00"})
        assert (await next_of(shopper, "error"))["code"] == "bid_too_low"

        # The clock runs out; the first viewer whose clock reaches zero asks the server to close it.
        await sync_to_async(Lot.objects.filter(pk=lot_id).update)(
            ends_at=timezone.now() - timedelta(seconds=1)
        )
        await shopper.send_json_to({"action": "lot_sync", "lot_id": lot_id})
        closed = await next_of(bidder, "lot")
        assert (closed["lot"]["winner"], closed["lot"]["winning_price"]) == ("Bea Bidder", "11.00")
        won = await next_of(bidder, "lot_won")
        assert won["order"]
    finally:
        for communicator in (host, shopper, bidder):
            await communicator.disconnect()

    def _settled():
        lot = Lot.objects.get(pk=lot_id)
        order = Order.objects.get(pk=lot.order_id)
        return (
            lot.status,
            order.user.username,
            order.subtotal,
            order.payments.get().status,
            Bid.objects.filter(lot=lot).count(),
            Stock.objects.get(variant=variant).allocated >= 1,
        )

    status, username, subtotal, payment, bids, held = await sync_to_async(_settled)()
    assert (status, username, subtotal, payment, held) == (
        Lot.Status.PAID,
        "bidder",
        Decimal("11.00"),
        Payment.Status.CAPTURED,
        True,
    )
    assert bids == 4  # shopper 5, bidder 6 (max 20), shopper 10, bidder's automatic 11
