"""Hostile text in every user-writable field, rendered everywhere it shows: nothing executes.

For each payload of tests/security/payloads.py, one world is built with the payload in every field a
user can write (through the services, forms and views that write them), and then every place that
shows them is rendered: the storefront, the host console, cart, checkout and order pages, the admin
(every registered model's changelist and change view), the e-mails, the websocket events and the
API's JSON. Every HTML page must have no event-handler attribute, no javascript:/data:text/html URL,
no inline script and no frame, and must show the payload only escaped; the JSON must carry it
verbatim. SQL fragments are stored verbatim and the tables stay intact.

Reviews: a shop review's text is written through `review_save` once the order has shipped, and is
checked on the shop page, the order page and the admin.
"""

import io
import re
from datetime import timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from asgiref.sync import async_to_sync
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from catalog.models import Product
from catalog.services import category_get_or_create, product_create, product_image_add, variant_create
from orders.models import Order
from orders.services import order_refund, order_ship, review_save, shipping_method_create
from shops.apikeys import api_key_create
from shops.models import Shop, User
from shops.services import shop_create, shop_follow, user_create
from shows import auctions
from shows.models import Show
from shows.services import chat_post, show_create, show_go_live, show_pin_product, viewer_ban
from tests.security.payloads import PAYLOADS, STORABLE_PAYLOADS, URL_PAYLOADS, reliability_rows
from tests.shows.roomkit import clear_rate_limits, frames, join

pytestmark = pytest.mark.django_db(transaction=True)  # the room reads committed rows from its own thread

PASSWORD = "pass-word-123"
URL_ATTRS = {
    "href",
    "src",
    "action",
    "formaction",
    "srcdoc",
    "data",
    "xlink:href",
    "poster",
    "background",
    "ping",
}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}
HTML_SPECIAL = set("<>\"'")  # raw `&lt;` in a page is only text (it shows as "<"), never markup
# Constant inline scripts of third-party admin templates (no user data in them; our CSP blocks them).
KNOWN_INLINE_SCRIPTS = ("const readableCrontabs = JSON.parse(",)  # django-celery-beat's periodic task form


