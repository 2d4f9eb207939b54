"""The JSON shapes the room sends (see shared/CONTRACT.md), and broadcasting them after commit."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from . import hub

logger = logging.getLogger(__name__)


def chat_payload(message) -> dict:
    return {
        "type": "chat",
        "id": message.pk,
        "user": message.user.public_name,
        "user_id": message.user_id,
        "text": message.text,  # clients insert it as text, never as HTML
        "at": message.created_at.isoformat(),
    }


def status_payload(show) -> dict:
    return {"type": "status", "status": show.status}


def pinned_payload(product) -> dict:
    if product is None:
        return {"type": "pinned", "product": None}
    variants = [
        {
            "id": v.pk,
            "name": v.label,
            "price": str(v.price),
            "available": max(v.stock.available, 0),
        }
        for v in product.variants.all()
    ]
    image = product.images.all()[0].thumbnail_url if product.images.all() else None
    return {
        "type": "pinned",
        "product": {
            "id": product.pk,
            "title": product.title,
            "url": product.get_absolute_url(),
            "image": image,
            "currency": product.shop.currency,
            "price": str(product.min_price) if product.min_price is not None else None,
            "available": max(product.units_available or 0, 0),
            "variants": variants,
        },
    }


def broadcast_on_commit(show_id: int, payload: dict) -> None:
    """Publish once per event to the room, after the row it describes is committed."""

    def send():
        try:
            hub.publish(show_id, payload)
        except hub.RoomUnavailable:
            logger.warning(
                "room %s: could not broadcast %s (saved; clients catch up on reconnect)",
                show_id,
                payload.get("type"),
            )

    transaction.on_commit(send)


def user_group_name(user_id: int) -> str:
    """Every socket of one logged-in user, across shows and processes (for personal notices)."""
    return f"user_{user_id}"


def console_group_name(show_id: int) -> str:
    """Every socket of the show's team (anyone with rights in it): for figures viewers must not see."""
    return f"console_{show_id}"


def sales_payload(show_id: int, sales: dict, currency: str) -> dict:
    return {
        "type": "sales",
        "show_id": show_id,
        "orders": sales["orders"],
        "units": sales["units"],
        "sales": str(sales["sales"]),
        "currency": currency,
    }


def send_to_console(show_id: int, payload: dict) -> None:
    """A notice to the show's team only, through the channel layer (never the room hub)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(
            console_group_name(show_id), {"type": "room.event", "payload": payload}
        )


def stock_payload(product) -> dict:
    """Units left on a pinned product, per variant, after a purchase, hold or release."""
    return {
        "type": "stock",
        "product_id": product.pk,
        "available": max(product.units_available or 0, 0),
        "variants": [{"id": v.pk, "available": max(v.stock.available, 0)} for v in product.variants.all()],
    }


def send_to_user(user_id: int, payload: dict) -> None:
    """A personal notice to every socket of one user (rare: goes through the channel layer)."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(user_group_name(user_id), {"type": "room.event", "payload": payload})


def deal_payload(deal, *, units_left: int) -> dict:
    return {
        "id": deal.pk,
        "variant_id": deal.variant_id,
        "product_id": deal.variant.product_id,
        "title": deal.variant.product.title,
        "price": str(deal.price),
        "currency": deal.show.shop.currency,
        "units_total": deal.units_total,
        "units_left": units_left,
        "per_buyer_limit": deal.per_buyer_limit,
        "ends_at": deal.ends_at.isoformat(),
    }


def giveaway_payload(giveaway, *, entries: int) -> dict:
    return {
        "type": "giveaway",
        "giveaway": {
            "id": giveaway.pk,
            "title": giveaway.variant.product.title,
            "status": giveaway.status,
            "followers_only": giveaway.followers_only,
            "closes_at": giveaway.closes_at.isoformat(),
            "entries": entries,
            "winner": giveaway.winner.public_name if giveaway.winner_id else None,
        },
    }
