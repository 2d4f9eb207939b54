"""Every room action against every role, over the real consumer and Redis fan-out.

Allowed: the broadcast arrives and exactly the expected part of the database changed. Refused: an
`error` event with code `forbidden` arrives first, and nothing in the database changed. The matrix is
generated from RULES, and `test_every_consumer_action_has_a_rule` fails when the consumer gains an
action nobody wrote a rule for.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

import shows.tasks
from orders.models import Order, Reservation
from orders.services import address_save, payment_method_save
from shops.services import shop_member_add
from shows.auctions import bid_place, lot_close, lot_start
from shows.consumers import ShowConsumer
from shows.exceptions import NotAllowed
from shows.models import (
    Bid,
    BlockedWord,
    ChatMessage,
    FlashDeal,
    Giveaway,
    GiveawayEntry,
    Lot,
    PinEvent,
    ShopBan,
    Show,
    ShowMute,
    ShowRole,
)
from shows.services import (
    chat_post,
    deal_start,
    giveaway_enter,
    giveaway_start,
    show_buy_now,
    show_create,
    show_go_live,
    viewer_ban,
    viewer_mute,
)
from tests.shops.factories import UserFactory
from tests.shows.roomkit import ADDRESS, TimerStub, clear_rate_limits, frames, join, next_of

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = ("anonymous", "shopper", "other_shop_staff", "host", "cohost", "moderator", "ops")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
DEAL_PRICE = "19.99"


@pytest.fixture(autouse=True)
def giveaway_timer(monkeypatch):
    stub = TimerStub()
    monkeypatch.setattr(shows.tasks, "giveaway_draw_task", stub)
    return stub


@pytest.fixture(autouse=True)
def _no_rate_limits_from_earlier_runs():
    clear_rate_limits()


@pytest.fixture(autouse=True)
async def _close_sync_thread_connection():
    """Consumers query from asgiref's sync thread; close its connection so the test DB can be dropped."""
    yield
    from django.db import close_old_connections, connections

    await sync_to_async(connections.close_all)()
    close_old_connections()


@dataclass
class Room:
    show: Show
    variant: object
    users: dict
    target: object
    message: ChatMessage | None = None
    deal: FlashDeal | None = None
    giveaway: Giveaway | None = None
    extra: dict = field(default_factory=dict)


@pytest.fixture
def room(shop, other_shop, variant, merchant, shopper, other_merchant):
    """A scheduled show of `shop`; a co-host and a moderator; everyone has a saved address."""
    show = show_create(
        shop=shop, title="Friday crate digging", scheduled_start=timezone.now(), products=[variant.product]
    )
    cohost = UserFactory(username="cohost_c", display_name="Cora")
    moderator = UserFactory(username="moderator_m", display_name="Mo")
    ShowRole.objects.create(show=show, user=cohost, role=ShowRole.Role.COHOST)
    ShowRole.objects.create(show=show, user=moderator, role=ShowRole.Role.MODERATOR)
    target = UserFactory(username="target_t", display_name="Troll")
    users = {
        "anonymous": None,
        "shopper": shopper,
        "other_shop_staff": other_merchant,
        "host": merchant,
        "cohost": cohost,
        "moderator": moderator,
        "ops": UserFactory(username="ops_o", display_name="Ops", is_superuser=True),
    }
    for user in [*users.values(), target]:
        if user is not None:
            address_save(user=user, data=ADDRESS)
    return Room(show=show, variant=variant, users=users, target=target)


def _snapshot(room: Room) -> dict:
    show = Show.objects.get(pk=room.show.pk)
    return {
        "show": (show.status, show.pinned_product_id),
        "pins": PinEvent.objects.filter(show=show).count(),
        "chat": sorted(ChatMessage.objects.filter(show=show).values_list("pk", "text", "is_deleted")),
        "deals": sorted(FlashDeal.objects.filter(show=show).values_list("pk", "status")),
        "mutes": sorted(ShowMute.objects.filter(show=show).values_list("user_id", flat=True)),
        "bans": sorted(ShopBan.objects.filter(shop_id=show.shop_id).values_list("user_id", flat=True)),
        "giveaways": sorted(Giveaway.objects.filter(show=show).values_list("pk", "status", "winner_id")),
        "entries": sorted(
            GiveawayEntry.objects.filter(giveaway__show=show).values_list("giveaway_id", "user_id")
        ),
        "orders": Order.objects.filter(show_id=show.pk).count(),
        "lots": sorted(
            Lot.objects.filter(show=show).values_list(
                "pk", "status", "current_price", "leader_id", "bid_count"
            )
        ),
    }