class _ExecutableMarkup(HTMLParser):
    """Everything in a page that could run script: handlers, script URLs, inline scripts, frames."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>")
            refresh = (
                tag == "meta" and name == "content" and dict(attrs).get("http-equiv", "").lower() == "refresh"
            )
            if value and (name in URL_ATTRS or refresh):
                squashed = re.sub(r"[\x00-\x20]", "", value).lower()
                if squashed.startswith(BAD_SCHEMES) or "url=javascript:" in squashed:
                    self.problems.append(f"<{tag} {name}={value!r}>")
        if tag in ("iframe", "frame", "object", "embed", "base"):
            self.problems.append(f"<{tag}>")
        if tag == "script":
            values = dict(attrs)
            self._inline_script = not values.get("src") and values.get("type") not in DATA_SCRIPT_TYPES

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False

    def handle_data(self, data):
        if self._inline_script and data.strip() and not data.strip().startswith(KNOWN_INLINE_SCRIPTS):
            self.problems.append(f"inline script: {data.strip()[:80]!r}")


def assert_inert_html(html: str, *, where: str, texts: list[str]) -> None:
    scan = _ExecutableMarkup()
    scan.feed(html)
    scan.close()
    assert not scan.problems, (where, scan.problems)
    for text in texts:
        if HTML_SPECIAL & set(text):
            assert text not in html, f"{where}: unescaped {text[:60]!r}"


def assert_shows(html: str, text: str, *, where: str) -> None:
    """The payload is really on the page (escaped): the checks above are not vacuous."""
    assert escape(text) in html, f"{where}: {text[:60]!r} is not shown"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
    return SimpleUploadedFile("hostile.png", buffer.getvalue(), content_type="image/png")


class World:
    """Every user-writable field holding (a prefix, cut to the field's length, of) one payload."""

    def __init__(self, text: str, capture):
        self.text = text
        self.fit = {n: text[:n] for n in (20, 30, 60, 80, 100, 120, 200, 500)}
        self.merchant = user_create(
            username="hostile-merchant", email="m@example.test", password=PASSWORD, display_name=text[:60]
        )
        self.shopper = user_create(
            username="hostile-shopper", email="s@example.test", password=PASSWORD, display_name=text[:60]
        )
        self.troll = user_create(username="hostile-troll", email="t@example.test", password=PASSWORD)
        self.ops = User.objects.create_superuser("hostile-ops", "ops@example.test", PASSWORD)
        self.shop = shop_create(owner=self.merchant, name=text[:120], slug="hostile-shop", description=text)
        self.category = category_get_or_create(name=text[:80])
        self.product = product_create(
            shop=self.shop, title=text[:200], description=text, category=self.category, is_featured=True
        )
        self.variant = variant_create(
            product=self.product, sku="HOSTILE-1", price=Decimal("12.50"), name=text[:120], on_hand=50
        )
        self.image = product_image_add(product=self.product, image=_png(), alt_text=text[:200])
        self.shipping = shipping_method_create(shop=self.shop, name=text[:80], price=Decimal("4.00"))
        shop_follow(user=self.shopper, shop=self.shop)
        self.show = show_create(
            shop=self.shop,
            title=text[:200],
            description=text,
            scheduled_start=timezone.now() + timedelta(hours=1),
            products=[self.product],
        )
        self.upcoming = show_create(
            shop=self.shop,
            title=text[:200],
            description=text,
            scheduled_start=timezone.now() + timedelta(days=1),
            products=[self.product],
        )
        with capture(execute=True):  # the "we're live" e-mail to followers
            self.show = show_go_live(show=self.show, user=self.merchant)
        clear_rate_limits()
        self.chat = chat_post(show=self.show, user=self.shopper, text=text[:500])
        self.show = show_pin_product(show=self.show, user=self.merchant, product_id=self.product.pk)
        self.lot = auctions.lot_start(
            show=self.show,
            user=self.merchant,
            variant_id=self.variant.pk,
            starting_price="5",
            duration_seconds=60,
        )
        viewer_ban(show=self.show, user=self.merchant, target_id=self.troll.pk, reason=text[:200])
        self.api_key, self.raw_key = api_key_create(shop=self.shop, name=text[:80], created_by=self.merchant)


def _checkout(world: World, client: Client, capture) -> tuple[Order, dict[str, str]]:
    """The shopper buys through the real pages: add to cart, the checkout form with the payload in
    every address field, then the confirmation page. Returns the order and the pages seen."""
    text = world.text
    pages = {}
    response = client.post(reverse("cart_add"), {"variant_id": world.variant.pk, "quantity": 1})
    assert response.status_code in (200, 302), response.status_code
    pages["cart"] = client.get(reverse("cart")).content.decode()
    checkout = client.get(reverse("checkout"))
    assert checkout.status_code == 200
    pages["checkout"] = checkout.content.decode()
    key = re.search(r'name="checkout_key" value="([0-9a-f-]{36})"', pages["checkout"]).group(1)
    address = {
        "full_name": text[:120],
        "line1": text[:200],
        "line2": text[:200],
        "city": text[:100],
        "postal_code": text[:20],
        "phone": text[:30],
    }
    with capture(execute=True):
        response = client.post(
            reverse("checkout"),
            {
                "checkout_key": key,
                "email": "s@example.test",
                "country": "PT",
                "card_number": "4242 4242 4242 4242",
                "save_address": "on",
                f"shipping_{world.shop.pk}": world.shipping.pk,
                **address,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    pages["order confirmation"] = client.get(response["Location"]).content.decode()
    order = Order.objects.get(user=world.shopper)
    # What the form stored (it strips surrounding whitespace, like every Django CharField).
    for field, value in address.items():
        assert getattr(order, field) == value.strip(), field
    return order, pages


# Every payload gets the admin pages of the models that hold user text; these payloads (one of each
# kind of breakout) get every registered model's pages, as ops and as the shop's merchant.
FULL_ADMIN_WALK = {
    "script_tag",
    "img_onerror_breakout",
    "single_quote_attr_breakout",
    "textarea_breakout",
    "json_script_breakout",
    "long_text",
}
KEY_ADMIN_MODELS = {
    "shops.user",
    "shops.shop",
    "shops.apikey",
    "catalog.category",
    "catalog.product",
    "catalog.stock",
    "orders.order",
    "orders.shipment",
    "orders.refund",
    "orders.shippingmethod",
    "orders.review",
    "shows.show",
    "shows.chatmessage",
    "shows.shopban",
    "shows.lot",
}


def _admin_pages(
    client: Client, *, search: str, scoped: bool = False, models: set[str] | None = None
) -> dict[str, str]:
    """Every registered model's changelist (also searched for the payload) and the change view of
    each of its first rows. A `scoped` merchant gets 403 for ops-only models and 404 for rows of
    other shops (nothing to render there)."""
    pages = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if models is not None and opts.label_lower not in models:
            continue
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        response = client.get(changelist)
        if scoped and response.status_code == 403:
            continue
        assert response.status_code == 200, (changelist, response.status_code)
        pages[changelist] = response.content.decode()
        if model_admin.search_fields:
            response = client.get(changelist, {"q": search})
            assert response.status_code == 200, changelist
            pages[changelist + "?q"] = response.content.decode()
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:3]:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            response = client.get(url)
            if scoped and response.status_code in (403, 404):
                continue
            assert response.status_code == 200, (url, response.status_code)
            pages[url] = response.content.decode()
    return pages


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_room_scripts_never_insert_text_as_html():
    """Websocket events (chat, pins, lots, moderation) reach the page through static/js: user text must
    go in with textContent, never through an HTML sink."""
    from django.conf import settings

    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|\beval\("
    )
    scripts = sorted((settings.BASE_DIR / "static" / "js").glob("*.js"))
    assert len(scripts) >= 4
    for script in scripts:
        code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script.read_text(), flags=re.S)  # comments may mention them
        assert not sinks.search(code), f"{script.name}: {sinks.search(code).group(0)}"


def test_the_corpus_and_its_coverage_rows():
    names = [name for name, _ in PAYLOADS]
    assert len(PAYLOADS) >= 20 and len(set(names)) == len(names)
    rows = reliability_rows()
    assert {"field", "payloads", "renderings"} <= set(rows[0])
    assert all(row["payloads"] > 0 and row["renderings"] for row in rows)
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered >= KEY_ADMIN_MODELS, KEY_ADMIN_MODELS - registered


@pytest.mark.parametrize(("name", "text"), STORABLE_PAYLOADS, ids=[n for n, _ in STORABLE_PAYLOADS])
def test_hostile_text_is_inert_everywhere_it_is_shown(name, text, django_capture_on_commit_callbacks):
    mail.outbox = []
    world = World(text, django_capture_on_commit_callbacks)
    texts = sorted({text[:n] for n in (20, 30, 60, 80, 100, 120, 200, 500)} | {text}, key=len, reverse=True)
    shopper = Client()
    shopper.force_login(world.shopper)
    merchant = Client()
    merchant.force_login(world.merchant)
    ops = Client()
    ops.force_login(world.ops)
    show_url = world.show.get_absolute_url()

    order, pages = _checkout(world, shopper, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        order_ship(order=order, actor=world.merchant, carrier=text[:60], tracking_number=f"TRK {text[:70]}")
        order_refund(order=order, actor=world.merchant, amount=Decimal("1.00"), reason=text[:200])
    review = review_save(user=world.shopper, order_number=order.number, rating=2, text=text[:2000])

    storefront = {
        "home": "/",
        "shop page": world.shop.get_absolute_url(),
        "product page": world.product.get_absolute_url(),
        "products list": reverse("product_list"),
        "category page": reverse("category_detail", args=[world.category.slug]),
        "search": f"/search/?q={text[:200]}",
        "show page": show_url,
        "upcoming show page": world.upcoming.get_absolute_url(),
        "order list": reverse("order_list"),
        "order page": order.get_absolute_url(),
        "bidding setup": reverse("bidding_setup"),
    }
    for where, url in storefront.items():
        response = shopper.get(url, {"q": text[:200]} if where == "search" else None)
        assert response.status_code == 200, (where, response.status_code)
        pages[where] = response.content.decode()
    response = merchant.get(reverse("host_console", args=[world.show.pk]))
    assert response.status_code == 200
    pages["host console"] = response.content.decode()
    pages["visitor show page"] = Client().get(show_url).content.decode()
    if name in FULL_ADMIN_WALK:
        admin_pages = _admin_pages(ops, search=text[:200])
        merchant_admin = _admin_pages(merchant, search=text[:200], scoped=True)
    else:
        admin_pages = _admin_pages(ops, search=text[:200], models=KEY_ADMIN_MODELS)
        merchant_admin = _admin_pages(merchant, search=text[:200], scoped=True, models=KEY_ADMIN_MODELS)
    for where, html in {
        **pages,
        **{f"admin {k}": v for k, v in admin_pages.items()},
        **{f"merchant {k}": v for k, v in merchant_admin.items()},
    }.items():
        assert_inert_html(html, where=where, texts=texts)

    # The payload is really there, escaped, in the pages that show each field in full.
    shown = {
        "home": [world.show.title, world.product.title],
        "shop page": [
            world.shop.name,
            world.shop.description,
            world.product.title,
            world.upcoming.title,
            review.text,
            world.shopper.public_name,
        ],
        "product page": [world.product.title, world.product.description, world.variant.name],
        "products list": [world.product.title],
        "show page": [world.show.title, world.show.description, world.chat.text, world.shopper.public_name],
        "host console": [world.show.title, world.chat.text, world.shopper.public_name],
        "cart": [world.product.title, world.variant.name],
        "checkout": [world.product.title, world.shipping.name],
        "order page": [
            order.full_name,
            order.line1,
            order.city,
            world.product.title,
            world.shipping.name,
            review.text,
        ],
        "bidding setup": [order.full_name, order.line1],
        "search": [text[:200].strip()],
    }
    for where, values in shown.items():
        for value in values:
            if value.strip():
                assert_shows(pages[where], value, where=where)
    alt_text = world.image.alt_text
    assert f'alt="{escape(alt_text)}"' in pages["product page"]
    changelists = {
        "shops_shop": world.shop.name,
        "catalog_product": world.product.title,
        "shows_show": world.show.title,
        "shows_chatmessage": world.chat.text[:100],
        "shops_apikey": world.api_key.name,
        "orders_review": review.text[:80],
        "shows_shopban": world.lot.show.shop.name,
    }
    for route, value in changelists.items():
        html = admin_pages[reverse(f"admin:{route}_changelist")]
        assert escape(value) in html or escape(value.strip()) in html, route

    # E-mails: plain text verbatim, HTML escaped, no header injection through the subject.
    kinds = [m.subject for m in mail.outbox]
    assert len(mail.outbox) >= 4, kinds  # live now, confirmation, shipped, refunded
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject, message.subject
        assert message.to in (["s@example.test"],), message.to
        assert not message.bcc and not message.cc
        for body, mimetype in getattr(message, "alternatives", []):
            assert mimetype == "text/html"
            assert_inert_html(body, where=f"e-mail {message.subject!r}", texts=texts)
    confirmation = next(
        m for m in mail.outbox if getattr(m, "alternatives", None) and order.number in m.subject
    )
    assert world.product.title in confirmation.body
    assert escape(world.product.title) in confirmation.alternatives[0][0]

    # The API carries the text verbatim, as JSON.
    api_checks = {
        "/api/v1/public/shops/": [world.shop.name, world.shop.description],
        "/api/v1/public/products/": [world.product.title],
        "/api/v1/public/shows/": [world.upcoming.title],
        "/api/v1/me/orders/": [world.product.title],
    }
    for url, values in api_checks.items():
        response = shopper.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("application/json")
        strings = set(_strings(response.json()))
        for value in values:
            assert value in strings, (url, value[:60])
    response = Client().get(
        "/api/v1/merchant/products/", headers={"authorization": f"Bearer {world.raw_key}"}
    )
    assert world.product.description in set(_strings(response.json()))

    # SQL fragments were data: stored verbatim, and every table is still there.
    world.shop.refresh_from_db()
    assert world.shop.name == text[:120] and world.shop.description == text
    assert Product.objects.get(pk=world.product.pk).description == text
    assert Shop.objects.filter(name=text[:120]).count() == 1
    tables = set(connection.introspection.table_names())
    assert {"orders_order", "shops_user", "catalog_product", "shows_chatmessage"} <= tables
    assert Order.objects.count() == 1

    # The live room: the history, the pinned product and a new chat line carry the text verbatim.
    async def room():
        communicator, seen = await join(world.show, world.shopper)
        chats = [e for e in seen if e["type"] == "chat"]
        assert {"text": world.chat.text, "user": world.shopper.public_name} in [
            {"text": c["text"], "user": c["user"]} for c in chats
        ]
        pinned = next(e for e in seen if e["type"] == "pinned")
        assert pinned["product"]["title"] == world.product.title
        assert world.variant.name in [v["name"] for v in pinned["product"]["variants"]]
        lot = next(e for e in seen if e["type"] == "lot")
        assert lot["lot"]["title"].startswith(world.product.title[:150])
        clear_rate_limits()
        await communicator.send_json_to({"action": "chat", "text": text[:500]})
        for _ in range(40):
            message = await communicator.receive_json_from(timeout=10)
            events = [e for e in frames(message) if e["type"] in ("chat", "error")]
            if events:
                break
        assert events[0]["type"] == "chat", events
        assert events[0]["text"] == text[:500].strip()
        await communicator.disconnect()

    async_to_sync(room)()


# --- NUL bytes: PostgreSQL can't store them; every write path refuses them cleanly -----------------------

NUL = dict(PAYLOADS)["nul_byte"]


def test_nul_bytes_get_a_clean_refusal_never_a_500(django_capture_on_commit_callbacks):
    world = World("Plain shop", django_capture_on_commit_callbacks)
    shopper = Client(raise_request_exception=False)
    shopper.force_login(world.shopper)
    ops = Client(raise_request_exception=False)
    ops.force_login(world.ops)

    for url in ("/search/", "/products/", "/api/v1/public/products/"):
        response = shopper.get(url, {"q": NUL})
        assert response.status_code < 500, url
    for url in (
        "/admin/catalog/product/",
        "/admin/shops/shop/",
        "/admin/orders/order/",
        "/admin/shows/chatmessage/",
    ):
        response = ops.get(url, {"q": NUL})
        assert response.status_code < 500, url
    response = shopper.post(reverse("cart_add"), {"variant_id": world.variant.pk, "quantity": 1})
    checkout = shopper.get(reverse("checkout")).content.decode()
    key = re.search(r'name="checkout_key" value="([0-9a-f-]{36})"', checkout).group(1)
    response = shopper.post(
        reverse("checkout"),
        {
            "checkout_key": key,
            "email": "s@example.test",
            "full_name": NUL,
            "line1": NUL,
            "city": "Lisbon",
            "postal_code": "1100",
            "country": "PT",
            "card_number": "4242 4242 4242 4242",
            f"shipping_{world.shop.pk}": world.shipping.pk,
        },
    )
    assert response.status_code in (200, 400), response.status_code  # the form again, with the error
    assert "Null characters are not allowed" in response.content.decode()
    assert not Order.objects.exists()

    response = ops.post(
        reverse("admin:shops_shop_change", args=[world.shop.pk]),
        {"name": NUL, "slug": "hostile-shop", "status": "active", "currency": "USD", "description": NUL},
    )
    assert response.status_code == 200  # the change form again, with errors
    world.shop.refresh_from_db()
    assert world.shop.name == "Plain shop"

    response = Client().post(
        "/api/v1/merchant/products/",
        data={"title": NUL, "description": NUL, "status": "draft"},
        content_type="application/json",
        headers={"authorization": f"Bearer {world.raw_key}"},
    )
    assert response.status_code == 400, response.content

    troll = user_create(username="hostile-troll-2", email="t2@example.test", password=PASSWORD)

    async def room():
        communicator, _ = await join(world.show, world.shopper)
        clear_rate_limits()
        await communicator.send_json_to({"action": "chat", "text": NUL})
        for _ in range(40):
            message = await communicator.receive_json_from(timeout=10)
            events = [e for e in frames(message) if e["type"] in ("chat", "error")]
            if events:
                break
        assert events[0]["type"] == "error", events
        await communicator.send_json_to({"action": "chat", "text": "still here"})  # the socket stayed open
        for _ in range(40):
            message = await communicator.receive_json_from(timeout=10)
            events = [e for e in frames(message) if e["type"] in ("chat", "error")]
            if events:
                break
        assert events[0]["type"] == "chat" and events[0]["text"] == "still here", events
        await communicator.disconnect()
        # A moderator's ban reason comes over the socket too.
        host, _ = await join(world.show, world.merchant)
        await host.send_json_to({"action": "moderate", "op": "ban", "user_id": troll.pk, "reason": NUL})
        for _ in range(40):
            message = await host.receive_json_from(timeout=10)
            events = [e for e in frames(message) if e["type"] in ("moderation", "error")]
            if events:
                break
        assert events[0]["type"] == "moderation", events
        await host.disconnect()

    async_to_sync(room)()


# --- URL fields: only http(s) is ever stored ---------------------------------------------------------


@pytest.mark.parametrize(("name", "url"), URL_PAYLOADS, ids=[n for n, _ in URL_PAYLOADS])
def test_script_urls_are_refused_by_every_url_field(name, url, django_capture_on_commit_callbacks):
    world = World("Plain shop", django_capture_on_commit_callbacks)
    key = {"authorization": f"Bearer {world.raw_key}"}
    api = Client()
    response = api.post(
        "/api/v1/merchant/webhook-endpoints/",
        data={"url": url, "events": ["order.paid"]},
        content_type="application/json",
        headers=key,
    )
    assert response.status_code == 400, response.content
    for field in ("playback_url", "replay_url"):
        response = api.patch(
            f"/api/v1/merchant/shows/{world.upcoming.pk}/",
            data={field: url},
            content_type="application/json",
            headers=key,
        )
        assert response.status_code == 400, (field, response.content)
    world.upcoming.refresh_from_db()
    assert world.upcoming.playback_url == "" and world.upcoming.replay_url == ""

    ops = Client()
    ops.force_login(world.ops)
    response = ops.post(
        reverse("admin:shops_webhookendpoint_add"),
        {"shop": world.shop.pk, "url": url, "events": ["order.paid"]},
    )
    assert response.status_code == 200  # the form again, with the error
    response = ops.post(
        reverse("admin:catalog_stockfeed_add"),
        {"shop": world.shop.pk, "source": "url", "url": url, "format": "csv", "interval_minutes": 60},
    )
    assert response.status_code == 200
    from catalog.models import StockFeed
    from shops.models import WebhookEndpoint

    assert not WebhookEndpoint.objects.exists() and not StockFeed.objects.exists()
    show = Show.objects.get(pk=world.upcoming.pk)
    assert show.playback_url == ""
