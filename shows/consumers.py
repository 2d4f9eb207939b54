"""The live show room socket. Room events arrive through the per-process hub (shows/hub.py);
personal notices through the channel layer group `user_<id>`. Every ORM call is a selector or service
under database_sync_to_async, and every action is checked on the server."""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from config import jsonsafe
from shops.selectors import session_user_is_current

from . import auctions, events, selectors, services
from .exceptions import InvalidMessage, ShowError
from .hub import RoomUnavailable, apublish, hub

logger = logging.getLogger(__name__)

REACTION_KINDS = {"heart", "fire", "clap", "wow", "laugh"}


@database_sync_to_async
def _console_rights(show, user) -> bool:
    return bool(selectors.show_rights_for(user=user, show=show))


@database_sync_to_async
def _load_state(show_id: int):
    show = selectors.show_get(show_id=show_id)
    if show is None:
        return None, None
    pinned = events.pinned_payload(selectors.show_pinned_product(show=show))
    chat = [events.chat_payload(m) for m in selectors.chat_recent(show_id=show_id)]
    deal = services.deal_state(selectors.deal_active(show=show))
    giveaway = selectors.giveaway_current(show=show)
    lot = selectors.lot_current(show=show)
    extras = [auctions.lot_event(lot)] if lot is not None else []
    extras.append({"type": "deal", "deal": deal})
    if giveaway is not None:
        extras.append(
            events.giveaway_payload(giveaway, entries=selectors.giveaway_entry_count(giveaway=giveaway))
        )
    return show, {"status": events.status_payload(show), "pinned": pinned, "chat": chat, "extras": extras}