# --- Setups: the state each action needs ---------------------------------------------------------


def _scheduled(room: Room) -> None:
    """The show has not started (go_live needs that)."""


def _live(room: Room) -> None:
    room.show = show_go_live(show=room.show)
    room.message = chat_post(show=room.show, user=room.target, text="buy my mixtape")


def _live_with_deal(room: Room) -> None:
    _live(room)
    room.deal = deal_start(
        show=room.show,
        user=room.users["host"],
        variant_id=room.variant.pk,
        price="9.99",
        units=3,
        per_buyer_limit=1,
        duration_seconds=120,
    )


def _live_with_giveaway(room: Room) -> None:
    _live(room)
    room.giveaway = giveaway_start(
        show=room.show, user=room.users["host"], variant_id=room.variant.pk, duration_seconds=60
    )


def _live_with_giveaway_entrant(room: Room) -> None:
    _live_with_giveaway(room)
    giveaway_enter(show=room.show, user=room.target, giveaway_id=room.giveaway.pk)


def _ready_to_bid(room: Room) -> None:
    for user in [*room.users.values(), room.target]:
        if user is not None:
            payment_method_save(user=user, card_number="4242424242424242")


def _live_with_lot(room: Room) -> None:
    _live(room)
    _ready_to_bid(room)
    room.extra["lot"] = lot_start(
        show=room.show, user=room.users["host"], variant_id=room.variant.pk, starting_price="10.00"
    )


def _live_with_due_lot(room: Room) -> None:
    _live_with_lot(room)
    Lot.objects.filter(pk=room.extra["lot"].pk).update(ends_at=timezone.now() - timezone.timedelta(seconds=1))


def _live_with_unpaid_lot(room: Room) -> None:
    """A lot won by someone whose saved card declines the charge."""
    _live_with_lot(room)
    lot = room.extra["lot"]
    payment_method_save(user=room.target, card_number="4000000000000341")
    bid_place(show=room.show, user=room.target, lot_id=lot.pk, amount="10.00")
    Lot.objects.filter(pk=lot.pk).update(ends_at=timezone.now() - timezone.timedelta(seconds=1))
    lot_close(lot_id=lot.pk)
    assert Lot.objects.get(pk=lot.pk).status == Lot.Status.PAYMENT_FAILED


# --- The rules -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    payload: Callable[[Room, str], dict]
    allowed: frozenset
    event: str  # what arrives when it is allowed
    changes: frozenset  # which parts of the snapshot an allowed action changes
    check: Callable[[dict, Room, str], None]  # the event and the database after an allowed action
    setup: Callable[[Room], None] = _live
    refusal: str = "forbidden"  # the error code a refused role gets


def _check_chat(event, room, role):
    user = room.users[role]
    assert (event["user"], event["text"]) == (user.public_name, f"hello from {role}")
    saved = ChatMessage.objects.get(pk=event["id"])
    assert (saved.user_id, saved.text, saved.is_deleted) == (user.pk, f"hello from {role}", False)


def _check_reaction(event, room, role):
    assert event["kind"] == "fire" and event["count"] >= 1


def _check_pin(event, room, role):
    assert event["product"]["id"] == room.variant.product_id
    assert event["product"]["price"] == "31.50"
    assert Show.objects.get(pk=room.show.pk).pinned_product_id == room.variant.product_id
    assert PinEvent.objects.get(show=room.show).product_id == room.variant.product_id


def _check_status(expected):
    def check(event, room, role):
        assert event["status"] == expected
        assert Show.objects.get(pk=room.show.pk).status == expected

    return check


def _check_deal_started(event, room, role):
    deal = FlashDeal.objects.get(show=room.show, status=FlashDeal.Status.ACTIVE)
    assert event["deal"]["id"] == deal.pk
    assert (event["deal"]["variant_id"], event["deal"]["price"], event["deal"]["units_left"]) == (
        room.variant.pk,
        DEAL_PRICE,
        4,
    )
    assert (deal.units_total, deal.per_buyer_limit, str(deal.price)) == (4, 2, DEAL_PRICE)


