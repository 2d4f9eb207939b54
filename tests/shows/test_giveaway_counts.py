"""Issue 18, B3: every viewer and the host see the giveaway's true entry count as people enter (two
entered; each viewer saw "1 entry" and the host 0)."""

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from orders.services import address_save
from shows.services import giveaway_start, show_create, show_go_live
from tests.orders.test_services_checkout import ADDRESS
from tests.shops.factories import UserFactory
from tests.shows.roomkit import join, next_of

pytestmark = pytest.mark.django_db(transaction=True)


def _entrant(name):
    user = UserFactory(username=name)
    address_save(user=user, data=ADDRESS)
    return user


async def test_host_and_every_viewer_see_each_entry_counted(shop, merchant, variant):
    show = await sync_to_async(
        lambda: show_go_live(
            show=show_create(
                shop=shop, title="Prize", scheduled_start=timezone.now(), products=[variant.product]
            )
        )
    )()
    giveaway = await sync_to_async(giveaway_start)(
        show=show, user=merchant, variant_id=variant.pk, duration_seconds=60
    )
    ann, bob = await sync_to_async(_entrant)("ann"), await sync_to_async(_entrant)("bob")
    host, _ = await join(show, merchant, giveaway=True)
    ann_socket, _ = await join(show, ann, giveaway=True)
    bob_socket, _ = await join(show, bob, giveaway=True)
    try:
        for expected, entrant in ((1, ann_socket), (2, bob_socket)):
            await entrant.send_json_to({"action": "giveaway_enter", "giveaway_id": giveaway.pk})
            for socket in (host, ann_socket, bob_socket):
                event = await next_of(socket, {"giveaway"})
                assert event["giveaway"]["entries"] == expected
    finally:
        for socket in (host, ann_socket, bob_socket):
            await socket.disconnect()
