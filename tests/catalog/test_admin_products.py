"""The product admin writes through catalog.services: it refuses what the merchant API refuses
(deleting a variant or product whose units are promised, a taken SKU), says why, and saves nothing
of the form when it does."""

from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.urls import reverse

from catalog.models import Product, Stock, Variant
from orders.models import Order, Reservation
from orders.services import reservation_create
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.orders.test_admin_orders import place_order

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:catalog_product_changelist")


def _change_url(product):
    return reverse("admin:catalog_product_change", args=[product.pk])


def _delete_url(product):
    return reverse("admin:catalog_product_delete", args=[product.pk])


def _messages(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def _variant_row(n: int, variant: Variant | None, **values) -> dict:
    stock = Stock.objects.filter(variant=variant).first() if variant else None
    row = {
        "id": variant.pk if variant else "",
        "product": variant.product_id if variant else "",
        "sku": variant.sku if variant else "",
        "name": variant.name if variant else "",
        "price": str(variant.price) if variant else "",
        "compare_at_price": "",
        "weight_grams": str(variant.weight_grams) if variant else "0",
        "position": str(variant.position) if variant else "0",
        "on_hand": str(stock.on_hand) if stock else "",
    }
    row.update(values)
    return {f"variants-{n}-{name}": value for name, value in row.items()}


def _product_form(product: Product, rows: list[dict], **overrides) -> dict:
    """The change form as the browser posts it; `rows` from _variant_row."""
    existing = sum(1 for row in rows for key, value in row.items() if key.endswith("-id") and value)
    data = {
        "title": product.title,
        "slug": product.slug,
        "description": product.description,
        "status": product.status,
        "variants-TOTAL_FORMS": str(len(rows)),
        "variants-INITIAL_FORMS": str(existing),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for row in rows:
        data.update(row)
    data.update(overrides)
    return data


@pytest.fixture
def two_variants(shop):
    product = ProductFactory(shop=shop, title="A Love Supreme LP")
    held = VariantFactory(product=product, sku="ALS-180", name="180g", price="34.00", on_hand=4, position=0)
    free = VariantFactory(
        product=product, sku="ALS-STD", name="Standard", price="24.00", on_hand=9, position=1
    )
    return product, held, free


def test_deleting_a_variant_held_for_a_shopper_is_refused_and_nothing_of_the_form_is_saved(
    client, merchant, shopper, two_variants
):
    product, held, free = two_variants
    reservation_create(user=shopper, variant_id=held.pk, quantity=1)
    client.force_login(merchant)

    response = client.post(
        _change_url(product),
        _product_form(
            product,
            [_variant_row(0, held, DELETE="on"), _variant_row(1, free, price="19.00", on_hand="20")],
            title="Renamed in the same form",
        ),
    )

    assert response.status_code == 302 and response.url == _change_url(product)
    assert _messages(response) == [
        (
            "error",
            "Nothing was saved. Variant ALS-180 can't be deleted: 1 unit is promised to orders or holds. "
            "Archive the product instead.",
        )
    ]
    assert Variant.objects.filter(pk=held.pk).exists()
    free.refresh_from_db()
    product.refresh_from_db()
    assert free.price == Decimal("24.00") and Stock.objects.get(variant=free).on_hand == 9
    assert product.title == "A Love Supreme LP"
    assert (Stock.objects.get(variant=held).on_hand, Stock.objects.get(variant=held).allocated) == (4, 1)


def test_deleting_a_variant_sold_to_a_paid_order_is_refused(client, merchant, shopper, two_variants):
    product, held, free = two_variants
    place_order(shopper, held, quantity=2)
    client.force_login(merchant)

    response = client.post(
        _change_url(product),
        _product_form(product, [_variant_row(0, held, DELETE="on"), _variant_row(1, free)]),
    )

    assert response.status_code == 302
    assert "2 units are promised to orders or holds" in _messages(response)[0][1]
    assert Variant.objects.filter(pk=held.pk).exists()


def test_merchant_edits_deletes_and_adds_variants_in_one_save(client, merchant, two_variants):
    product, held, free = two_variants
    client.force_login(merchant)

    response = client.post(
        _change_url(product),
        _product_form(
            product,
            [
                _variant_row(0, held, DELETE="on"),
                _variant_row(1, free, price="19.00", on_hand="20"),
                _variant_row(2, None, sku="ALS-180", name="Reissue", price="36.00", on_hand="3"),
            ],
        ),
    )

    assert response.status_code == 302, [
        (f.formset.errors, f.formset.non_form_errors()) for f in response.context["inline_admin_formsets"]
    ]
    assert [level for level, _ in _messages(response)] == ["success"]
    assert not Variant.objects.filter(pk=held.pk).exists()  # its SKU is free for the new row
    free.refresh_from_db()
    assert free.price == Decimal("19.00") and Stock.objects.get(variant=free).on_hand == 20
    reissue = Variant.objects.get(product=product, sku="ALS-180")
    assert (reissue.name, reissue.shop_id, Stock.objects.get(variant=reissue).on_hand) == (
        "Reissue",
        product.shop_id,
        3,
    )


def test_a_sku_taken_in_the_shop_is_an_error_on_its_row(client, merchant, shop, two_variants):
    product, held, free = two_variants
    VariantFactory(product=ProductFactory(shop=shop), sku="TAKEN-1")
    client.force_login(merchant)

    response = client.post(
        _change_url(product),
        _product_form(
            product,
            [
                _variant_row(0, held),
                _variant_row(1, free, sku="TAKEN-1"),
                _variant_row(2, None, sku="TAKEN-1", price="5"),
            ],
        ),
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Another variant of this shop already has SKU TAKEN-1." in html
    free.refresh_from_db()
    assert free.sku == "ALS-STD" and product.variants.count() == 2


def test_lowering_on_hand_below_what_is_held_is_a_form_error(client, merchant, shopper, two_variants):
    product, held, free = two_variants
    reservation_create(user=shopper, variant_id=held.pk, quantity=3)
    client.force_login(merchant)

    response = client.post(
        _change_url(product),
        _product_form(product, [_variant_row(0, held, on_hand="1"), _variant_row(1, free)]),
    )

    assert response.status_code == 200
    assert "3 units are allocated to orders; on hand can&#x27;t be lower." in response.content.decode()
    assert Stock.objects.get(variant=held).on_hand == 4


@pytest.fixture
def ops(db):
    from tests.shops.factories import UserFactory

    return UserFactory(username="ops_user", is_superuser=True)


REFUSED_DELETE = (
    "error",
    "Nothing was deleted. A Love Supreme LP can't be deleted: 1 unit is promised to orders or holds. "
    "Archive it instead.",
)


def test_deleting_a_product_with_units_sold_to_a_paid_order_is_refused(
    client, ops, merchant, shopper, two_variants
):
    product, held, free = two_variants
    place_order(shopper, held)
    client.force_login(merchant)  # a merchant may not delete the variants' stock rows: Django says no
    assert client.post(_delete_url(product), {"post": "yes"}).status_code == 403
    client.force_login(ops)

    assert client.get(_delete_url(product)).status_code == 200
    response = client.post(_delete_url(product), {"post": "yes"})

    assert response.status_code == 302 and response.url == _change_url(product)
    assert _messages(response) == [REFUSED_DELETE]
    assert Product.objects.filter(pk=product.pk).exists() and product.variants.count() == 2
    assert Order.objects.get().status == Order.Status.PAID
    assert Stock.objects.get(variant=held).allocated == 1


def test_bulk_delete_is_all_or_nothing(client, ops, shop, shopper, two_variants):
    product, held, free = two_variants
    unsold = VariantFactory(product=ProductFactory(shop=shop, title="Unsold"), sku="UNSOLD").product
    place_order(shopper, held)
    client.force_login(ops)

    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [unsold.pk, product.pk], "post": "yes"}
    )

    assert response.status_code == 302
    assert _messages(response) == [REFUSED_DELETE]
    assert Product.objects.filter(pk__in=[unsold.pk, product.pk]).count() == 2
    assert not LogEntry.objects.exists()  # the deletion log rolled back with the rest


def test_products_nobody_is_waiting_for_are_deleted(client, ops, merchant, shop, two_variants):
    product, held, free = two_variants
    empty = ProductFactory(shop=shop, title="Nothing in it yet")
    client.force_login(merchant)

    response = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [empty.pk], "post": "yes"}
    )
    assert ("success", "Successfully deleted 1 product.") in _messages(response)
    assert not Product.objects.filter(pk=empty.pk).exists()

    client.force_login(ops)
    response = client.post(_delete_url(product), {"post": "yes"})
    assert response.status_code == 302 and not Product.objects.filter(pk=product.pk).exists()
    assert not Variant.objects.filter(pk__in=[held.pk, free.pk]).exists()