def _check_deal_ended(event, room, role):
    assert event["deal"] is None and event["ended"] == room.deal.pk
    assert FlashDeal.objects.get(pk=room.deal.pk).status == FlashDeal.Status.ENDED


def _check_deleted(event, room, role):
    assert (event["op"], event["message_id"]) == ("delete", room.message.pk)
    message = ChatMessage.objects.get(pk=room.message.pk)
    assert message.is_deleted and message.deleted_by_id == room.users[role].pk


def _check_muted(event, room, role):
    assert (event["op"], event["user_id"], event["user"]) == ("mute", room.target.pk, "Troll")
    assert ShowMute.objects.get(show=room.show).user_id == room.target.pk


def _check_banned(event, room, role):
    assert (event["op"], event["user_id"], event["message_ids"]) == ("ban", room.target.pk, [room.message.pk])
    ban = ShopBan.objects.get(shop_id=room.show.shop_id)
    assert (ban.user_id, ban.banned_by_id, ban.reason) == (room.target.pk, room.users[role].pk, "spam")
    assert ChatMessage.objects.get(pk=room.message.pk).is_deleted


def _check_giveaway_started(event, room, role):
    giveaway = Giveaway.objects.get(show=room.show)
    assert event["giveaway"]["id"] == giveaway.pk
    assert (event["giveaway"]["status"], event["giveaway"]["entries"]) == ("open", 0)
    assert (giveaway.variant_id, giveaway.created_by_id) == (room.variant.pk, room.users[role].pk)


def _check_entered(event, room, role):
    assert event["giveaway_id"] == room.giveaway.pk
    assert GiveawayEntry.objects.filter(giveaway=room.giveaway, user=room.users[role]).count() == 1


def _check_lot_started(event, room, role):
    lot = Lot.objects.get(show=room.show)
    assert (event["lot"]["id"], event["lot"]["status"], lot.status) == (lot.pk, "open", Lot.Status.OPEN)
    assert Show.objects.get(pk=room.show.pk).pinned_product_id == room.variant.product_id


def _check_bid(event, room, role):
    lot = Lot.objects.get(pk=room.extra["lot"].pk)
    bid = Bid.objects.get(lot=lot)
    assert (bid.user_id, bid.amount, lot.leader_id) == (
        room.users[role].pk,
        lot.starting_price,
        room.users[role].pk,
    )
    assert (event["lot"]["current_price"], event["lot"]["leader"]) == ("10.00", room.users[role].public_name)


def _check_lot_unsold(event, room, role):
    assert (event["lot"]["status"], Lot.objects.get(pk=room.extra["lot"].pk).status) == ("unsold", "unsold")


def _check_lot_released(event, room, role):
    assert (event["lot"]["status"], Lot.objects.get(pk=room.extra["lot"].pk).status) == (
        "released",
        "released",
    )


def _check_drawn(event, room, role):
    giveaway = Giveaway.objects.get(pk=room.giveaway.pk)
    assert (event["giveaway"]["status"], event["giveaway"]["winner"]) == ("drawn", "Troll")
    assert (giveaway.status, giveaway.winner_id) == (Giveaway.Status.DRAWN, room.target.pk)
    prize = Order.objects.get(pk=giveaway.prize_order_id)
    assert (prize.user_id, prize.show_id, prize.total) == (room.target.pk, room.show.pk, 0)


# Ops (a superuser) holds every right in every show (shows.permissions.show_rights), but may not bid.
HOSTS = frozenset({"host", "cohost", "ops"})
MODERATORS = frozenset({"host", "cohost", "moderator", "ops"})
HOST_ONLY = frozenset({"host", "ops"})

