"""Storefront pages that mix live shows with the catalog (home, shop, product) and the show page.

They live here because shows sit on top of the dependency chain (shops <- catalog <- orders <- shows).
"""

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalog.exceptions import InsufficientStock
from catalog.selectors import (
    product_get_storefront,
    product_page_live,
    products_featured,
    products_for_shop,
    variants_for_cart,
)
from catalog.storefront_cache import product_page_cached, stock_shown
from config.jsonsafe import JSONRefused, request_data
from config.ratelimit import client_ip, json_429, over_limit, too_many_message
from config.redact import Secret
from orders import selectors as order_selectors
from orders.exceptions import OneTapNotReady, ReservationError, VariantUnavailable
from orders.models import Order
from orders.services import waitlist_join
from shops.selectors import shop_follower_count, shop_get_active, shop_is_followed

from . import auctions, selectors
from .exceptions import InvalidMessage, NotAllowed, RateLimited, ShowError
from .hub import RoomUnavailable
from .services import (
    show_buy_now,
    show_buy_one_tap,
    show_forget,
    show_remind,
    show_stream_key_rotate,
    stream_started,
    stream_stopped,
)
from .watch import stream_alive


def home(request):
    context = {
        "live_shows": selectors.shows_live(),
        "upcoming_shows": selectors.shows_upcoming(),
        "featured_products": products_featured(),
    }
    return render(request, "home.html", context)


def shop_detail(request, shop_slug: str):
    shop = shop_get_active(slug=shop_slug)
    context = {
        "shop": shop,
        "products": products_for_shop(shop=shop),
        "upcoming_shows": selectors.shows_upcoming(shop=shop, limit=6),
        "live_shows": [s for s in selectors.shows_live() if s.shop_id == shop.pk],
        "is_following": shop_is_followed(user=request.user, shop=shop),
        "follower_count": shop_follower_count(shop=shop),
        "rating": order_selectors.shop_rating(shop=shop),  # +1 query
        "reviews": order_selectors.reviews_for_shop(shop=shop, limit=10),  # +1 query
    }
    return render(request, "shops/shop_detail.html", context)


CSRF_PLACEHOLDER = "csrf-token-placeholder-3f9c"


def _product_page_load(*, shop_slug: str, slug: str) -> dict:
    shop = shop_get_active(slug=shop_slug)
    product = product_get_storefront(shop=shop, slug=slug)
    return {
        "product": product,
        "images": list(product.images.all()),
        "shows": selectors.shows_for_product(product_id=product.pk),
    }


def product_detail(request, shop_slug: str, product_slug: str):
    """One query per view (variants with stock and shop as plain values, checking the product's and
    shop's status); the product, its images and shows, and the rendered body come from the cache
    (catalog/storefront_cache.py). A visitor with no session and no pending messages sees nothing
    personal, so the whole page is cached."""
    shop, variants = product_page_live(shop_slug=shop_slug, product_slug=product_slug)
    next_path = request.get_full_path()
    whole_page = not request.COOKIES.get(settings.SESSION_COOKIE_NAME) and "messages" not in request.COOKIES

    def page_context(data: dict, body: str) -> dict:
        return {"shop": shop, "product": data["product"], "body": mark_safe(body)}  # noqa: S308 - rendered above

    def render_cached(data: dict) -> str:
        context = {
            "shop": shop,
            "product": data["product"],
            "variants": variants,
            "images": data["images"],
            "in_stock": any(v.available > 0 for v in variants),
            "shows": data["shows"],
            "next_path": next_path,
            "csrf_token": CSRF_PLACEHOLDER,
        }
        body = render_to_string("catalog/_product_body.html", context)
        if not whole_page:
            return body
        context = {**page_context(data, body), "csrf_token": CSRF_PLACEHOLDER}
        return render_to_string("catalog/product_detail.html", context, request=request)

    signature = (
        whole_page,
        next_path,
        shop.name,
        shop.logo_url,
        shop.currency,
        tuple((v.pk, v.label, v.price, v.compare_at_price, stock_shown(v.available)) for v in variants),
    )
    data, cached = product_page_cached(
        shop_id=shop.pk,
        slug=product_slug,
        load=lambda: _product_page_load(shop_slug=shop_slug, slug=product_slug),
        signature=signature,
        render=render_cached,
    )
    cached = cached.replace(CSRF_PLACEHOLDER, get_token(request))
    if whole_page:
        return HttpResponse(cached)
    return render(request, "catalog/product_detail.html", page_context(data, cached))


