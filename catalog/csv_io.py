"""CSV import and export of a shop's products and variants (one row per variant).

The import validates every row before it writes anything. With `skip_invalid=False` a single bad row
means nothing is applied; with `skip_invalid=True` the good rows are applied and the bad ones are
reported as skipped. All lookups are made within the target shop, so a row can never reach another
shop's product or variant, whatever its shop column, product slug or SKU says.
"""

import copy
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Max, Prefetch, QuerySet

from config.csvsafe import csv_escape, csv_unescape
from shops.models import Shop

from .exceptions import StockBelowAllocated
from .models import Category, Product, Variant
from .services import product_create, product_update, variant_create, variant_update
from .stock import stock_set_on_hand

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

SHOP_COLUMN = "shop"
COLUMNS = [
    "product_slug",
    "title",
    "description",
    "status",
    "category",
    "sku",
    "variant_name",
    "options",
    "price",
    "compare_at_price",
    "weight_grams",
    "on_hand",
]
REQUIRED_COLUMNS = ["product_slug", "title", "sku", "price"]
VARIANT_COLUMNS = ["sku", "variant_name", "options", "price", "compare_at_price", "weight_grams", "on_hand"]

_MAX_INT = 2_147_483_647
_MAX_PRICE = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
_INTEGER_RE = re.compile(r"^\d+$")


# --- export -------------------------------------------------------------------------------------


def _export_queryset(queryset: QuerySet[Product]) -> QuerySet[Product]:
    variants = Variant.objects.select_related("stock").order_by("position", "id")
    return (
        queryset.select_related("shop", "category")
        .prefetch_related(Prefetch("variants", queryset=variants))
        .order_by("shop__slug", "slug", "pk")
    )


def options_to_text(options: dict) -> str:
    return ";".join(f"{key}={value}" for key, value in (options or {}).items())


def products_export_csv_rows(
    *, queryset: QuerySet[Product], include_shop: bool = False
) -> Iterator[list[str]]:
    """The header, then one row per variant (a product without variants gets one product-only row).

    `queryset` decides what is exported: pass the admin's shop-scoped queryset. Runs a constant
    number of queries (products with shop and category, then variants with stock, per chunk).
    """
    yield ([SHOP_COLUMN] if include_shop else []) + COLUMNS
    for product in _export_queryset(queryset).iterator(chunk_size=500):
        product_cells = [
            csv_escape(product.slug),
            csv_escape(product.title),
            csv_escape(product.description),
            product.status,
            csv_escape(product.category.slug) if product.category else "",
        ]
        shop_cells = [csv_escape(product.shop.slug)] if include_shop else []
        variants = list(product.variants.all())
        if not variants:
            yield shop_cells + product_cells + [""] * len(VARIANT_COLUMNS)
        for variant in variants:
            stock = getattr(variant, "stock", None)
            yield (
                shop_cells
                + product_cells
                + [
                    csv_escape(variant.sku),
                    csv_escape(variant.name),
                    csv_escape(options_to_text(variant.options)),
                    f"{variant.price:.2f}",
                    f"{variant.compare_at_price:.2f}" if variant.compare_at_price is not None else "",
                    str(variant.weight_grams),
                    str(stock.on_hand if stock else 0),
                ]
            )


def csv_lines(rows: Iterable[list[str]], *, bom: bool = True) -> Iterator[str]:
    """Encode rows as CSV text, one line at a time (for a StreamingHttpResponse)."""

    class _Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(_Echo())
    if bom:
        yield "\ufeff"  # so spreadsheet programs open the file as UTF-8
    for row in rows:
        yield writer.writerow(row)


# --- import -------------------------------------------------------------------------------------


@dataclass
class RowError:
    line: int
    messages: list[str]
    sku: str = ""
    product_slug: str = ""

    def __str__(self):
        where = f"line {self.line}"
        if self.sku or self.product_slug:
            where += f" ({self.sku or self.product_slug})"
        return f"{where}: {'; '.join(self.messages)}"


@dataclass
class ImportResult:
    file_errors: list[str] = field(default_factory=list)
    row_errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    applied: bool = False
    rows_total: int = 0
    products_created: int = 0
    products_updated: int = 0
    variants_created: int = 0
    variants_updated: int = 0
    variants_unchanged: int = 0

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors or self.row_errors)

    @property
    def rows_skipped(self) -> int:
        return len(self.row_errors) if self.applied else 0

    def _reset_counts(self) -> None:
        self.products_created = self.products_updated = 0
        self.variants_created = self.variants_updated = self.variants_unchanged = 0