RULES: dict[str, Rule] = {
    "chat": Rule(
        payload=lambda room, role: {"action": "chat", "text": f"hello from {role}"},
        allowed=SIGNED_IN,
        event="chat",
        changes=frozenset({"chat"}),
        check=_check_chat,
    ),
    "react": Rule(
        payload=lambda room, role: {"action": "react", "kind": "fire"},
        allowed=SIGNED_IN,
        event="reaction",
        changes=frozenset(),  # reactions are not stored
        check=_check_reaction,
    ),
    "pin": Rule(
        payload=lambda room, role: {"action": "pin", "product_id": room.variant.product_id},
        allowed=HOSTS,
        event="pinned",
        changes=frozenset({"show", "pins"}),
        check=_check_pin,
    ),
    "go_live": Rule(
        payload=lambda room, role: {"action": "go_live"},
        allowed=HOST_ONLY,
        event="status",
        changes=frozenset({"show"}),
        check=_check_status("live"),
        setup=_scheduled,
    ),
    "end": Rule(
        payload=lambda room, role: {"action": "end"},
        allowed=HOST_ONLY,
        event="status",
        changes=frozenset({"show"}),
        check=_check_status("ended"),
    ),
    "deal_start": Rule(
        payload=lambda room, role: {
            "action": "deal_start",
            "variant_id": room.variant.pk,
            "price": DEAL_PRICE,
            "units": 4,
            "per_buyer_limit": 2,
            "duration_seconds": 60,
        },
        allowed=HOSTS,
        event="deal",
        changes=frozenset({"deals"}),
        check=_check_deal_started,
    ),
    "deal_end": Rule(
        payload=lambda room, role: {"action": "deal_end"},
        allowed=HOSTS,
        event="deal",
        changes=frozenset({"deals"}),
        check=_check_deal_ended,
        setup=_live_with_deal,
    ),
    "moderate:delete": Rule(
        payload=lambda room, role: {"action": "moderate", "op": "delete", "message_id": room.message.pk},
        allowed=MODERATORS,
        event="moderation",
        changes=frozenset({"chat"}),
        check=_check_deleted,
    ),
    "moderate:mute": Rule(
        payload=lambda room, role: {"action": "moderate", "op": "mute", "user_id": room.target.pk},
        allowed=MODERATORS,
        event="moderation",
        changes=frozenset({"mutes"}),
        check=_check_muted,
    ),
    "moderate:ban": Rule(
        payload=lambda room, role: {
            "action": "moderate",
            "op": "ban",
            "user_id": room.target.pk,
            "reason": "spam",
        },
        allowed=MODERATORS,
        event="moderation",
        changes=frozenset({"bans", "chat"}),
        check=_check_banned,
    ),
    "giveaway_start": Rule(
        payload=lambda room, role: {
            "action": "giveaway_start",
            "variant_id": room.variant.pk,
            "duration_seconds": 60,
        },
        allowed=HOSTS,
        event="giveaway",
        changes=frozenset({"giveaways"}),
        check=_check_giveaway_started,
    ),
    "giveaway_enter": Rule(
        payload=lambda room, role: {"action": "giveaway_enter", "giveaway_id": room.giveaway.pk},
        allowed=SIGNED_IN,
        event="giveaway_entered",
        changes=frozenset({"entries"}),
        check=_check_entered,
        setup=_live_with_giveaway,
    ),
    "giveaway_draw": Rule(
        payload=lambda room, role: {"action": "giveaway_draw", "giveaway_id": room.giveaway.pk},
        allowed=HOSTS,
        event="giveaway",
        changes=frozenset({"giveaways", "orders"}),
        check=_check_drawn,
        setup=_live_with_giveaway_entrant,
    ),
    "lot_start": Rule(
        payload=lambda room, role: {
            "action": "lot_start",
            "variant_id": room.variant.pk,
            "starting_price": "10.00",
            "increment": "1.00",
            "duration_seconds": 30,
            "mode": "extend",
        },
        allowed=HOSTS,
        event="lot",
        changes=frozenset({"lots", "show", "pins"}),
        check=_check_lot_started,
    ),
    "bid": Rule(
        payload=lambda room, role: {"action": "bid", "lot_id": room.extra["lot"].pk, "amount": "10.00"},
        allowed=frozenset({"shopper", "other_shop_staff"}),  # never the seller's own team
        event="bid",
        changes=frozenset({"lots"}),
        check=_check_bid,
        setup=_live_with_lot,
        refusal="bid_not_allowed",
    ),
    "lot_sync": Rule(
        payload=lambda room, role: {"action": "lot_sync", "lot_id": room.extra["lot"].pk},
        allowed=frozenset(ROLES),  # closes a lot only when it is due, so anyone may ask
        event="lot",
        changes=frozenset({"lots"}),
        check=_check_lot_unsold,
        setup=_live_with_due_lot,
    ),
    "lot_after_payment": Rule(
        payload=lambda room, role: {
            "action": "lot_after_payment",
            "lot_id": room.extra["lot"].pk,
            "op": "release",
        },
        allowed=HOSTS,
        event="lot",
        changes=frozenset({"lots"}),
        check=_check_lot_released,
        setup=_live_with_unpaid_lot,
    ),
}


