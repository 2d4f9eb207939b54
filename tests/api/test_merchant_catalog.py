"""Merchant catalog and stock endpoints: writes go through the catalog services and stock rules."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.models import Product, ProductImage, Stock, Variant
from catalog.stock import stock_allocate
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _png(name="p.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_create_product_then_variant_then_read_it_back(api, shop):
    created = api.post(
        "/api/v1/merchant/products/", {"title": "Kind of Blue", "status": "draft"}, format="json"
    )
    assert created.status_code == 201, created.content
    product = created.json()
    assert (
        product["shop"] == "vinyl-vault"
        and product["slug"] == "kind-of-blue"
        and product["status"] == "draft"
    )
    variant = api.post(
        "/api/v1/merchant/variants/",
        {
            "product": product["id"],
            "sku": "KOB-1",
            "price": "24.00",
            "on_hand": 7,
            "options": {"format": "LP"},
        },
        format="json",
    )
    assert variant.status_code == 201, variant.content
    assert variant.json()["on_hand"] == 7 and variant.json()["available"] == 7
    detail = api.get(f"/api/v1/merchant/products/{product['id']}/").json()
    assert [v["sku"] for v in detail["variants"]] == ["KOB-1"]
    assert Stock.objects.get(variant_id=variant.json()["id"]).on_hand == 7


def test_update_and_delete_product_and_variant(api, shop, variant):
    product_id = variant.product_id
    changed = api.patch(
        f"/api/v1/merchant/products/{product_id}/", {"title": "Blue Train (mono)"}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["title"] == "Blue Train (mono)"
    renamed = api.patch(
        f"/api/v1/merchant/variants/{variant.pk}/", {"price": "29.99", "name": "Mono"}, format="json"
    )
    assert renamed.json()["price"] == "29.99" and renamed.json()["name"] == "Mono"
    assert api.delete(f"/api/v1/merchant/variants/{variant.pk}/").status_code == 204
    assert api.delete(f"/api/v1/merchant/products/{product_id}/").status_code == 204
    assert not Product.objects.filter(pk=product_id).exists()


def test_duplicate_sku_and_slug_are_field_errors(api, shop, variant):
    other = ProductFactory(shop=shop, title="Other")
    body = assert_error(
        api.post(
            "/api/v1/merchant/variants/", {"product": other.pk, "sku": "BT-LP", "price": "1"}, format="json"
        ),
        400,
        "invalid",
    )
    assert "sku" in body["fields"]
    body = assert_error(
        api.patch(f"/api/v1/merchant/products/{other.pk}/", {"slug": variant.product.slug}, format="json"),
        400,
    )
    assert "slug" in body["fields"]


def test_bad_input_is_a_400_with_fields_and_changes_nothing(api, variant):
    body = assert_error(
        api.post(
            "/api/v1/merchant/variants/",
            {"product": variant.product_id, "sku": "", "price": "-1"},
            format="json",
        ),
        400,
        "invalid",
    )
    assert set(body["fields"]) >= {"sku", "price"}
    assert Variant.objects.count() == 1


def test_variant_with_allocated_units_cannot_be_deleted(api, variant):
    stock_allocate(lines=[(variant.pk, 2)])
    assert_error(api.delete(f"/api/v1/merchant/variants/{variant.pk}/"), 409, "stock_below_allocated")
    assert_error(api.delete(f"/api/v1/merchant/products/{variant.product_id}/"), 409, "stock_below_allocated")
    assert Variant.objects.filter(pk=variant.pk).exists()


def test_stock_set_and_adjust_follow_the_stock_rules(api, variant):
    stock_allocate(lines=[(variant.pk, 3)])
    url = f"/api/v1/merchant/stock/{variant.pk}/"
    assert api.get(url).json() == {
        "variant": variant.pk,
        "product": variant.product_id,
        "sku": "BT-LP",
        "on_hand": 5,
        "allocated": 3,
        "available": 2,
    }
    assert api.put(url, {"on_hand": 10}, format="json").json()["on_hand"] == 10
    body = assert_error(api.put(url, {"on_hand": 2}, format="json"), 409, "stock_below_allocated")
    assert "allocated" in body["message"]
    assert api.post(f"{url}adjust/", {"delta": -4}, format="json").json()["on_hand"] == 6
    assert_error(api.post(f"{url}adjust/", {"delta": -4}, format="json"), 409, "stock_below_allocated")
    assert_error(api.put(url, {"on_hand": -1}, format="json"), 400, "invalid")
    assert Stock.objects.get(variant_id=variant.pk).on_hand == 6


def test_stock_filter_by_level(api, shop):
    product = ProductFactory(shop=shop)
    sold_out = VariantFactory(product=product, on_hand=0)
    low = VariantFactory(product=product, on_hand=3)
    VariantFactory(product=product, on_hand=50)

    def ids(level):
        rows = api.get("/api/v1/merchant/stock/", {"level": level}).json()["results"]
        return [r["variant"] for r in rows]

    assert ids("sold_out") == [sold_out.pk]
    assert ids("low") == [low.pk]


def test_image_upload_is_validated_like_the_admin(api, variant):
    ok = api.post(
        "/api/v1/merchant/images/",
        {"product": variant.product_id, "image": _png(), "alt_text": "Front"},
        format="multipart",
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["alt_text"] == "Front"
    fake = SimpleUploadedFile("x.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/png")
    body = assert_error(
        api.post(
            "/api/v1/merchant/images/", {"product": variant.product_id, "image": fake}, format="multipart"
        ),
        400,
    )
    assert "image" in body["fields"]
    image_id = ok.json()["id"]
    assert (
        api.patch(f"/api/v1/merchant/images/{image_id}/", {"position": 3}, format="json").json()["position"]
        == 3
    )
    assert api.delete(f"/api/v1/merchant/images/{image_id}/").status_code == 204
    assert ProductImage.objects.count() == 0


def test_list_filters_and_ordering(api, shop):
    for title in ("Charlie", "Alpha", "Bravo"):
        ProductFactory(shop=shop, title=title)
    ProductFactory(shop=shop, title="Hidden draft", status=Product.Status.DRAFT)
    titles = [
        p["title"]
        for p in api.get("/api/v1/merchant/products/", {"ordering": "title", "status": "active"}).json()[
            "results"
        ]
    ]
    assert titles == ["Alpha", "Bravo", "Charlie"]
    assert api.get("/api/v1/merchant/products/", {"q": "draft"}).json()["count"] == 1


def test_merchant_product_list_runs_a_fixed_number_of_queries(api, shop, django_assert_max_num_queries):
    for n in range(2):
        VariantFactory(product=ProductFactory(shop=shop, title=f"A{n}"))
    api.get("/api/v1/merchant/products/")  # the key's first use writes last_used_at once
    with django_assert_max_num_queries(10):
        assert api.get("/api/v1/merchant/products/").status_code == 200
    for n in range(15):
        product = ProductFactory(shop=shop, title=f"B{n}")
        VariantFactory(product=product)
        VariantFactory(product=product)
    with django_assert_max_num_queries(10):
        assert api.get("/api/v1/merchant/products/").json()["count"] == 17