@dataclass
class _Row:
    line: int
    product_slug: str
    sku: str
    # Only the columns present in the file; a missing column leaves the field as it is.
    product: dict = field(default_factory=dict)
    variant: dict = field(default_factory=dict)
    on_hand: int | None = None

    @property
    def has_variant(self) -> bool:
        return bool(self.sku)


class _FileError(Exception):
    pass


def _read_text(file: IO[bytes]) -> str:
    size = getattr(file, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise _FileError(f"The file is too large ({size:,} bytes); the limit is {MAX_FILE_BYTES:,} bytes.")
    if hasattr(file, "seek"):
        file.seek(0)
    data = file.read(MAX_FILE_BYTES + 1)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_FILE_BYTES:
        raise _FileError(f"The file is too large; the limit is {MAX_FILE_BYTES:,} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _FileError(
            f"The file is not UTF-8 encoded (invalid byte 0x{data[exc.start]:02x} on line {line}). "
            "Save it as “CSV UTF-8” in your spreadsheet program and upload it again."
        ) from None
    if "\x00" in text:
        raise _FileError("The file contains NUL bytes; it does not look like a CSV text file.")
    if not text.strip():
        raise _FileError("The file is empty.")
    return text


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    if "," not in header:
        for candidate in (";", "\t"):
            if candidate in header:
                return candidate
    return ","


def _read_rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    next_line = 1
    try:
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in cells]
                continue
            records.append((line, cells))
            if len(records) > MAX_ROWS:
                raise _FileError(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
    except csv.Error as exc:
        raise _FileError(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from None
    if header is None:
        raise _FileError("The file is empty.")
    return header, records


def _check_header(header: list[str]) -> list[str]:
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        raise _FileError(f"Columns appear more than once: {', '.join(duplicates)}.")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise _FileError(
            f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
            f"The first line must name the columns: {', '.join(COLUMNS)}."
        )
    return [name for name in header if name and name not in COLUMNS and name != SHOP_COLUMN]


def _parse_price(value: str, column: str, errors: list[str], *, required: bool) -> Decimal | None:
    if not value:
        if required:
            errors.append(f"{column} is required")
        return None
    try:
        price = Decimal(value)
    except InvalidOperation:
        errors.append(f"{column} “{value}” is not a number (use a dot for decimals, e.g. 12.50)")
        return None
    if not price.is_finite() or price < 0:
        errors.append(f"{column} must be a number of 0 or more")
        return None
    if price.as_tuple().exponent < -2:
        errors.append(f"{column} “{value}” has more than 2 decimal places")
        return None
    if price > _MAX_PRICE:
        errors.append(f"{column} is too large")
        return None
    return price.quantize(Decimal("0.01"))


def _parse_count(value: str, column: str, errors: list[str]) -> int | None:
    if not value:
        return None
    if not _INTEGER_RE.match(value) or int(value) > _MAX_INT:
        errors.append(f"{column} “{value}” must be a whole number of 0 or more")
        return None
    return int(value)


def _parse_options(value: str, errors: list[str]) -> dict:
    options: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, option_value = part.partition("=")
        key, option_value = key.strip(), option_value.strip()
        if not sep or not key:
            errors.append(f"options “{part.strip()}” must look like name=value, e.g. size=M;colour=red")
        elif key in options:
            errors.append(f"option “{key}” appears twice")
        else:
            options[key] = option_value
    return options


def _parse_row(line: int, values: dict[str, str], categories: dict[str, Category]) -> tuple[_Row, list[str]]:
    errors: list[str] = []
    row = _Row(line=line, product_slug=values.get("product_slug", ""), sku=values.get("sku", ""))

    if not row.product_slug:
        errors.append("product_slug is required")
    else:
        try:
            validate_slug(row.product_slug)
        except ValidationError:
            errors.append(f"product_slug “{row.product_slug}” may contain only letters, numbers, - and _")
        if len(row.product_slug) > 200:
            errors.append("product_slug is longer than 200 characters")

    title = values.get("title", "")
    if not title:
        errors.append("title is required")
    elif len(title) > 200:
        errors.append("title is longer than 200 characters")
    row.product["title"] = title
    if "description" in values:
        row.product["description"] = values["description"]
    if values.get("status"):
        status = values["status"].lower()
        if status not in Product.Status.values:
            errors.append(f"status “{values['status']}” must be one of {', '.join(Product.Status.values)}")
        row.product["status"] = status
    if "category" in values:
        slug = values["category"]
        if slug and slug not in categories:
            errors.append(f"unknown category “{slug}”")
        row.product["category"] = categories.get(slug) if slug else None

    if row.sku:
        if len(row.sku) > 64:
            errors.append("sku is longer than 64 characters")
        row.variant["price"] = _parse_price(values.get("price", ""), "price", errors, required=True)
        if "compare_at_price" in values:
            row.variant["compare_at_price"] = _parse_price(
                values["compare_at_price"], "compare_at_price", errors, required=False
            )
        if "variant_name" in values:
            if len(values["variant_name"]) > 120:
                errors.append("variant_name is longer than 120 characters")
            row.variant["name"] = values["variant_name"]
        if "options" in values:
            row.variant["options"] = _parse_options(values["options"], errors)
        weight = _parse_count(values.get("weight_grams", ""), "weight_grams", errors)
        if weight is not None:
            row.variant["weight_grams"] = weight
        row.on_hand = _parse_count(values.get("on_hand", ""), "on_hand", errors)
    elif any(values.get(column) for column in VARIANT_COLUMNS):
        errors.append("sku is required when the row has variant values")
    return row, errors


@dataclass
class _Plan:
    """What the file means for the shop: existing rows looked up in a constant number of queries."""

    shop: Shop
    products: dict[str, Product]
    variants: dict[str, Variant]
    next_position: dict[str, int]
    updated_product_slugs: set[str] = field(default_factory=set)


def _validate(
    *, shop: Shop, header: list[str], records: list[tuple[int, list[str]]], require_shop_match: bool
) -> tuple[list[_Row], list[RowError], _Plan]:
    raw: list[tuple[int, dict[str, str]]] = []
    errors: dict[int, RowError] = {}

    def fail(line: int, message: str, *, sku: str = "", product_slug: str = "") -> None:
        error = errors.setdefault(line, RowError(line=line, messages=[], sku=sku, product_slug=product_slug))
        error.messages.append(message)

    for line, cells in records:
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            fail(line, f"has {len(cells)} cells but the header names {len(header)} columns")
        values = {
            name: csv_unescape(cell if name == "description" else cell.strip())
            for name, cell in zip(header, cells, strict=False)
            if name
        }
        for name in header[len(cells) :]:
            if name:
                values.setdefault(name, "")
        raw.append((line, values))

    category_slugs = {values.get("category") for _, values in raw} - {None, ""}
    categories = {c.slug: c for c in Category.objects.filter(slug__in=category_slugs)}
    product_slugs = {values.get("product_slug") for _, values in raw} - {None, ""}
    skus = {values.get("sku") for _, values in raw} - {None, ""}
    products = {
        p.slug: p
        for p in Product.objects.filter(shop=shop, slug__in=product_slugs).select_related("category")
    }
    variants = {
        v.sku: v for v in Variant.objects.filter(shop=shop, sku__in=skus).select_related("product", "stock")
    }
    positions = dict(
        Variant.objects.filter(product__in=products.values())
        .values("product_id")
        .annotate(top=Max("position"))
        .values_list("product_id", "top")
    )
    next_position = {slug: positions.get(p.pk, -1) + 1 for slug, p in products.items()}
    plan = _Plan(shop=shop, products=products, variants=variants, next_position=next_position)

    rows: list[_Row] = []
    first_sku_line: dict[str, int] = {}
    product_fields: dict[str, tuple[int, dict]] = {}
    for line, values in raw:
        row, messages = _parse_row(line, values, categories)
        for message in messages:
            fail(line, message, sku=row.sku, product_slug=row.product_slug)
        shop_slug = values.get(SHOP_COLUMN, "")
        if require_shop_match and shop_slug and shop_slug != shop.slug:
            fail(line, f"shop “{shop_slug}” is not the shop being imported into ({shop.slug})", sku=row.sku)
        if row.sku:
            if row.sku in first_sku_line:
                fail(line, f"sku “{row.sku}” already appears on line {first_sku_line[row.sku]}", sku=row.sku)
            else:
                first_sku_line[row.sku] = line
            existing = variants.get(row.sku)
            if existing is not None and existing.product.slug != row.product_slug:
                fail(
                    line,
                    f"sku “{row.sku}” belongs to another product of the shop ({existing.product.slug})",
                    sku=row.sku,
                )
            elif existing is not None and row.on_hand is not None:
                allocated = existing.stock.allocated if hasattr(existing, "stock") else 0
                if row.on_hand < allocated:
                    fail(
                        line,
                        f"on_hand {row.on_hand} is below the {allocated} units allocated to orders",
                        sku=row.sku,
                    )
        if line not in errors and row.product_slug:
            if row.product_slug in product_fields:
                first_line, first = product_fields[row.product_slug]
                differing = [
                    name for name, value in row.product.items() if name in first and first[name] != value
                ]
                if differing:
                    fail(
                        line,
                        f"{', '.join(differing)} differ{'s' if len(differing) == 1 else ''} from line "
                        f"{first_line} for the same product",
                        sku=row.sku,
                    )
            else:
                product_fields[row.product_slug] = (line, row.product)
        if line not in errors:
            rows.append(row)
    return rows, sorted(errors.values(), key=lambda error: error.line), plan


def _changes(instance, wanted: dict) -> dict:
    return {name: value for name, value in wanted.items() if getattr(instance, name) != value}


def _apply_row(row: _Row, plan: _Plan, result: ImportResult) -> None:
    """Write one validated row. Caches in `plan` and counts change only once the row is in."""
    product = plan.products.get(row.product_slug)
    product_created = product is None
    product_changes: dict = {}
    if product is not None and row.product_slug not in plan.updated_product_slugs:
        product_changes = _changes(product, row.product)

    variant = plan.variants.get(row.sku) if row.has_variant else None
    variant_changes = _changes(variant, row.variant) if variant is not None else {}
    stock_change = (
        variant is not None
        and row.on_hand is not None
        and (not hasattr(variant, "stock") or variant.stock.on_hand != row.on_hand)
    )
    writes = product_created or product_changes or variant_changes or stock_change
    if not writes and not (row.has_variant and variant is None):
        if row.has_variant:
            result.variants_unchanged += 1
        return

    with transaction.atomic():
        if product_created:
            product = product_create(
                shop=plan.shop,
                slug=row.product_slug,
                status=row.product.get("status", Product.Status.DRAFT),
                **{name: value for name, value in row.product.items() if name != "status"},
            )
        elif product_changes:
            # On a copy: if the row is rolled back, the cached instance stays true.
            product_update(product=copy.copy(product), **product_changes)
        new_variant = None
        if row.has_variant and variant is None:
            new_variant = variant_create(
                product=product,
                sku=row.sku,
                position=plan.next_position.get(row.product_slug, 0),
                on_hand=row.on_hand or 0,
                **row.variant,
            )
        elif variant_changes:
            variant_update(variant=copy.copy(variant), **variant_changes)
        if stock_change:
            stock_set_on_hand(variant_id=variant.pk, on_hand=row.on_hand)

    # The row is in: bring the lookups and counts up to date.
    if product_created:
        plan.products[row.product_slug] = product
        plan.updated_product_slugs.add(row.product_slug)
        result.products_created += 1
    elif product_changes:
        for name, value in product_changes.items():
            setattr(product, name, value)
        plan.updated_product_slugs.add(row.product_slug)
        result.products_updated += 1
    if new_variant is not None:
        plan.variants[row.sku] = new_variant
        plan.next_position[row.product_slug] = plan.next_position.get(row.product_slug, 0) + 1
        result.variants_created += 1
    elif variant_changes or stock_change:
        for name, value in variant_changes.items():
            setattr(variant, name, value)
        if stock_change and hasattr(variant, "stock"):
            variant.stock.on_hand = row.on_hand
        result.variants_updated += 1
    elif row.has_variant:
        result.variants_unchanged += 1


def products_import_csv(
    *, shop: Shop, file: IO[bytes], skip_invalid: bool = False, require_shop_match: bool = False
) -> ImportResult:
    """Create or update `shop`'s products (by slug) and variants (by SKU) from a CSV file.

    Every row is checked first. If any row is bad and `skip_invalid` is false, nothing is written.
    `require_shop_match` (for ops) turns a row whose shop column names another shop into an error;
    otherwise the shop column is ignored and every row goes to `shop`.
    """
    result = ImportResult()
    try:
        header, records = _read_rows(_read_text(file))
        result.ignored_columns = _check_header(header)
    except _FileError as exc:
        result.file_errors.append(str(exc))
        return result
    result.rows_total = len(records)
    if not records:
        result.file_errors.append("The file has a header but no rows.")
        return result

    with transaction.atomic():
        rows, result.row_errors, plan = _validate(
            shop=shop, header=header, records=records, require_shop_match=require_shop_match
        )
        if result.row_errors and not skip_invalid:
            return result
        for row in rows:
            try:
                _apply_row(row, plan, result)
            except StockBelowAllocated as exc:
                result.row_errors.append(
                    RowError(
                        line=row.line,
                        sku=row.sku,
                        messages=[
                            f"on_hand {row.on_hand} is below the {exc.allocated} units allocated to orders"
                        ],
                    )
                )
            except IntegrityError:
                result.row_errors.append(
                    RowError(
                        line=row.line,
                        sku=row.sku,
                        product_slug=row.product_slug,
                        messages=["conflicts with a change made at the same time; import it again"],
                    )
                )
        result.row_errors.sort(key=lambda error: error.line)
        if result.row_errors and not skip_invalid:
            transaction.set_rollback(True)
            result._reset_counts()
            return result
    result.applied = True
    return result
