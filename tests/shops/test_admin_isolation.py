"""Walks every registered ModelAdmin: merchant A can never list, view, change or delete shop B's rows.

A new shop-owned model registered without ShopScopedAdminMixin fails
`test_every_shop_owned_admin_is_scoped`; the other tests then prove the scoping holds per URL.
"""

import io
import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from catalog.models import InventorySyncRun, StockFeed
from catalog.services import product_image_add
from catalog.sync.services import inventory_sync_now
from orders.models import Order, ShippingMethod
from orders.services import (
    address_save,
    cart_add,
    cart_get_or_create,
    checkout_complete,
    order_mark_delivered,
    order_refund,
    order_ship,
    payment_method_save,
    reservation_create,
    review_save,
    waitlist_join,
)
from shops.admin_scoping import ShopScopedAdminMixin
from shops.apikeys import api_key_create
from shops.models import Shop
from shops.services import shop_follow
from shops.webhooks import webhook_endpoint_create
from shows.auctions import bid_place, lot_start
from shows.models import BlockedWord, ShowRole
from shows.services import (
    chat_post,
    deal_start,
    giveaway_start,
    show_create,
    show_end,
    show_go_live,
    show_pin_product,
    show_remind,
    viewer_ban,
    viewer_mute,
)
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.orders.test_services_checkout import ADDRESS
from tests.shops.factories import ShopFactory, UserFactory


def shop_path_for(model, depth: int = 0) -> str | None:
    """The lookup from `model` to its Shop through forward foreign keys, or None if it has none."""
    if model is Shop:
        return "pk"
    forward = [f for f in model._meta.get_fields() if (f.many_to_one or f.one_to_one) and f.concrete]
    for field in forward:
        if field.related_model is Shop:
            return field.name
    if depth < 3:
        for field in forward:
            sub = shop_path_for(field.related_model, depth + 1)
            if sub:
                return f"{field.name}__{sub}" if sub != "pk" else field.name
    return None


SHOP_OWNED_ADMINS = [
    (model, model_admin) for model, model_admin in admin.site._registry.items() if shop_path_for(model)
]


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


def _populate(shop, owner, buyer):
    """One of everything a shop owns, made through the services (a shipping method, a blocked word
    and a show role have none yet)."""
    # API key and webhook endpoint first, so the order below makes a delivery (to a refused loopback
    # address: it fails at once, without network, and stays in the log).
    api_key_create(shop=shop, name=f"{shop.name} key", created_by=owner)
    webhook_endpoint_create(shop=shop, url="https://127.0.0.1:9/hooks", events=["order.paid"])
    product = ProductFactory(shop=shop, title=f"{shop.name} product")
    variant = VariantFactory(product=product, on_hand=5)
    held = VariantFactory(product=product, on_hand=5)
    sold_out = VariantFactory(product=product, on_hand=0)
    product_image_add(product=product, image=_png(), alt_text="photo")
    # A stock feed (the admin writes feeds; no service does) and one recorded sync run.
    StockFeed.objects.create(
        shop=shop, file=ContentFile(f"sku,quantity\n{variant.sku},7\n".encode(), name="f.csv")
    )
    inventory_sync_now(shop=shop, trigger=InventorySyncRun.Trigger.ADMIN, started_by=owner)
    method = ShippingMethod.objects.create(shop=shop, name="Tracked", price=Decimal("4.00"))
    show = show_go_live(
        show=show_create(
            shop=shop, title=f"{shop.name} show", scheduled_start=timezone.now(), products=[product]
        )
    )
    chat_post(show=show, user=buyer, text=f"hello {shop.name}")
    # The hold sits in the cart, so this checkout buys it (the reservation becomes "bought").
    reservation_create(user=buyer, variant_id=held.pk, quantity=1)
    waitlist_join(user=buyer, variant_id=sold_out.pk)
    cart = cart_get_or_create(user=buyer)

    def buy_one() -> Order:
        cart_add(cart=cart, variant_id=variant.pk, quantity=1)
        (placed,) = checkout_complete(
            user=buyer,
            cart=cart,
            checkout_key=uuid.uuid4(),
            email=buyer.email,
            address=ADDRESS,
            card_number="4242424242424242",
            shipping={shop.pk: method.pk},
        )
        return placed

    order = buy_one()
    order_refund(order=order, actor=owner, amount=Decimal("1.00"), reason="Scuffed sleeve")
    shop_follow(user=buyer, shop=shop)
    # A second order, shipped and delivered, that the buyer reviewed (the shop's Review row).
    reviewed = buy_one()
    order_ship(order=reviewed, actor=owner, carrier="Post", tracking_number=f"TRK-{shop.pk}")
    order_mark_delivered(order=reviewed, actor=owner)
    review_save(user=buyer, order_number=reviewed.number, rating=4, text=f"Good packing, {shop.name}")

    # The room: a co-host, moderation, a pin, a flash deal and a giveaway, then the end (and summary).
    BlockedWord.objects.create(shop=shop, word="spam")
    ShowRole.objects.create(show=show, user=UserFactory(), role=ShowRole.Role.COHOST)
    troll = UserFactory()
    viewer_mute(show=show, user=owner, target_id=troll.pk)
    viewer_ban(show=show, user=owner, target_id=troll.pk, reason="spam")
    show_pin_product(show=show, user=owner, product_id=product.pk)
    deal_start(show=show, user=owner, variant_id=variant.pk, price="9.00", units=2)
    giveaway_start(show=show, user=owner, variant_id=variant.pk)
    address_save(user=buyer, data=ADDRESS)
    payment_method_save(user=buyer, card_number="4242424242424242")
    lot = lot_start(show=show, user=owner, variant_id=variant.pk, starting_price="5.00")
    bid_place(show=show, user=buyer, lot_id=lot.pk, amount="5.00")
    show_end(show=show, user=owner)  # closes the lot to the buyer
    later = show_create(
        shop=shop, title=f"{shop.name} next show", scheduled_start=timezone.now() + timezone.timedelta(days=1)
    )
    show_remind(show=later, user=buyer)
    # Orders, their events and the parcel (Shipment) appear when the on-commit fulfilment runs, and so
    # does the show's summary (show_end). Eager Celery ignores the timers' eta: the deal timer finds
    # nothing due (show_end closed the deal already) and the giveaway is drawn at once, with no
    # entries, so it is cancelled; both rows stay.


