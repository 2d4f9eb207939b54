"""The fuzz matrix's room half: every action of the live room with every hostile value of
tests/security/fuzz.py, and the frames themselves. A socket answers `error` and goes on serving, or
closes with 1009 when a frame is over LIVEMARKET_WS_MAX_FRAME (before it is parsed)."""

import pytest
from django.conf import settings

from tests.security import fuzz
from tests.security.isolation import room_actions
from tests.shows.roomkit import join, next_of
from tests.shows.test_room_actions import (  # noqa: F401  (fixtures: a live room, its users, the timer stub)
    _close_sync_thread_connection,
    _no_rate_limits_from_earlier_runs,
    giveaway_timer,
    live,
    room,
)

pytestmark = pytest.mark.django_db(transaction=True)

PROBE = {"action": "no_such_action"}  # answered with `error unknown_action`: no database, no rate limit


async def _still_serves(communicator) -> None:
    await communicator.send_json_to(PROBE)
    for _ in range(80):
        event = await next_of(communicator, "error")
        if event["code"] == "unknown_action":
            return
    raise AssertionError("the socket stopped answering")


def _frame(action: str, kind) -> str:
    fields = fuzz.ROOM_FIELDS if len(kind.json) < 1000 else fuzz.ROOM_FIELDS[:1]
    return "{" + ", ".join([f'"action": "{action}"', *(f'"{f}": {kind.json}' for f in fields)]) + "}"


async def test_every_room_action_with_every_hostile_value_answers_and_keeps_the_socket(live, settings):  # noqa: F811
    settings.LIVEMARKET_CHAT_RATE = (100000, 10)
    actions = sorted(room_actions(), key=lambda a: a == "end")  # ending the show last
    host, _ = await join(live.show, live.users["host"])
    try:
        for action in actions:
            for kind in fuzz.VALUE_KINDS:
                await host.send_to(text_data=_frame(action, kind))
                if kind.name in fuzz.DECODER_REFUSES:
                    event = await next_of(host, "error")
                    assert event["code"] == "invalid", (action, kind.name, event)
                await _still_serves(host)
    finally:
        await host.disconnect()


async def _closed_with(communicator) -> int:
    for _ in range(200):
        message = await communicator.receive_output(timeout=10)
        if message["type"] == "websocket.close":
            return message.get("code")
    raise AssertionError("the socket did not close")


def _oversized(name: str) -> dict:
    limit = settings.LIVEMARKET_WS_MAX_FRAME
    if name == "frame_just_over_the_limit":
        start, end = '{"action": "chat", "text": "', '"}'
        return {"text_data": start + "x" * (limit + 1 - len(start) - len(end)) + end}
    if name == "frame_8_mb":
        return {"text_data": "[" * fuzz.HUGE_BODY}
    return {"bytes_data": b"x" * fuzz.HUGE_BODY}


CLOSING = [name for name, _, expected in fuzz.ROOM_FRAMES if expected == "close 1009"]


@pytest.mark.parametrize("name", CLOSING)
async def test_a_frame_over_the_limit_closes_the_socket_with_1009_unparsed(live, name):  # noqa: F811
    shopper, _ = await join(live.show, live.users["shopper"])
    frame = _oversized(name)
    assert len(next(iter(frame.values()))) > settings.LIVEMARKET_WS_MAX_FRAME
    await shopper.send_to(**frame)
    assert await _closed_with(shopper) == 1009
    await shopper.wait()


async def test_a_chat_with_a_lone_surrogate_or_a_deep_frame_gets_an_error_and_the_socket_stays(live):  # noqa: F811
    shopper, _ = await join(live.show, live.users["shopper"])
    try:
        for text in ('{"action": "chat", "text": "\\ud800"}', "[" * 5000 + "]" * 5000):
            await shopper.send_to(text_data=text)
            event = await next_of(shopper, "error")
            assert event["code"] == "invalid" and event["message"], event
            await _still_serves(shopper)
        await shopper.send_json_to({"action": "chat", "text": "still here 😀"})
        chat = await next_of(shopper, "chat")
        assert chat["text"] == "still here 😀"
    finally:
        await shopper.disconnect()