def _clock(seconds: int) -> str:
    """A replay offset as the player shows it: 75 -> "1:15", 3725 -> "1:02:05"."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def show_detail(request, show_id: int):
    show = selectors.show_get_public(show_id=show_id)
    rights = selectors.show_rights_for(user=request.user, show=show)
    has_replay = show.status == show.Status.ENDED and bool(show.replay_url)
    bidding_ready = order_selectors.bidding_ready(user=request.user)
    context = {
        "show": show,
        "pinned": selectors.show_pinned_product(show=show),
        "lineup": selectors.show_lineup(show=show),
        "chat": selectors.chat_recent(show_id=show.pk),
        "rights": rights,
        "is_host": "host" in rights,
        "can_pin": "pin" in rights,
        "can_moderate": "moderate" in rights,
        "bidding_ready": bidding_ready,
        "one_tap_card": order_selectors.payment_method_default(user=request.user) if bidding_ready else None,
        "one_tap_key": uuid.uuid4(),
        "reminded": show.status == show.Status.SCHEDULED
        and selectors.show_reminded(show=show, user=request.user),
        "chapters": [
            {"product": pin.product, "offset": pin.offset_seconds, "clock": _clock(pin.offset_seconds)}
            for pin in (selectors.show_replay_chapters(show=show) if has_replay else [])
        ],
    }
    return render(request, "shows/show_detail.html", context)


def _show_variant_or_404(*, show, variant_id) -> int:
    """The variant must belong to the show's shop; anything else is not found."""
    try:
        variant_id = int(variant_id)
    except (TypeError, ValueError):
        raise Http404("No such product") from None
    if variant_id not in variants_for_cart(variant_ids=[variant_id]) or not selectors.show_sells_variant(
        show=show, variant_id=variant_id
    ):
        raise Http404("No such product")
    return variant_id


def _htmx_or_redirect(request, *, status: int, to: str):
    if request.htmx:
        return render(request, "partials/_messages.html", {"oob": True}, status=status)
    if status >= 400:
        return render(request, "partials/_refusal.html", {"back": to}, status=status)
    return redirect(to)


def _checkout_key(request) -> uuid.UUID:
    """The form's key (a double tap sends the same one and buys once), or a new one."""
    try:
        return uuid.UUID(request.POST.get("checkout_key", ""))
    except ValueError:
        return uuid.uuid4()


@login_required
@require_POST
def show_buy(request, show_id: int):
    """Buy now: hold the unit for a few minutes and go straight to checkout; or, with `one_tap`, an
    order paid by the saved card (no checkout), landing on the order."""
    show = selectors.show_get_public(show_id=show_id)
    over = over_limit(setting="LIVEMARKET_BUY_NOW_RATE", key=f"buy:{request.user.pk}")
    if over:  # before anything is read or held: the press changes nothing
        messages.error(request, too_many_message(*over, "buy-now presses"))
        response = _htmx_or_redirect(request, status=429, to=show.get_absolute_url())
        response["Retry-After"] = str(over[1])
        return response
    variant_id = _show_variant_or_404(show=show, variant_id=request.POST.get("variant_id"))
    one_tap = request.POST.get("one_tap") == "1"
    try:
        if one_tap:
            bought = show_buy_one_tap(
                show=show, user=request.user, variant_id=variant_id, checkout_key=_checkout_key(request)
            )
        else:
            bought = show_buy_now(show=show, user=request.user, variant_id=variant_id)
    except ShowError as exc:
        messages.error(request, exc.message)
        return _htmx_or_redirect(
            request, status=403 if isinstance(exc, NotAllowed) else 409, to=show.get_absolute_url()
        )
    except InsufficientStock:
        messages.error(request, "Sold out! Join the waitlist and we'll hold the next free unit for you.")
        return _htmx_or_redirect(request, status=409, to=show.get_absolute_url())
    except (ReservationError, VariantUnavailable, OneTapNotReady) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return _htmx_or_redirect(request, status=409, to=show.get_absolute_url())
    if isinstance(bought, Order):
        messages.success(request, f"Ordered! Order {bought.number} is being paid with your saved card.")
        return _go(request, bought.get_absolute_url())
    minutes = settings.LIVEMARKET_RESERVATION_MINUTES
    messages.success(request, f"It's yours for {minutes} minutes: check out to keep it.")
    return _go(request, reverse("checkout"))