def test_a_product_stays_in_its_shop_and_a_taken_slug_is_a_form_error(client, merchant, shop, two_variants):
    from shops.services import shop_create

    product, held, free = two_variants
    second = shop_create(owner=merchant, name="Second Spin", slug="second-spin")
    ProductFactory(shop=shop, title="Taken", slug="taken")
    client.force_login(merchant)
    rows = [_variant_row(0, held), _variant_row(1, free)]

    response = client.post(_change_url(product), _product_form(product, rows, slug="taken"))
    assert response.status_code == 200
    assert "Another product of this shop already has the slug taken." in response.content.decode()

    response = client.post(_change_url(product), _product_form(product, rows, shop=second.pk, title="Moved?"))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.shop_id, product.title) == (shop.pk, "Moved?")


def test_another_shops_product_is_a_404_for_change_and_delete(
    client, other_merchant, other_shop, two_variants
):
    product, held, free = two_variants
    client.force_login(other_merchant)

    assert (
        client.post(
            _change_url(product), _product_form(product, [_variant_row(0, held, DELETE="on")])
        ).status_code
        == 404
    )
    assert client.post(_delete_url(product), {"post": "yes"}).status_code == 404
    assert Variant.objects.filter(pk=held.pk).exists()


def test_stock_admin_refuses_on_hand_below_allocated_and_saves_nothing(
    client, merchant, shopper, two_variants
):
    product, held, free = two_variants
    reservation_create(user=shopper, variant_id=held.pk, quantity=3)
    client.force_login(merchant)
    url = reverse("admin:catalog_stock_change", args=[Stock.objects.get(variant=held).pk])

    response = client.post(url, {"on_hand": "2"})

    assert response.status_code == 302 and response.url == url
    assert _messages(response) == [
        ("error", "Nothing was saved. On hand can't go below the 3 units allocated to orders.")
    ]
    assert Stock.objects.get(variant=held).on_hand == 4
    response = client.post(url, {"on_hand": "7"})
    assert response.status_code == 302 and Stock.objects.get(variant=held).on_hand == 7