class ShowConsumer(AsyncJsonWebsocketConsumer):
    user_group = None
    console_group = None
    joined = False

    async def connect(self):
        self.show_id = int(self.scope["url_route"]["kwargs"]["show_id"])
        show, state = await _load_state(self.show_id)
        if show is None:
            await self.close(code=4404)
            return
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            self.user_group = events.user_group_name(user.pk)
            await self.channel_layer.group_add(self.user_group, self.channel_name)
            if await _console_rights(show, user):
                # The show's team only (sales figures): never the room, which viewers share.
                self.console_group = events.console_group_name(self.show_id)
                await self.channel_layer.group_add(self.console_group, self.channel_name)
        await self.accept()
        count = await hub().join(self.show_id, self)
        self.joined = True
        await self.send_json(state["status"])
        await self.send_json(state["pinned"])
        await self.send_json({"type": "viewers", "count": count})
        for message in state["chat"]:
            await self.send_json(message)
        for extra in state["extras"]:
            await self.send_json(extra)

    async def disconnect(self, code):
        if self.joined:
            await hub().leave(self.show_id, self)
        if self.user_group:
            await self.channel_layer.group_discard(self.user_group, self.channel_name)
        if self.console_group:
            await self.channel_layer.group_discard(self.console_group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """A frame over LIVEMARKET_WS_MAX_FRAME closes the socket with 1009 (message too big), before
        it is parsed. Other bad frames get an `error` event; they never close the room."""
        frame = text_data if text_data is not None else bytes_data or b""
        if len(frame) > settings.LIVEMARKET_WS_MAX_FRAME:
            await self.close(code=1009)
            return
        if text_data is None:
            await self.send_error("invalid", "Send JSON text.")
            return
        try:
            content = await self.decode_json(text_data)
        except jsonsafe.JSONRefused as exc:
            await self.send_error("invalid", exc.message)
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content, **kwargs):
        action = content.get("action") if isinstance(content, dict) else None
        handler = getattr(self, f"action_{action}", None) if isinstance(action, str) else None
        if handler is None:
            await self.send_error("unknown_action", "Unknown action.")
            return
        if not await self._login_still_valid():
            # Logged out or password changed elsewhere: refuse, then close so the page reconnects
            # with whatever the browser's cookies say now.
            await self.send_error("session_expired", "You were signed out. Log in again to take part.")
            await self.close(code=4401)
            return
        try:
            await handler(content)
        except ShowError as exc:
            await self.send_error(exc.code, exc.message)
        except RoomUnavailable as exc:
            await self.send_error("unavailable", str(exc))

    @classmethod
    async def decode_json(cls, text_data):
        """Bounded (config/jsonsafe.py): depth, valid Unicode, numbers in range; JSONRefused otherwise."""
        return jsonsafe.loads(text_data, limit=settings.LIVEMARKET_WS_MAX_FRAME)

    async def _login_still_valid(self) -> bool:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return True
        session = self.scope.get("session")
        return await database_sync_to_async(session_user_is_current)(
            session_key=getattr(session, "session_key", None), user=user
        )

    async def send_error(self, code: str, message: str):
        await self.send_json({"type": "error", "code": code, "message": message})

    async def action_chat(self, content):
        text = content.get("text")
        if not isinstance(text, str):
            await self.send_error("invalid", "Chat needs text.")
            return
        await database_sync_to_async(self._call)(services.chat_post, text=text)

    async def action_react(self, content):
        kind = content.get("kind")
        if not isinstance(kind, str) or kind not in REACTION_KINDS:
            await self.send_error("invalid", "Unknown reaction.")
            return
        await database_sync_to_async(self._call)(services.reaction_check)
        await apublish(self.show_id, {"type": "reaction", "kind": kind, "count": 1})

    async def action_pin(self, content):
        product_id = content.get("product_id")
        if product_id is not None and (not isinstance(product_id, int) or isinstance(product_id, bool)):
            await self.send_error("invalid", "product_id must be a number.")
            return
        await database_sync_to_async(self._call)(services.show_pin_product, product_id=product_id)

    async def action_go_live(self, content):
        await database_sync_to_async(self._call)(services.show_go_live)

    async def action_end(self, content):
        await database_sync_to_async(self._call)(services.show_end)

    async def action_deal_start(self, content):
        await database_sync_to_async(self._call)(
            services.deal_start,
            variant_id=content.get("variant_id"),
            price=content.get("price"),
            units=content.get("units"),
            per_buyer_limit=content.get("per_buyer_limit", 1),
            duration_seconds=content.get("duration_seconds", 120),
        )

    async def action_deal_end(self, content):
        await database_sync_to_async(self._call)(services.deal_end)

    async def action_moderate(self, content):
        """`op`: delete (with `message_id`), mute or ban (with `user_id`)."""
        op = content.get("op")
        if op == "delete":
            await database_sync_to_async(self._call)(
                services.chat_delete, message_id=content.get("message_id")
            )
        elif op == "mute":
            await database_sync_to_async(self._call)(services.viewer_mute, target_id=content.get("user_id"))
        elif op == "ban":
            await database_sync_to_async(self._call)(
                services.viewer_ban, target_id=content.get("user_id"), reason=str(content.get("reason", ""))
            )
        else:
            await self.send_error("invalid", "Moderation needs op: delete, mute or ban.")

    async def action_giveaway_start(self, content):
        await database_sync_to_async(self._call)(
            services.giveaway_start,
            variant_id=content.get("variant_id"),
            duration_seconds=content.get("duration_seconds", 60),
            followers_only=bool(content.get("followers_only", False)),
        )

    async def action_giveaway_enter(self, content):
        await database_sync_to_async(self._call)(
            services.giveaway_enter, giveaway_id=content.get("giveaway_id")
        )
        await self.send_json({"type": "giveaway_entered", "giveaway_id": content.get("giveaway_id")})

    async def action_giveaway_draw(self, content):
        await database_sync_to_async(self._draw)(content.get("giveaway_id"))

    async def action_bid(self, content):
        """`lot_id`, `amount`, and optionally `max_amount` (the system bids for you up to it)."""
        outcome = await database_sync_to_async(self._call)(
            auctions.bid_place,
            lot_id=content.get("lot_id"),
            amount=content.get("amount"),
            max_amount=content.get("max_amount"),
        )
        await self.send_json(
            {
                "type": "bid_placed",
                "lot_id": outcome.lot.pk,
                "leading": outcome.leading,
                "price": str(outcome.price),
            }
        )

    async def action_lot_start(self, content):
        await database_sync_to_async(self._call)(
            auctions.lot_start,
            variant_id=content.get("variant_id"),
            starting_price=content.get("starting_price"),
            increment=content.get("increment"),
            increment_table=content.get("increment_table"),
            duration_seconds=content.get("duration_seconds", 30),
            mode=content.get("mode", "extend"),
            extend_seconds=content.get("extend_seconds", 10),
            quantity=content.get("quantity", 1),
            bid_ceiling=content.get("bid_ceiling"),
        )

    async def action_lot_sync(self, content):
        """Sent by clients when the lot clock hits zero; answers with the lot's state."""
        lot = await database_sync_to_async(self._call)(auctions.lot_sync, lot_id=content.get("lot_id"))
        await self.send_json(auctions.lot_event(lot))

    async def action_lot_after_payment(self, content):
        """The seller's choice for a lot whose payment failed: `op` runner_up, relist or release."""
        await database_sync_to_async(self._call)(
            auctions.lot_after_payment, lot_id=content.get("lot_id"), op=content.get("op")
        )

    def _draw(self, giveaway_id):
        show = selectors.show_get(show_id=self.show_id)
        giveaway = selectors.giveaway_current(show=show)
        if giveaway is None or giveaway.pk != giveaway_id:
            raise InvalidMessage("No such giveaway in this show.")
        services.giveaway_draw(giveaway_id=giveaway.pk, user=self.scope["user"])

    def _call(self, service, **kwargs):
        """Run a service for this show and user; it checks the user's rights itself."""
        show = selectors.show_get(show_id=self.show_id)
        return service(show=show, user=self.scope["user"], **kwargs)

    async def room_event(self, event):
        """A personal notice (user group) or a team-only one (console group) from the channel layer."""
        await self.send_json(event["payload"])