def test_every_consumer_action_has_a_rule():
    actions = {name.removeprefix("action_") for name in dir(ShowConsumer) if name.startswith("action_")}
    assert actions == {name.split(":")[0] for name in RULES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(RULES))
async def test_room_action_is_allowed_or_refused_by_role(room, action, role):
    rule = RULES[action]
    await sync_to_async(rule.setup)(room)
    before = await sync_to_async(_snapshot)(room)
    user = room.users[role]
    communicator, _ = await join(room.show, user, giveaway=room.giveaway is not None)
    try:
        await communicator.send_json_to(rule.payload(room, role))
        event = await next_of(communicator, {"error", rule.event})
    finally:
        await communicator.disconnect()
    after = await sync_to_async(_snapshot)(room)
    if role in rule.allowed:
        assert event["type"] == rule.event, f"{role} was refused {action}: {event}"
        changed = {key for key in before if before[key] != after[key]}
        assert changed == rule.changes
        await sync_to_async(rule.check)(event, room, role)
    else:
        assert (event["type"], event["code"]) == ("error", rule.refusal), f"{role} could {action}: {event}"
        assert event["message"]
        assert after == before


# --- Chat ----------------------------------------------------------------------------------------


@pytest.fixture
def live(room):
    _live(room)
    return room


async def test_chat_text_with_a_script_tag_arrives_as_the_same_text(live):
    speaker, _ = await join(live.show, live.users["shopper"])
    listener, _ = await join(live.show)
    text = "<script>alert('x')</script> & <b>bold</b>"
    try:
        await speaker.send_json_to({"action": "chat", "text": text})
        received = await next_of(listener, "chat")
    finally:
        await speaker.disconnect()
        await listener.disconnect()
    assert received["text"] == text
    assert await sync_to_async(ChatMessage.objects.filter(pk=received["id"], text=text).exists)()


async def test_sixth_chat_message_within_ten_seconds_is_rate_limited(live, settings):
    settings.LIVEMARKET_CHAT_RATE = (5, 10)
    shopper = live.users["shopper"]
    speaker, _ = await join(live.show, shopper)
    try:
        for n in range(5):
            await speaker.send_json_to({"action": "chat", "text": f"message {n}"})
            event = await next_of(speaker, {"chat", "error"})
            assert (event["type"], event["text"]) == ("chat", f"message {n}")
        await speaker.send_json_to({"action": "chat", "text": "message 5"})
        refused = await next_of(speaker, {"chat", "error"})
    finally:
        await speaker.disconnect()
    assert (refused["type"], refused["code"]) == ("error", "rate_limited")
    texts = await sync_to_async(list)(
        ChatMessage.objects.filter(show=live.show, user=shopper).values_list("text", flat=True)
    )
    assert texts == [f"message {n}" for n in range(5)]


async def test_a_blocked_word_is_refused_and_not_saved(live, shop):
    await sync_to_async(BlockedWord.objects.create)(shop=shop, word="scam")
    speaker, _ = await join(live.show, live.users["shopper"])
    before = await sync_to_async(_snapshot)(live)
    try:
        await speaker.send_json_to({"action": "chat", "text": "this is a SCAM, folks"})
        refused = await next_of(speaker, {"chat", "error"})
        await speaker.send_json_to({"action": "chat", "text": "scampi for dinner"})  # a longer word is fine
        allowed = await next_of(speaker, {"chat", "error"})
    finally:
        await speaker.disconnect()
    assert (refused["type"], refused["code"]) == ("error", "invalid")
    assert (allowed["type"], allowed["text"]) == ("chat", "scampi for dinner")
    after = await sync_to_async(_snapshot)(live)
    assert [m[1] for m in after["chat"]] == [m[1] for m in before["chat"]] + ["scampi for dinner"]


async def test_a_muted_viewer_cannot_chat(live):
    await sync_to_async(viewer_mute)(show=live.show, user=live.users["moderator"], target_id=live.target.pk)
    speaker, _ = await join(live.show, live.target)
    try:
        await speaker.send_json_to({"action": "chat", "text": "let me talk"})
        refused = await next_of(speaker, {"chat", "error"})
    finally:
        await speaker.disconnect()
    assert (refused["type"], refused["code"]) == ("error", "forbidden")
    assert not await sync_to_async(ChatMessage.objects.filter(text="let me talk").exists)()