def _go(request, to: str):
    """Redirect, the htmx way for htmx requests."""
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = to
        return response
    return redirect(to)


@login_required
@require_POST
def show_waitlist_join(request, show_id: int):
    show = selectors.show_get_public(show_id=show_id)
    variant_id = _show_variant_or_404(show=show, variant_id=request.POST.get("variant_id"))
    try:
        waitlist_join(user=request.user, variant_id=variant_id, show_id=show.pk)
    except (ReservationError, VariantUnavailable) as exc:
        messages.error(request, getattr(exc, "message", str(exc)))
        return _htmx_or_redirect(request, status=409, to=show.get_absolute_url())
    messages.success(
        request, "You're on the waitlist: if a unit frees up, it's held for you and we'll tell you."
    )
    return _htmx_or_redirect(request, status=200, to=show.get_absolute_url())


@login_required
@require_POST
def show_reminder_toggle(request, show_id: int):
    """'Remind me' on a scheduled show (pressing it again forgets)."""
    show = selectors.show_get_public(show_id=show_id)
    if selectors.show_reminded(show=show, user=request.user):
        show_forget(show=show, user=request.user)
        reminded = False
    else:
        try:
            show_remind(show=show, user=request.user)
        except ShowError as exc:
            messages.error(request, exc.message)
            return _htmx_or_redirect(request, status=409, to=show.get_absolute_url())
        reminded = True
    if request.htmx:
        return render(request, "shows/_remind_button.html", {"show": show, "reminded": reminded})
    messages.success(request, "We'll e-mail you when it starts." if reminded else "Reminder removed.")
    return redirect(show.get_absolute_url())


def _stream_key(request) -> str:
    """nginx-rtmp posts a form with `name`; MediaMTX-style hooks send JSON with `path` (app/key).
    A body that is not a form or a JSON object raises JSONRefused (a 400 or 413)."""
    data = request_data(request)
    if request.content_type == "application/json":
        key = str(data.get("key") or data.get("path") or "").rsplit("/", 1)[-1]
    else:
        key = data.get("name") or data.get("key") or ""
    return key[:128]


def _stream_hook_limited(view):
    """The media server's callbacks, per caller IP (LIVEMARKET_STREAM_HOOK_RATE), counted before the
    key is looked up: a flood of guesses costs a cache hit each, and a 429 changes no show. A body
    that can't be read gets a 400 (413 when too large) in the callbacks' JSON shape."""

    @wraps(view)
    def limited(request, *args, **kwargs):
        over = over_limit(setting="LIVEMARKET_STREAM_HOOK_RATE", key=f"stream-hook:{client_ip(request)}")
        if over:
            return json_429(limit=over[0], window=over[1], what="stream callbacks from this address")
        try:
            return view(request, *args, **kwargs)
        except JSONRefused as exc:
            return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)

    return limited


@csrf_exempt  # called by the media server, authenticated by the stream key
@require_POST
@_stream_hook_limited
def stream_on_publish(request):
    try:
        show = stream_started(stream_key=_stream_key(request))
    except NotAllowed:
        return JsonResponse({"code": "forbidden", "message": "Unknown stream key."}, status=403)
    except ShowError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=409)
    return JsonResponse({"show": show.pk, "status": show.status})


