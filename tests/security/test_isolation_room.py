"""The live room across tenants: in shop A's room, every action that names an object by id is refused
when the id is shop B's (its product, variant, chat message, giveaway or lot), and B's show is left
exactly as it was. (Who may run which action at all is tests/shows/test_room_actions.py's matrix.)"""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from orders.services import address_save, payment_method_save
from shows.auctions import lot_start
from shows.services import chat_post, giveaway_start, show_create, show_go_live
from tests.shows.roomkit import ADDRESS, join, next_of
from tests.shows.test_room_actions import (  # noqa: F401  (fixtures: the room, the stubbed giveaway timer, ...)
    Room,
    _close_sync_thread_connection,
    _no_rate_limits_from_earlier_runs,
    _snapshot,
    giveaway_timer,
    room,
)

pytestmark = pytest.mark.django_db(transaction=True)

# action -> (who sends it in A's room, its payload naming B's object, the error it gets)
FOREIGN_IDS = {
    "pin": ("host", lambda b: {"product_id": b.variant.product_id}, "invalid"),
    "deal_start": ("host", lambda b: {"variant_id": b.variant.pk, "price": "1.00", "units": 1}, "invalid"),
    "giveaway_start": ("host", lambda b: {"variant_id": b.variant.pk}, "invalid"),
    "lot_start": ("host", lambda b: {"variant_id": b.variant.pk, "starting_price": "1.00"}, "invalid"),
    "moderate": ("host", lambda b: {"op": "delete", "message_id": b.message.pk}, "invalid"),
    "giveaway_draw": ("host", lambda b: {"giveaway_id": b.giveaway.pk}, "invalid"),
    "lot_sync": ("host", lambda b: {"lot_id": b.extra["lot"].pk}, "lot_error"),
    "lot_after_payment": ("host", lambda b: {"lot_id": b.extra["lot"].pk, "op": "release"}, "lot_error"),
    "giveaway_enter": ("shopper", lambda b: {"giveaway_id": b.giveaway.pk}, "giveaway"),
    "bid": ("shopper", lambda b: {"lot_id": b.extra["lot"].pk, "amount": "100.00"}, "lot_closed"),
}


def test_every_action_that_takes_an_id_is_covered():
    from tests.security.isolation import room_actions

    takes_no_id = {"chat", "react", "go_live", "end", "deal_end"}
    assert set(room_actions()) - takes_no_id == set(FOREIGN_IDS)


def _shop_b_live_show(other_shop, other_variant, other_merchant, shopper) -> Room:
    """Shop B's live show with a chat message, an open giveaway and an open lot."""
    show = show_go_live(
        show=show_create(
            shop=other_shop, title="B live", scheduled_start=timezone.now(), products=[other_variant.product]
        )
    )
    b = Room(show=show, variant=other_variant, users={"host": other_merchant}, target=None)
    b.message = chat_post(show=show, user=other_merchant, text="B's own words")
    b.giveaway = giveaway_start(show=show, user=other_merchant, variant_id=other_variant.pk)
    b.extra["lot"] = lot_start(
        show=show, user=other_merchant, variant_id=other_variant.pk, starting_price="5"
    )
    return b


@pytest.mark.parametrize("action", list(FOREIGN_IDS))
async def test_shop_bs_ids_are_refused_in_shop_as_room(
    room,  # noqa: F811
    other_shop,
    other_variant,
    other_merchant,
    action,
):
    sender, payload, code = FOREIGN_IDS[action]
    room.show = await sync_to_async(show_go_live)(show=room.show)
    user = room.users[sender]
    await sync_to_async(address_save)(user=user, data=ADDRESS)
    await sync_to_async(payment_method_save)(user=user, card_number="4242424242424242")
    b = await sync_to_async(_shop_b_live_show)(other_shop, other_variant, other_merchant, user)
    before = await sync_to_async(_snapshot)(b)
    communicator, _ = await join(room.show, user)
    try:
        await communicator.send_json_to({"action": action, **payload(b)})
        event = await next_of(communicator, "error")
    finally:
        await communicator.disconnect()
    assert event["code"] == code, event
    assert await sync_to_async(_snapshot)(b) == before
