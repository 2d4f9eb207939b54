"""The live show room socket. Room events arrive through the per-process hub (shows/hub.py);
personal notices through the channel layer group `user_<id>`. Every ORM call is a selector or service
under database_sync_to_async, and every action is checked on the server."""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import events, selectors, services
from .exceptions import ShowError
from .hub import RoomUnavailable, apublish, hub

logger = logging.getLogger(__name__)

REACTION_KINDS = {"heart", "fire", "clap", "wow", "laugh"}


@database_sync_to_async
def _load_state(show_id: int):
    show = selectors.show_get(show_id=show_id)
    if show is None:
        return None, None
    pinned = events.pinned_payload(selectors.show_pinned_product(show=show))
    chat = [events.chat_payload(m) for m in selectors.chat_recent(show_id=show_id)]
    return show, {"status": events.status_payload(show), "pinned": pinned, "chat": chat}


class ShowConsumer(AsyncJsonWebsocketConsumer):
    user_group = None
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
        await self.accept()
        count = await hub().join(self.show_id, self)
        self.joined = True
        await self.send_json(state["status"])
        await self.send_json(state["pinned"])
        await self.send_json({"type": "viewers", "count": count})
        for message in state["chat"]:
            await self.send_json(message)

    async def disconnect(self, code):
        if self.joined:
            await hub().leave(self.show_id, self)
        if self.user_group:
            await self.channel_layer.group_discard(self.user_group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        action = content.get("action") if isinstance(content, dict) else None
        handler = getattr(self, f"action_{action}", None) if isinstance(action, str) else None
        if handler is None:
            await self.send_error("unknown_action", "Unknown action.")
            return
        try:
            await handler(content)
        except ShowError as exc:
            await self.send_error(exc.code, exc.message)
        except RoomUnavailable as exc:
            await self.send_error("unavailable", str(exc))

    async def send_error(self, code: str, message: str):
        await self.send_json({"type": "error", "code": code, "message": message})

    async def action_chat(self, content):
        text = content.get("text")
        if not isinstance(text, str):
            await self.send_error("invalid", "Chat needs text.")
            return
        await database_sync_to_async(self._chat)(text)

    def _chat(self, text: str):
        show = selectors.show_get(show_id=self.show_id)
        services.chat_post(show=show, user=self.scope["user"], text=text)

    async def action_react(self, content):
        kind = content.get("kind")
        if kind not in REACTION_KINDS:
            await self.send_error("invalid", "Unknown reaction.")
            return
        if not self.scope["user"].is_authenticated:
            await self.send_error("forbidden", "Log in to react.")
            return
        await apublish(self.show_id, {"type": "reaction", "kind": kind, "count": 1})

    async def action_pin(self, content):
        product_id = content.get("product_id")
        if product_id is not None and (not isinstance(product_id, int) or isinstance(product_id, bool)):
            await self.send_error("invalid", "product_id must be a number.")
            return
        await database_sync_to_async(self._host_call)(services.show_pin_product, product_id=product_id)

    async def action_go_live(self, content):
        await database_sync_to_async(self._host_call)(services.show_go_live)

    async def action_end(self, content):
        await database_sync_to_async(self._host_call)(services.show_end)

    def _host_call(self, service, **kwargs):
        show = selectors.show_get(show_id=self.show_id)
        service(show=show, user=self.scope["user"], **kwargs)

    async def room_event(self, event):
        """A personal notice from the channel layer (user group)."""
        await self.send_json(event["payload"])