@csrf_exempt
@require_POST
@_stream_hook_limited
def stream_on_update(request):
    """nginx-rtmp's periodic on_update: the stream is still up (a heartbeat). A non-2xx answer makes
    the media server drop the stream, which is what an ended show wants."""
    try:
        show = stream_alive(stream_key=_stream_key(request))
    except NotAllowed:
        return JsonResponse({"code": "forbidden", "message": "Unknown stream key."}, status=403)
    except ShowError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=409)
    return JsonResponse({"show": show.pk, "status": show.status})


@csrf_exempt
@require_POST
@_stream_hook_limited
def stream_on_publish_done(request):
    try:
        show = stream_stopped(stream_key=_stream_key(request))
    except NotAllowed:
        return JsonResponse({"code": "forbidden", "message": "Unknown stream key."}, status=403)
    return JsonResponse({"show": show.pk, "status": show.status})


@login_required
def host_console(request, show_id: int):
    """The host console: only people with rights in this show; everyone else gets a 404."""
    show = selectors.show_get(show_id=show_id)
    rights = selectors.show_rights_for(user=request.user, show=show) if show else frozenset()
    if show is None or not rights:
        raise Http404("No such show")
    context = {
        "show": show,
        "rights": sorted(rights),
        "lineup": selectors.show_lineup(show=show),
        "variants": selectors.show_lineup_variants(show=show),
        "chat": selectors.chat_recent(show_id=show.pk),
        "sales": order_selectors.show_sales(show_id=show.pk),
        "ingest_url": settings.LIVEMARKET_INGEST_URL,
        "can_host": "host" in rights,
        "can_moderate": "moderate" in rights,
    }
    return render(request, "shows/host_console.html", context)


@login_required
@require_POST
def host_stream_key(request, show_id: int):
    """Make a new stream key and show it once (the old one stops working). Only the shop's hosts;
    anyone else gets a 404, as for the console."""
    show = selectors.show_get(show_id=show_id)
    if show is None or "host" not in selectors.show_rights_for(user=request.user, show=show):
        raise Http404("No such show")
    key = show_stream_key_rotate(show=show, user=request.user)
    response = render(
        request,
        "shows/stream_key.html",
        {"show": show, "stream_key": Secret(key), "ingest_url": settings.LIVEMARKET_INGEST_URL},
    )
    response["Cache-Control"] = "no-store"
    return response


def _bid_error_status(exc: ShowError) -> int:
    if isinstance(exc, NotAllowed):
        return 403
    if isinstance(exc, RateLimited):
        return 429
    return 400 if isinstance(exc, InvalidMessage) else 409  # too low, closed, already leading


@require_POST
def lot_bid(request, show_id: int, lot_id: int):
    """A bid as a plain POST (form or JSON body): the same service as the room's `bid` action."""
    show = selectors.show_get_public(show_id=show_id)
    if not selectors.lot_in_show(show=show, lot_id=lot_id):
        raise Http404("No such lot")
    if not request.user.is_authenticated:
        return JsonResponse({"code": "bid_not_allowed", "message": "Log in to bid."}, status=401)
    try:
        data = request_data(request)
    except JSONRefused as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=exc.status)
    try:
        outcome = auctions.bid_place(
            show=show,
            user=request.user,
            lot_id=lot_id,
            amount=data.get("amount"),
            max_amount=data.get("max_amount") or None,
        )
    except ShowError as exc:
        return JsonResponse({"code": exc.code, "message": exc.message}, status=_bid_error_status(exc))
    except RoomUnavailable as exc:
        return JsonResponse({"code": "unavailable", "message": str(exc)}, status=503)
    payload = auctions.lot_payload(outcome.lot)
    return JsonResponse({"leading": outcome.leading, "price": str(outcome.price), "lot": payload})