@pytest.mark.django_db(transaction=True)
def test_a_hold_racing_the_admins_delete_either_wins_or_is_refused_never_lost(merchant, shop):
    import time
    from functools import partial

    from django.test import Client

    from tests.concurrency import race
    from tests.shops.factories import UserFactory

    def hold_after(delay: float, **kwargs):
        time.sleep(delay)  # staggered so that both orders of arrival happen
        return reservation_create(**kwargs)

    rounds = []
    for n, delay in enumerate((0, 0.02, 0.05, 0.1, 0.2, 0.4)):
        product = ProductFactory(shop=shop, title=f"Race {n}")
        keep = VariantFactory(product=product, sku=f"RACE-{n}-KEEP", on_hand=1)
        doomed = VariantFactory(product=product, sku=f"RACE-{n}", on_hand=1)
        admin, buyer = Client(), UserFactory()
        admin.force_login(merchant)
        form = _product_form(product, [_variant_row(0, keep), _variant_row(1, doomed, DELETE="on")])
        delete = partial(admin.post, _change_url(product), form)
        hold = partial(hold_after, delay, user=buyer, variant_id=doomed.pk)
        rounds.append((delete, hold, doomed, buyer))

    for delete, hold, doomed, buyer in rounds:
        response, held = race([delete, hold])

        assert response.status_code == 302
        still_there = Variant.objects.filter(pk=doomed.pk).exists()
        if isinstance(held, Exception):  # the delete went first: the buyer was told, nothing held
            assert not still_there and not Reservation.objects.filter(user=buyer).exists()
        else:  # the hold went first: the delete was refused and the unit stays held
            assert still_there and Stock.objects.get(variant=doomed).allocated == 1
            assert Reservation.objects.get(user=buyer).status == Reservation.Status.ACTIVE