async def test_a_banned_viewer_cannot_chat_react_or_buy(live, client):
    target = live.target
    await sync_to_async(viewer_ban)(show=live.show, user=live.users["host"], target_id=target.pk)
    viewer, _ = await join(live.show, target)
    try:
        await viewer.send_json_to({"action": "chat", "text": "still here"})
        chat = await next_of(viewer, {"chat", "error"})
        await viewer.send_json_to({"action": "react", "kind": "heart"})
        reaction = await next_of(viewer, {"reaction", "error"})
    finally:
        await viewer.disconnect()
    assert (chat["type"], chat["code"]) == ("error", "forbidden")
    assert (reaction["type"], reaction["code"]) == ("error", "forbidden")

    with pytest.raises(NotAllowed):
        await sync_to_async(show_buy_now)(show=live.show, user=target, variant_id=live.variant.pk)
    await sync_to_async(client.force_login)(target)
    response = await sync_to_async(client.post)(
        f"/shows/{live.show.pk}/buy/", {"variant_id": live.variant.pk}
    )
    assert response.status_code == 403
    assert not await sync_to_async(Reservation.objects.filter(user=target).exists)()
    assert not await sync_to_async(ChatMessage.objects.filter(text="still here").exists)()


@pytest.mark.parametrize("op", ["mute", "ban"])
async def test_moderators_cannot_mute_or_ban_the_shops_staff(live, shop, op):
    staff = await sync_to_async(UserFactory)(username="staffer_s")
    await sync_to_async(shop_member_add)(shop=shop, user=staff)
    moderator, _ = await join(live.show, live.users["moderator"])
    cohost, _ = await join(live.show, live.users["cohost"])
    before = await sync_to_async(_snapshot)(live)
    outcomes = []
    try:
        for actor in (moderator, cohost):
            for victim in (live.users["host"], staff):
                await actor.send_json_to({"action": "moderate", "op": op, "user_id": victim.pk})
                outcomes.append(await next_of(actor, {"moderation", "error"}))
    finally:
        await moderator.disconnect()
        await cohost.disconnect()
    assert [(e["type"], e.get("code")) for e in outcomes] == [("error", "forbidden")] * 4
    assert await sync_to_async(_snapshot)(live) == before


async def test_a_deleted_message_is_gone_from_a_new_viewers_history(live):
    kept = await sync_to_async(chat_post)(show=live.show, user=live.users["shopper"], text="nice record")
    host, _ = await join(live.show, live.users["host"])
    try:
        await host.send_json_to({"action": "moderate", "op": "delete", "message_id": live.message.pk})
        deleted = await next_of(host, {"moderation", "error"})
    finally:
        await host.disconnect()
    assert deleted == {"type": "moderation", "op": "delete", "message_id": live.message.pk}
    newcomer, history = await join(live.show)
    await newcomer.disconnect()
    chat_ids = [e["id"] for e in history if e["type"] == "chat"]
    assert chat_ids == [kept.pk]


async def test_a_burst_of_reactions_arrives_coalesced(live):
    reactor, _ = await join(live.show, live.users["shopper"])
    listener, _ = await join(live.show)
    reactions = []
    try:
        for _ in range(10):
            await reactor.send_json_to({"action": "react", "kind": "heart"})
        coalesced = False
        while sum(r["count"] for r in reactions) < 10:
            message = await listener.receive_json_from(timeout=10)
            events = [e for e in frames(message) if e["type"] == "reaction"]
            coalesced = coalesced or message["type"] == "batch" or any(e["count"] > 1 for e in events)
            reactions.extend(events)
    finally:
        await reactor.disconnect()
        await listener.disconnect()
    assert sum(r["count"] for r in reactions) == 10 and {r["kind"] for r in reactions} == {"heart"}
    assert coalesced and len(reactions) < 10


# --- Unknown actions and malformed payloads --------------------------------------------------------


async def _still_serves(communicator) -> None:
    await communicator.send_json_to({"action": "react", "kind": "wow"})
    event = await next_of(communicator, {"reaction", "error"})
    assert (event["type"], event["kind"]) == ("reaction", "wow")


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "teleport"},
        {"action": "bid_"},
        {"action": 5},
        {"action": None},
        {"action": ["chat"]},
        {},
        [1, 2],
        "chat",
        42,
        None,
    ],
    ids=repr,
)
async def test_unknown_actions_get_an_unknown_action_error(live, payload):
    host, _ = await join(live.show, live.users["host"])
    before = await sync_to_async(_snapshot)(live)
    try:
        await host.send_json_to(payload)
        event = await next_of(host, "error")
        await _still_serves(host)
    finally:
        await host.disconnect()
    assert event["code"] == "unknown_action"
    assert await sync_to_async(_snapshot)(live) == before


