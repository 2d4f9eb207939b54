"""The public, read-only API: active shops, products for sale, shows live now and upcoming."""

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import Product
from shops.services import shop_set_status
from shows.services import show_create, show_end, show_go_live
from tests.api.conftest import assert_error
from tests.catalog.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def test_shops_lists_only_active_shops(anon, shop, other_shop):
    shop_set_status(shop=other_shop, status="suspended")
    response = anon.get("/api/v1/public/shops/")
    assert response.status_code == 200
    assert [s["slug"] for s in response.json()["results"]] == ["vinyl-vault"]
    assert anon.get("/api/v1/public/shops/vinyl-vault/").json()["name"] == "Vinyl Vault"
    assert_error(anon.get("/api/v1/public/shops/sneaker-sanctum/"), 404, "not_found")


def test_products_show_only_what_is_for_sale_with_variants_and_stock(anon, shop, variant):
    ProductFactory(shop=shop, title="Draft thing", status=Product.Status.DRAFT)
    body = anon.get("/api/v1/public/products/").json()
    assert body["count"] == 1
    (product,) = body["results"]
    assert product["title"] == "Blue Train LP" and product["shop"] == "vinyl-vault"
    assert product["currency"] == "USD" and product["min_price"] == "31.50"
    assert product["variants"] == [
        {
            "id": variant.pk,
            "sku": "BT-LP",
            "name": "180g",
            "options": {},
            "price": "31.50",
            "compare_at_price": None,
            "available": 5,
        }
    ]


def test_products_filter_order_and_paginate(anon, shop, other_shop):
    for n, price in enumerate(["5.00", "15.00", "25.00"]):
        VariantFactory(product=ProductFactory(shop=shop, title=f"LP {n}"), price=price, on_hand=n)
    VariantFactory(product=ProductFactory(shop=other_shop, title="Runner"), price="99.00")
    by_price = anon.get("/api/v1/public/products/", {"shop": "vinyl-vault", "ordering": "-min_price"}).json()
    assert [p["title"] for p in by_price["results"]] == ["LP 2", "LP 1", "LP 0"]
    in_stock = anon.get("/api/v1/public/products/", {"in_stock": "true", "max_price": "20"}).json()
    assert [p["title"] for p in in_stock["results"]] == ["LP 1"]
    page = anon.get("/api/v1/public/products/", {"page_size": 2, "ordering": "title"}).json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    second = anon.get(page["next"]).json()
    assert [p["title"] for p in second["results"]] == ["LP 2", "Runner"]


def test_public_product_list_runs_a_fixed_number_of_queries(anon, shop, django_assert_max_num_queries):
    for n in range(3):
        VariantFactory(product=ProductFactory(shop=shop, title=f"A{n}"))
    with django_assert_max_num_queries(6):
        assert anon.get("/api/v1/public/products/").status_code == 200
    for n in range(20):
        VariantFactory(product=ProductFactory(shop=shop, title=f"B{n}"))
    with django_assert_max_num_queries(6):
        assert anon.get("/api/v1/public/products/").status_code == 200


def test_shows_lists_live_and_upcoming_only(anon, shop):
    now = timezone.now()
    live = show_go_live(show=show_create(shop=shop, title="Live now", scheduled_start=now))
    upcoming = show_create(shop=shop, title="Tomorrow", scheduled_start=now + timedelta(days=1))
    ended = show_end(show=show_go_live(show=show_create(shop=shop, title="Done", scheduled_start=now)))
    listed = {s["title"] for s in anon.get("/api/v1/public/shows/").json()["results"]}
    assert listed == {"Live now", "Tomorrow"}
    assert [s["id"] for s in anon.get("/api/v1/public/shows/", {"status": "live"}).json()["results"]] == [
        live.pk
    ]
    assert anon.get(f"/api/v1/public/shows/{upcoming.pk}/").json()["status"] == "scheduled"
    assert_error(anon.get(f"/api/v1/public/shows/{ended.pk}/"), 404)


def test_errors_share_one_shape(anon):
    assert_error(anon.get("/api/v1/no/such/thing/"), 404, "not_found")
    assert_error(anon.post("/api/v1/public/shops/", {}, format="json"), 405, "method_not_allowed")
    assert_error(anon.get("/api/v1/public/products/", {"min_price": "cheap"}), 400, "invalid")
    assert_error(anon.get("/api/v1/public/products/", {"page": 99}), 404, "not_found")
    body = assert_error(anon.get("/api/v1/public/shows/", {"status": "bogus"}), 400, "invalid")
    assert "status" in body["fields"]


@pytest.fixture
def vinyl_catalogue(shop, other_shop):
    """Products that match "vinyl" by shop name (Vinyl Vault), by description and by title, and two
    that don't (a draft, and one in another shop saying nothing about vinyl)."""
    for title in ("Blue Train", "Kind of Blue", "Giant Steps"):
        VariantFactory(product=ProductFactory(shop=shop, title=title, description="A fine record."))
    VariantFactory(
        product=ProductFactory(shop=other_shop, title="Sneaker toy", description="Soft vinyl figure.")
    )
    VariantFactory(product=ProductFactory(shop=other_shop, title="Vinyl laces", description="Shiny."))
    VariantFactory(product=ProductFactory(shop=other_shop, title="Runner", description="Trainers."))
    VariantFactory(product=ProductFactory(shop=shop, title="Vinyl draft", status=Product.Status.DRAFT))


@pytest.mark.parametrize("query", ["vinyl", "trains", "blue record", "nothing-like-it"])
def test_api_search_finds_what_the_search_page_finds(client, anon, vinyl_catalogue, query):
    page = [p.title for p in client.get("/search/", {"q": query}).context["results"]]
    api = [p["title"] for p in anon.get("/api/v1/public/products/", {"q": query}).json()["results"]]
    assert api == page  # the same products, best match first
    expected = {
        "vinyl": {"Blue Train", "Kind of Blue", "Giant Steps", "Sneaker toy", "Vinyl laces"},
        "trains": {"Blue Train"},  # stemmed; "Trainers" is another word
        "blue record": {"Blue Train", "Kind of Blue"},
        "nothing-like-it": set(),
    }[query]
    assert set(page) == expected
