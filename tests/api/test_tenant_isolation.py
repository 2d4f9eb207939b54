"""Walks every merchant route of the API router with shop A's key against shop B's objects.

Every detail route (read, change, delete and each action) must answer 404 and change nothing;
every list must leave B's rows out; every create must refuse references to B's rows. A merchant
route added without a rule below fails `test_every_merchant_route_has_a_rule`.
"""

import io
import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog.models import InventorySyncRun, Product, ProductImage, Stock, Variant
from catalog.services import product_image_add
from config.api_urls import router
from orders.models import Order
from shops.models import ApiKey, WebhookDelivery, WebhookEndpoint
from shows.models import LineupItem, Lot, Show
from shows.services import show_create
from tests.api.conftest import key_client, place_order
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.shops.factories import ShopFactory, UserFactory

# basename -> how to find shop B's object for its detail routes
DETAIL_LOOKUPS = {
    "merchant-product": lambda w: w["product"].pk,
    "merchant-variant": lambda w: w["variant"].pk,
    "merchant-image": lambda w: w["image"].pk,
    "merchant-stock": lambda w: w["variant"].pk,
    "merchant-order": lambda w: w["order"].number,
    "merchant-show": lambda w: w["show"].pk,
    "merchant-webhook-endpoint": lambda w: w["endpoint"].pk,
    "merchant-webhook-delivery": lambda w: w["delivery"].pk,
    "merchant-sync-run": lambda w: w["sync_run"].pk,
}
# basename -> a create body that points at shop B's rows (must be refused, nothing created)
FOREIGN_CREATES = {
    "merchant-product": lambda w: {"title": "Hijack", "shop": w["shop"].slug},
    "merchant-variant": lambda w: {"product": w["product"].pk, "sku": "HIJACK", "price": "1.00"},
    "merchant-image": lambda w: {"product": w["product"].pk, "image": _png()},
    "merchant-show": lambda w: {
        "title": "Hijack",
        "scheduled_start": timezone.now().isoformat(),
        "products": [w["product"].pk],
    },
    "merchant-webhook-endpoint": lambda w: {
        "url": "https://example.com/hook",
        "events": ["order.paid"],
        "shop": w["shop"].slug,
    },
    "merchant-sync-run": lambda w: {"shop": w["shop"].slug, "dry_run": True},
}
# One body that would be valid for any write, so a 404 is the scoping and not a validation error.
ANY_WRITE = {
    "title": "Hijacked",
    "on_hand": 1,
    "delta": 1,
    "tracking_number": "HIJACK",
    "carrier": "X",
    "amount": "1.00",
    "reason": "hijack",
    "price": "1.00",
    "units": 1,
    "quantity": 1,
    "alt_text": "hijack",
    "url": "https://example.com/hijack",
    "events": ["order.paid"],
    "is_active": False,
    "starting_price": "1.00",
    "dry_run": True,
}


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


def _merchant_patterns():
    """(basename, url name, {method: action}, lookup kwarg or None) for every merchant route."""
    found = []
    for pattern in router.urls:
        callback = pattern.callback
        if "format" in pattern.pattern.regex.groupindex or not hasattr(callback, "cls"):
            continue
        basename = next((b for p, _, b in router.registry if pattern.name.startswith(b + "-")), None)
        if basename is None or not basename.startswith("merchant-"):
            continue
        lookups = [g for g in pattern.pattern.regex.groupindex if g != "format"]
        found.append((basename, pattern.name, dict(callback.actions), lookups[0] if lookups else None))
    return found


PATTERNS = _merchant_patterns()
DETAIL_CASES = [
    (basename, name, method, lookup)
    for basename, name, actions, lookup in PATTERNS
    if lookup
    for method in actions
]
LIST_NAMES = [
    (basename, name) for basename, name, actions, lookup in PATTERNS if not lookup and "get" in actions
]
CREATE_NAMES = [
    (basename, name) for basename, name, actions, lookup in PATTERNS if not lookup and "post" in actions
]


def test_every_merchant_route_has_a_rule():
    basenames = {basename for basename, *_ in PATTERNS}
    assert basenames, "the router has no merchant routes?"
    assert basenames - set(DETAIL_LOOKUPS) == set(), "add a DETAIL_LOOKUPS rule for the new route"
    assert {b for b, _ in CREATE_NAMES} - set(FOREIGN_CREATES) == set(), "add a FOREIGN_CREATES rule"
    assert len(DETAIL_CASES) >= 20


def _world(shop, owner, buyer):
    from catalog.sync.services import inventory_sync_run_create
    from shops.apikeys import api_key_create
    from shops.webhooks import webhook_endpoint_create

    product = ProductFactory(shop=shop, title=f"{shop.slug} product")
    variant = VariantFactory(product=product, on_hand=10)
    image = product_image_add(product=product, image=_png())
    endpoint = webhook_endpoint_create(shop=shop, url="https://127.0.0.1:9/hooks", events=["order.paid"])
    order = place_order(buyer, variant)
    show = show_create(
        shop=shop,
        title=f"{shop.slug} show",
        scheduled_start=timezone.now() + timedelta(days=1),
        products=[product],
    )
    api_key_create(shop=shop, name="theirs", created_by=owner)
    sync_run = inventory_sync_run_create(shop=shop, trigger="api")
    return {
        "sync_run": sync_run,
        "shop": shop,
        "product": product,
        "variant": variant,
        "image": image,
        "order": order,
        "show": show,
        "endpoint": endpoint,
        "delivery": WebhookDelivery.objects.filter(endpoint=endpoint).first(),
    }