def _deal(**overrides):
    payload = {
        "action": "deal_start",
        "variant_id": None,
        "price": "9.99",
        "units": 3,
        "duration_seconds": 60,
    }
    return payload | overrides


MALFORMED = {
    "chat text is a number": ({"action": "chat", "text": 5}, "invalid"),
    "chat text is missing": ({"action": "chat"}, "invalid"),
    "chat text is blank": ({"action": "chat", "text": "   "}, "invalid"),
    "chat text is too long": ({"action": "chat", "text": "x" * 501}, "invalid"),
    "reaction kind is unknown": ({"action": "react", "kind": "poop"}, "invalid"),
    "reaction kind is a list": ({"action": "react", "kind": ["heart"]}, "invalid"),
    "reaction kind is an object": ({"action": "react", "kind": {"heart": 1}}, "invalid"),
    "pin product_id is a string": ({"action": "pin", "product_id": "7"}, "invalid"),
    "pin product_id is a boolean": ({"action": "pin", "product_id": True}, "invalid"),
    "pin product_id is unknown": ({"action": "pin", "product_id": 987654321}, "invalid"),
    "deal variant_id is a string": (_deal(variant_id="1"), "invalid"),
    "deal price is text": (_deal(price="cheap"), "invalid"),
    "deal price is NaN": (_deal(price="NaN"), "invalid"),
    "deal price is negative": (_deal(price="-1"), "invalid"),
    "deal price is too large to store": (_deal(price="99999999999"), "invalid"),
    "deal units are zero": (_deal(units=0), "invalid"),
    "deal units are a string": (_deal(units="3"), "invalid"),
    "deal duration is too short": (_deal(duration_seconds=5), "invalid"),
    "moderate op is unknown": ({"action": "moderate", "op": "explode"}, "invalid"),
    "moderate op is missing": ({"action": "moderate"}, "invalid"),
    "delete message_id is text": ({"action": "moderate", "op": "delete", "message_id": "abc"}, "invalid"),
    "delete message_id is a list": ({"action": "moderate", "op": "delete", "message_id": [1]}, "invalid"),
    "delete message_id is unknown": (
        {"action": "moderate", "op": "delete", "message_id": 987654321},
        "invalid",
    ),
    "mute user_id is a string": ({"action": "moderate", "op": "mute", "user_id": "3"}, "invalid"),
    "ban user_id is unknown": ({"action": "moderate", "op": "ban", "user_id": 987654321}, "invalid"),
    "giveaway variant_id is a string": ({"action": "giveaway_start", "variant_id": "x"}, "invalid"),
    "giveaway duration is a string": (
        {"action": "giveaway_start", "variant_id": None, "duration_seconds": "60"},
        "invalid",
    ),
    "giveaway_enter id is a string": ({"action": "giveaway_enter", "giveaway_id": "1"}, "giveaway"),
    "giveaway_draw id is a string": ({"action": "giveaway_draw", "giveaway_id": "1"}, "invalid"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_payloads_get_an_error_and_change_nothing(live, case):
    payload, code = MALFORMED[case]
    for key in ("variant_id",):
        if key in payload and payload[key] is None:
            payload = payload | {key: live.variant.pk}
    host, _ = await join(live.show, live.users["host"])
    before = await sync_to_async(_snapshot)(live)
    try:
        await host.send_json_to(payload)
        event = await next_of(host, "error")
        await _still_serves(host)
    finally:
        await host.disconnect()
    assert event["code"] == code
    assert await sync_to_async(_snapshot)(live) == before


@pytest.mark.parametrize(
    "frame", [{"text_data": "{not json"}, {"bytes_data": b"\x00\x01"}], ids=["bad-json", "binary"]
)
async def test_a_frame_that_is_not_json_gets_an_invalid_error_and_the_socket_stays_open(live, frame):
    host, _ = await join(live.show, live.users["host"])
    try:
        await host.send_to(**frame)
        event = await next_of(host, "error")
        await _still_serves(host)
    finally:
        await host.disconnect()
    assert event["code"] == "invalid"
