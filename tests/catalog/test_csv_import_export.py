"""Merchants move their catalog in and out of the admin as CSV, and only ever their own shop's."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog import csv_io
from catalog.csv_io import products_export_csv_rows, products_import_csv
from catalog.exceptions import StockBelowAllocated
from catalog.models import Product, Stock, Variant
from catalog.services import category_get_or_create
from catalog.stock import stock_allocate
from shops.services import shop_member_add
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.shops.factories import ShopFactory, UserFactory

HEADER = csv_io.COLUMNS


def _csv(rows, header=HEADER, encoding="utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header] if isinstance(row, dict) else row)
    return out.getvalue().encode(encoding)


def _row(**values):
    base = {
        "product_slug": "kind-of-blue",
        "title": "Kind of Blue",
        "description": "Miles Davis, 1959.",
        "status": "active",
        "sku": "KOB-180",
        "variant_name": "180g",
        "options": "weight=180g;colour=black",
        "price": "29.99",
        "compare_at_price": "",
        "weight_grams": "300",
        "on_hand": "12",
    }
    base.update(values)
    return base


def _import(shop, data: bytes, *, skip_invalid=False, **kwargs):
    return products_import_csv(shop=shop, file=io.BytesIO(data), skip_invalid=skip_invalid, **kwargs)


def _parse(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


# --- export -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_lists_one_row_per_variant_with_options_and_stock(variant):
    VariantFactory(product=variant.product, sku="BT-LP-RED", name="Red", options={"colour": "red"}, on_hand=2)

    rows = list(products_export_csv_rows(queryset=Product.objects.all()))

    assert rows[0] == HEADER
    by_sku = {row[HEADER.index("sku")]: dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    assert by_sku["BT-LP"]["price"] == "31.50"
    assert by_sku["BT-LP"]["on_hand"] == "5"
    assert by_sku["BT-LP-RED"]["options"] == "colour=red"
    assert by_sku["BT-LP-RED"]["product_slug"] == variant.product.slug


@pytest.mark.django_db
def test_export_query_count_does_not_grow_with_products(shop, django_assert_max_num_queries):
    for n in range(2):
        VariantFactory(product=ProductFactory(shop=shop), sku=f"A-{n}")
    with django_assert_max_num_queries(3):
        small = list(products_export_csv_rows(queryset=Product.objects.filter(shop=shop)))
    for n in range(20):
        VariantFactory(product=ProductFactory(shop=shop), sku=f"B-{n}")
    with django_assert_max_num_queries(3):
        large = list(products_export_csv_rows(queryset=Product.objects.filter(shop=shop)))
    assert (len(small), len(large)) == (3, 23)


@pytest.mark.django_db
def test_export_neutralises_spreadsheet_formulas_and_import_restores_them(shop):
    product = ProductFactory(shop=shop, title="=HYPERLINK(1)")
    VariantFactory(product=product, sku="F-1")
    rows = list(products_export_csv_rows(queryset=Product.objects.filter(shop=shop)))
    assert rows[1][HEADER.index("title")] == "'=HYPERLINK(1)"

    result = _import(shop, _csv(rows[1:]))

    assert result.applied and result.variants_unchanged == 1
    product.refresh_from_db()
    assert product.title == "=HYPERLINK(1)"


@pytest.mark.django_db
def test_merchant_export_all_contains_only_own_shop_rows(client, merchant, variant, other_variant):
    client.force_login(merchant)

    response = client.get(reverse("admin:catalog_product_export_csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _parse(b"".join(response.streaming_content))
    assert [row["sku"] for row in rows] == ["BT-LP"]
    assert "shop" not in rows[0]


@pytest.mark.django_db
def test_merchant_export_action_cannot_reach_another_shops_product(client, merchant, variant, other_variant):
    client.force_login(merchant)

    response = client.post(
        reverse("admin:catalog_product_changelist"),
        {
            "action": "export_csv",
            "_selected_action": [variant.product_id, other_variant.product_id],
        },
    )

    assert response.status_code == 200
    rows = _parse(b"".join(response.streaming_content))
    assert [row["sku"] for row in rows] == ["BT-LP"]


@pytest.mark.django_db
def test_ops_export_includes_the_shop_column(client, variant, other_variant):
    ops = UserFactory(username="ops", is_superuser=True)
    client.force_login(ops)

    response = client.get(reverse("admin:catalog_product_export_csv"))

    rows = _parse(b"".join(response.streaming_content))
    assert {(row["shop"], row["sku"]) for row in rows} == {
        ("vinyl-vault", "BT-LP"),
        ("sneaker-sanctum", "RP-42"),
    }


# --- import: creating and updating ----------------------------------------------------------


@pytest.mark.django_db
def test_import_creates_products_and_variants(shop):
    category = category_get_or_create(name="Jazz")
    data = _csv(
        [
            _row(category=category.slug),
            _row(
                category=category.slug, sku="KOB-RED", variant_name="Red", options="colour=red", on_hand="3"
            ),
            _row(product_slug="a-love-supreme", title="A Love Supreme", sku="ALS-1", compare_at_price="40"),
        ]
    )

    result = _import(shop, data)

    assert result.applied and not result.has_errors
    assert (result.products_created, result.variants_created) == (2, 3)
    product = Product.objects.get(shop=shop, slug="kind-of-blue")
    assert (product.title, product.status, product.category) == ("Kind of Blue", "active", category)
    red = Variant.objects.get(shop=shop, sku="KOB-RED")
    assert (red.product, red.options, red.price, red.position) == (
        product,
        {"colour": "red"},
        Decimal("29.99"),
        1,
    )
    assert Stock.objects.get(variant=red).on_hand == 3
    assert Variant.objects.get(sku="ALS-1").compare_at_price == Decimal("40.00")


@pytest.mark.django_db
def test_import_updates_existing_products_and_variants_and_counts_unchanged(shop, variant):
    product = variant.product
    untouched = VariantFactory(product=product, sku="BT-LP-2", name="Std", price="20.00", on_hand=1)
    rows = [
        dict(zip(HEADER, row, strict=True))
        for row in products_export_csv_rows(queryset=Product.objects.filter(shop=shop))
    ][1:]
    for row in rows:
        row["title"] = "Blue Train (remaster)"
        if row["sku"] == "BT-LP":
            row.update(price="35.00", on_hand="9", status="archived")
        else:
            row.update(status="archived")

    result = _import(shop, _csv(rows))

    assert result.applied, result.row_errors
    assert (result.products_created, result.products_updated) == (0, 1)
    assert (result.variants_created, result.variants_updated, result.variants_unchanged) == (0, 1, 1)
    product.refresh_from_db()
    assert (product.title, product.status) == ("Blue Train (remaster)", "archived")
    variant.refresh_from_db()
    assert variant.price == Decimal("35.00")
    assert Stock.objects.get(variant=variant).on_hand == 9
    untouched.refresh_from_db()
    assert untouched.price == Decimal("20.00")


@pytest.mark.django_db
def test_import_of_an_unchanged_export_changes_nothing(shop, variant):
    rows = list(products_export_csv_rows(queryset=Product.objects.filter(shop=shop)))

    result = _import(shop, _csv(rows[1:]))

    assert result.applied
    assert (result.products_updated, result.variants_updated, result.variants_unchanged) == (0, 0, 1)


# --- import: validation -------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_bad_row_applies_nothing_and_reports_its_line(shop, variant):
    data = _csv(
        [
            _row(sku="NEW-1"),
            _row(sku="NEW-2", price="-1"),
            _row(product_slug="blue-train-lp", title="Blue Train LP", sku="BT-LP", price="1.00"),
        ]
    )

    result = _import(shop, data)

    assert not result.applied
    assert [error.line for error in result.row_errors] == [3]
    assert "price" in str(result.row_errors[0])
    assert not Product.objects.filter(slug="kind-of-blue").exists()
    variant.refresh_from_db()
    assert variant.price == Decimal("31.50")


@pytest.mark.django_db
def test_with_skip_the_good_rows_apply_and_the_bad_ones_are_listed(shop):
    data = _csv([_row(sku="NEW-1"), _row(sku="NEW-2", on_hand="lots"), _row(sku="NEW-3", status="sold")])

    result = _import(shop, data, skip_invalid=True)

    assert result.applied
    assert result.rows_skipped == 2
    assert [error.line for error in result.row_errors] == [3, 4]
    assert list(Variant.objects.filter(shop=shop).values_list("sku", flat=True)) == ["NEW-1"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"price": "12,50"}, "is not a number"),
        ({"price": "1.999"}, "more than 2 decimal places"),
        ({"price": "NaN"}, "0 or more"),
        ({"price": ""}, "price is required"),
        ({"compare_at_price": "-3"}, "0 or more"),
        ({"weight_grams": "1.5"}, "whole number"),
        ({"on_hand": "-1"}, "whole number"),
        ({"status": "published"}, "must be one of draft, active, archived"),
        ({"category": "no-such-category"}, "unknown category"),
        ({"options": "size"}, "name=value"),
        ({"product_slug": "kind of blue"}, "product_slug"),
        ({"title": ""}, "title is required"),
        ({"sku": "", "price": "3"}, "sku is required"),
    ],
)
def test_bad_values_are_row_errors(shop, values, message):
    result = _import(shop, _csv([_row(**values)]))

    assert not result.applied
    assert result.row_errors[0].line == 2
    assert message in str(result.row_errors[0])


@pytest.mark.django_db
def test_duplicate_sku_in_the_file_is_a_row_error(shop):
    result = _import(shop, _csv([_row(), _row(variant_name="again")]))

    assert [(e.line, e.messages) for e in result.row_errors] == [
        (3, ["sku “KOB-180” already appears on line 2"])
    ]


@pytest.mark.django_db
def test_sku_of_another_product_in_the_shop_is_a_row_error(shop, variant):
    result = _import(shop, _csv([_row(sku="BT-LP")]))

    assert "belongs to another product" in str(result.row_errors[0])
    assert Variant.objects.get(sku="BT-LP").product == variant.product


@pytest.mark.django_db
def test_conflicting_product_values_across_rows_are_a_row_error(shop):
    result = _import(shop, _csv([_row(), _row(sku="KOB-2", title="Another title")]))

    assert [e.line for e in result.row_errors] == [3]
    assert "title differs from line 2" in str(result.row_errors[0])


@pytest.mark.django_db
def test_stock_below_allocated_is_a_row_error(shop, variant):
    stock_allocate(lines=[(variant.pk, 4)])
    row = _row(product_slug=variant.product.slug, title=variant.product.title, sku="BT-LP", on_hand="2")

    result = _import(shop, _csv([row]))

    assert not result.applied
    assert "below the 4 units allocated" in str(result.row_errors[0])
    assert Stock.objects.get(variant=variant).on_hand == 5


@pytest.mark.django_db
def test_wrong_encoding_gives_a_clear_error(shop):
    result = _import(shop, _csv([_row(title="Café del Mar")], encoding="cp1252"))

    assert not result.applied
    assert "not UTF-8 encoded" in result.file_errors[0]
    assert "line 2" in result.file_errors[0]


@pytest.mark.django_db
def test_utf8_bom_and_semicolons_are_accepted(shop):
    text = _csv([_row(title="Café del Mar")]).decode()
    semicolon = "\ufeff" + text.replace(",", ";").replace("weight=180g;colour=black", "weight=180g")

    result = _import(shop, semicolon.encode())

    assert result.applied, (result.file_errors, result.row_errors)
    assert Product.objects.get(shop=shop).title == "Café del Mar"


@pytest.mark.django_db
def test_missing_columns_are_named(shop):
    header = [c for c in HEADER if c not in ("sku", "price")]

    result = _import(shop, _csv([_row()], header=header))

    assert result.file_errors == [
        f"Missing required columns: sku, price. The first line must name the columns: {', '.join(HEADER)}."
    ]


@pytest.mark.django_db
def test_file_and_row_limits(shop, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_ROWS", 2)
    result = _import(shop, _csv([_row(sku=f"S-{n}") for n in range(3)]))
    assert "more than 2 rows" in result.file_errors[0]

    monkeypatch.setattr(csv_io, "MAX_FILE_BYTES", 100)
    result = _import(shop, _csv([_row()]))
    assert "too large" in result.file_errors[0]
    assert not Product.objects.exists()


# --- import: shop scoping -----------------------------------------------------------------------


@pytest.mark.django_db
def test_reused_slug_and_sku_of_another_shop_create_rows_in_own_shop(shop, other_variant):
    other_product = other_variant.product
    row = _row(product_slug=other_product.slug, title="Mine now", sku="RP-42", price="1.00", on_hand="0")

    result = _import(shop, _csv([{"shop": "sneaker-sanctum", **row}], header=["shop", *HEADER]))

    assert result.applied and (result.products_created, result.variants_created) == (1, 1)
    other_product.refresh_from_db()
    other_variant.refresh_from_db()
    assert (other_product.title, other_variant.price) == ("Runner Pro", Decimal("120.00"))
    assert Stock.objects.get(variant=other_variant).on_hand == 3
    mine = Variant.objects.get(shop=shop, sku="RP-42")
    assert mine.product.shop == shop


@pytest.mark.django_db
def test_ops_import_refuses_rows_of_another_shop(shop):
    data = _csv([{"shop": "sneaker-sanctum", **_row()}], header=["shop", *HEADER])

    result = _import(shop, data, require_shop_match=True)

    assert "not the shop being imported into" in str(result.row_errors[0])


# --- the admin page ---------------------------------------------------------------------------


def _upload(data: bytes, name="products.csv"):
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.django_db
def test_merchant_imports_through_the_admin(client, merchant, shop):
    client.force_login(merchant)
    url = reverse("admin:catalog_product_import_csv")
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="shop"' not in page.content.decode()  # one shop: no choice to make
    assert url in client.get(reverse("admin:catalog_product_changelist")).content.decode()

    response = client.post(url, {"file": _upload(_csv([_row()]))})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Import finished" in body
    assert Variant.objects.get(sku="KOB-180").product.shop == shop


@pytest.mark.django_db
def test_admin_shows_row_errors_escaped_and_applies_nothing(client, merchant, shop):
    client.force_login(merchant)

    response = client.post(
        reverse("admin:catalog_product_import_csv"),
        {"file": _upload(_csv([_row(), _row(sku="X-1", category="<script>alert(1)</script>")]))},
    )

    body = response.content.decode()
    assert "Nothing was imported" in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<script>alert(1)" not in body
    assert not Product.objects.exists()


@pytest.mark.django_db
def test_single_shop_merchant_posting_another_shops_id_still_imports_into_own_shop(
    client, merchant, shop, other_shop
):
    client.force_login(merchant)

    client.post(
        reverse("admin:catalog_product_import_csv"), {"shop": other_shop.pk, "file": _upload(_csv([_row()]))}
    )

    assert Product.objects.get(slug="kind-of-blue").shop == shop
    assert not Product.objects.filter(shop=other_shop).exists()


@pytest.mark.django_db
def test_merchant_with_several_shops_chooses_only_among_own(client, merchant, shop, other_shop):
    second = ShopFactory(owner=UserFactory(), name="Tape Deck", slug="tape-deck")
    shop_member_add(shop=second, user=merchant)
    client.force_login(merchant)
    url = reverse("admin:catalog_product_import_csv")

    page = client.get(url).content.decode()
    assert "Tape Deck" in page and "Vinyl Vault" in page and "Sneaker Sanctum" not in page

    refused = client.post(url, {"shop": other_shop.pk, "file": _upload(_csv([_row()]))})
    assert "Select a valid choice" in refused.content.decode()
    assert not Product.objects.exists()

    client.post(url, {"shop": second.pk, "file": _upload(_csv([_row()]))})
    assert Product.objects.get(slug="kind-of-blue").shop == second


@pytest.mark.django_db
def test_import_page_needs_add_and_change_permission(client, shop):
    viewer = UserFactory(username="viewer")
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    client.force_login(viewer)

    assert client.get(reverse("admin:catalog_product_import_csv")).status_code == 403
    client.logout()
    response = client.get(reverse("admin:catalog_product_import_csv"))
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_ops_chooses_the_shop_to_import_into(client, shop, other_shop):
    ops = UserFactory(username="ops", is_superuser=True)
    client.force_login(ops)
    url = reverse("admin:catalog_product_import_csv")

    client.post(url, {"shop": other_shop.pk, "file": _upload(_csv([_row()]))})

    assert Product.objects.get(slug="kind-of-blue").shop == other_shop


# --- import: failures while writing -----------------------------------------------------------


def _refuse_stock(*, variant_id, on_hand):
    raise StockBelowAllocated(variant_id, 99)


@pytest.mark.django_db
def test_stock_refused_while_writing_rolls_everything_back(shop, variant, monkeypatch):
    monkeypatch.setattr(csv_io, "stock_set_on_hand", _refuse_stock)
    existing = _row(product_slug=variant.product.slug, title="Renamed", sku="BT-LP", on_hand="1")

    result = _import(shop, _csv([_row(sku="NEW-1"), existing]))

    assert not result.applied
    assert [e.line for e in result.row_errors] == [3]
    assert (result.products_created, result.variants_created) == (0, 0)
    assert not Product.objects.filter(slug="kind-of-blue").exists()
    variant.product.refresh_from_db()
    assert variant.product.title == "Blue Train LP"


@pytest.mark.django_db
def test_stock_refused_while_writing_skips_only_that_row(shop, variant, monkeypatch):
    monkeypatch.setattr(csv_io, "stock_set_on_hand", _refuse_stock)
    existing = _row(product_slug=variant.product.slug, title="Renamed", sku="BT-LP", on_hand="1")

    result = _import(shop, _csv([_row(sku="NEW-1", on_hand=""), existing]), skip_invalid=True)

    assert result.applied and result.rows_skipped == 1
    assert Variant.objects.filter(shop=shop, sku="NEW-1").exists()
    variant.product.refresh_from_db()
    assert variant.product.title == "Blue Train LP"  # the skipped row's product change is undone too


@pytest.mark.django_db
def test_product_without_variants_round_trips(shop):
    ProductFactory(shop=shop, title="Coming soon")
    rows = list(products_export_csv_rows(queryset=Product.objects.filter(shop=shop)))
    assert rows[1][HEADER.index("sku")] == ""

    result = _import(shop, _csv(rows[1:]))

    assert result.applied and not result.has_errors
    assert Product.objects.filter(shop=shop).count() == 1


@pytest.mark.django_db
def test_a_skipped_rows_product_change_still_lands_from_the_next_good_row(shop, variant, monkeypatch):
    monkeypatch.setattr(csv_io, "stock_set_on_hand", _refuse_stock)
    product = variant.product
    refused = _row(product_slug=product.slug, title="Renamed", sku="BT-LP", on_hand="1")
    good = _row(product_slug=product.slug, title="Renamed", sku="BT-LP-NEW", on_hand="")

    result = _import(shop, _csv([refused, good]), skip_invalid=True)

    assert result.applied and result.rows_skipped == 1
    product.refresh_from_db()
    assert product.title == "Renamed"
    assert result.products_updated == 1