@pytest.fixture
def worlds(db, django_capture_on_commit_callbacks):
    owner_a, owner_b, buyer = UserFactory(), UserFactory(), UserFactory()
    shop_a = ShopFactory(owner=owner_a, slug="alpha")
    shop_b = ShopFactory(owner=owner_b, slug="bravo")
    with django_capture_on_commit_callbacks(execute=True):
        own = _world(shop_a, owner_a, buyer)
        foreign = _world(shop_b, owner_b, buyer)
    assert foreign["delivery"] is not None
    return {"client": key_client(shop_a, owner_a), "own": own, "foreign": foreign}


def _snapshot(shop):
    """Everything of shop B that an API write could touch."""
    return {
        "products": list(Product.objects.filter(shop=shop).order_by("pk").values()),
        "variants": list(Variant.objects.filter(shop=shop).order_by("pk").values()),
        "stock": list(Stock.objects.filter(variant__shop=shop).order_by("pk").values()),
        "images": list(
            ProductImage.objects.filter(product__shop=shop)
            .order_by("pk")
            .values("pk", "alt_text", "position")
        ),
        "orders": list(
            Order.objects.filter(shop=shop)
            .order_by("pk")
            .values("pk", "status", "refunded_total", "shipment_id")
        ),
        "shows": list(Show.objects.filter(shop=shop).order_by("pk").values()),
        "lineup": list(LineupItem.objects.filter(show__shop=shop).order_by("pk").values()),
        "endpoints": list(WebhookEndpoint.objects.filter(shop=shop).order_by("pk").values()),
        "deliveries": list(
            WebhookDelivery.objects.filter(endpoint__shop=shop)
            .order_by("pk")
            .values("pk", "status", "attempts")
        ),
        "sync_runs": list(InventorySyncRun.objects.filter(shop=shop).order_by("pk").values("pk", "status")),
        "lots": list(Lot.objects.filter(show__shop=shop).order_by("pk").values("pk", "status")),
        "keys": list(ApiKey.objects.filter(shop=shop).order_by("pk").values("pk", "revoked_at", "name")),
    }


@pytest.mark.parametrize(
    ("basename", "name", "method", "lookup"), DETAIL_CASES, ids=[f"{c[1]}-{c[2]}" for c in DETAIL_CASES]
)
def test_another_shops_object_is_404_on_every_detail_route(worlds, basename, name, method, lookup):
    client, foreign = worlds["client"], worlds["foreign"]
    before = _snapshot(foreign["shop"])
    url = reverse(name, kwargs={lookup: DETAIL_LOOKUPS[basename](foreign)})
    response = getattr(client, method)(url, ANY_WRITE, format="json") if method != "get" else client.get(url)
    assert response.status_code == 404, (url, method, response.status_code, response.content[:300])
    assert response.json()["code"] == "not_found"
    assert _snapshot(foreign["shop"]) == before
    # The same route on A's own object is reachable (the 404 above is the scoping, not a broken route).
    own_url = reverse(name, kwargs={lookup: DETAIL_LOOKUPS[basename](worlds["own"])})
    if method == "get":
        assert client.get(own_url).status_code == 200


@pytest.mark.parametrize(("basename", "name"), LIST_NAMES, ids=[n for _, n in LIST_NAMES])
def test_lists_never_contain_another_shops_rows(worlds, basename, name):
    client, own, foreign = worlds["client"], worlds["own"], worlds["foreign"]
    body = client.get(reverse(name), {"page_size": 100}).json()
    text = repr(body["results"])
    assert body["results"], "A's own rows should be listed"
    assert foreign["shop"].slug not in text and "bravo" not in text
    foreign_id = DETAIL_LOOKUPS[basename](foreign)
    keys = ("id", "number", "variant")
    listed = {row.get(k) for row in body["results"] for k in keys if k in row}
    assert foreign_id not in listed
    assert DETAIL_LOOKUPS[basename](own) in listed


@pytest.mark.parametrize(("basename", "name"), CREATE_NAMES, ids=[n for _, n in CREATE_NAMES])
def test_creates_refuse_another_shops_rows(worlds, basename, name):
    client, foreign = worlds["client"], worlds["foreign"]
    before = _snapshot(foreign["shop"])
    body = FOREIGN_CREATES[basename](foreign)
    fmt = "multipart" if any(hasattr(v, "read") for v in body.values()) else "json"
    response = client.post(reverse(name), body, format=fmt, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code in (400, 404), (name, response.status_code, response.content[:300])
    assert _snapshot(foreign["shop"]) == before
    assert re.search(r"shop|product|exist", response.content.decode(), re.I)


def test_shopper_routes_are_scoped_to_the_user(worlds):
    """/me/ routes answer only for a signed-in person; a key gets 403 and never sees carts."""
    client = worlds["client"]
    assert client.get("/api/v1/me/orders/").status_code == 403
    assert client.get("/api/v1/me/cart/").status_code == 403