@pytest.fixture
def two_shops(db, django_capture_on_commit_callbacks):
    owner_a, owner_b, buyer = UserFactory(username="owner_a"), UserFactory(username="owner_b"), UserFactory()
    shop_a = ShopFactory(owner=owner_a, name="Alpha Records", slug="alpha")
    shop_b = ShopFactory(owner=owner_b, name="Bravo Kicks", slug="bravo")
    with django_capture_on_commit_callbacks(execute=True):
        _populate(shop_a, owner_a, buyer)
        _populate(shop_b, owner_b, buyer)
    return {"merchant": owner_a, "own": shop_a, "foreign": shop_b}


def _rows_of(model, model_admin, shop):
    return list(model.objects.filter(**{model_admin.shop_path: shop.pk}))


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_shop_owned_admin_is_scoped():
    unscoped = [m.__name__ for m, a in SHOP_OWNED_ADMINS if not isinstance(a, ShopScopedAdminMixin)]
    assert unscoped == [], f"register these with ShopScopedModelAdmin: {unscoped}"
    for model, model_admin in SHOP_OWNED_ADMINS:
        for inline in model_admin.inlines:
            if shop_path_for(inline.model):
                assert issubclass(inline, ShopScopedAdminMixin), f"{model.__name__} inline {inline.__name__}"


def test_the_walk_covers_the_models_merchants_use():
    names = {model.__name__ for model, _ in SHOP_OWNED_ADMINS}
    assert {"Shop", "Product", "Stock", "Order", "Show", "ChatMessage", "ShopMembership", "Follow"} <= names


@pytest.mark.parametrize(
    ("model", "model_admin"), SHOP_OWNED_ADMINS, ids=[m.__name__ for m, _ in SHOP_OWNED_ADMINS]
)
def test_merchant_cannot_reach_another_shops_rows(client, two_shops, model, model_admin):
    client.force_login(two_shops["merchant"])
    foreign_rows = _rows_of(model, model_admin, two_shops["foreign"])
    own_rows = _rows_of(model, model_admin, two_shops["own"])
    assert foreign_rows and own_rows, "the fixture must give both shops a row of every kind"
    can_view = model_admin.has_view_permission(_request_for(two_shops["merchant"]))

    listing = client.get(_url(model, "changelist"))
    if can_view:
        html = listing.content.decode()
        assert listing.status_code == 200
        assert _url(model, "change", own_rows[0].pk) in html
        for row in foreign_rows:
            assert _url(model, "change", row.pk) not in html
    else:
        assert listing.status_code == 403

    for row in foreign_rows:
        for view in ("change", "delete", "history"):
            response = client.get(_url(model, view, row.pk))
            assert response.status_code in ((404,) if can_view else (403, 404)), (view, response.status_code)
        assert client.post(_url(model, "change", row.pk), {}).status_code in (403, 404)
        assert client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code in (403, 404)

    # The bulk delete action with foreign ids deletes nothing.
    client.post(
        _url(model, "changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in foreign_rows], "post": "yes"},
    )
    assert len(_rows_of(model, model_admin, two_shops["foreign"])) == len(foreign_rows)


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.mark.parametrize(
    ("model", "model_admin"), SHOP_OWNED_ADMINS, ids=[m.__name__ for m, _ in SHOP_OWNED_ADMINS]
)
def test_add_forms_offer_only_own_shop_choices(client, two_shops, model, model_admin):
    client.force_login(two_shops["merchant"])
    response = client.get(_url(model, "add"))
    if response.status_code == 403:
        return
    html = response.content.decode()
    assert "Bravo Kicks" not in html
    assert f'value="{two_shops["foreign"].pk}"' not in html or model is not Shop


def test_autocomplete_returns_only_own_products(client, two_shops):
    client.force_login(two_shops["merchant"])
    response = client.get(
        "/admin/autocomplete/",
        {"term": "product", "app_label": "shows", "model_name": "show", "field_name": "products"},
    )
    assert response.status_code == 200
    titles = [r["text"] for r in response.json()["results"]]
    assert titles == ["Alpha Records product"]


def test_raw_id_lookup_popup_lists_only_own_rows(client, two_shops):
    client.force_login(two_shops["merchant"])
    html = client.get(_url(Shop, "changelist"), {"_popup": "1", "_to_field": "id"}).content.decode()
    assert "Alpha Records" in html and "Bravo Kicks" not in html
