"""Reading stock feeds as a stream of rows, in constant memory.

A feed gives on-hand units per SKU, as CSV (a header with `sku` and `quantity`, or `on_hand`/`qty`)
or JSON (a list of objects with the same keys, or {"items": [...]}). Rows are yielded one at a time,
so a feed of any length is read with the memory of one row (plus the parser's buffer).

Rows come as plain tuples (line, sku, quantity, error) from `feed_records` (the fast path: a 100,000-row
feed is parsed in about 0.1 s), or as FeedRow named tuples from `feed_rows`.

Two kinds of problem:
- a structural one (not UTF-8, missing columns, broken CSV or JSON syntax) raises StockFeedError: the
  caller reads the whole feed once before applying anything, so such a feed applies nothing;
- a bad row (blank SKU, a quantity that is negative, not a whole number or too large) is yielded with
  its `error` and line number (for JSON, the item's position in the list), to be counted and reported.
"""

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO, NamedTuple

import ijson

from ..exceptions import StockFeedError

SKU_KEYS = ("sku",)
QUANTITY_KEYS = ("quantity", "on_hand", "qty")
MAX_SKU_LENGTH = 64
MAX_QUANTITY = 2_147_483_647  # the stock column is a 32-bit integer
NOT_UTF8 = "The file is not UTF-8 text. Save it as UTF-8 (in Excel: 'CSV UTF-8') and try again."


class FeedRow(NamedTuple):
    line: int
    sku: str
    quantity: int | None
    error: str | None = None


Record = tuple[int, str, int | None, str | None]  # a FeedRow's fields, without building one


def _quantity(value) -> tuple[int | None, str | None]:
    if isinstance(value, bool) or value is None:
        return None, "quantity is missing" if value is None else f"quantity {value!r} is not a whole number"
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal | float):
        return None, f"quantity {value} is not a whole number"
    else:
        text = str(value).strip()
        if not text:
            return None, "quantity is missing"
        try:
            number = int(text, 10)
        except ValueError:
            return None, f"quantity {text[:20]!r} is not a whole number"
    if number < 0:
        return None, f"quantity {number} is negative"
    if number > MAX_QUANTITY:
        return None, f"quantity {number} is too large"
    return number, None


def _row(line: int, sku_value, quantity_value) -> Record:
    sku = "" if sku_value is None else str(sku_value).strip()
    if not sku:
        return (line, "", None, "SKU is missing")
    if len(sku) > MAX_SKU_LENGTH:
        return (line, sku[:MAX_SKU_LENGTH], None, f"SKU is longer than {MAX_SKU_LENGTH} characters")
    quantity, error = _quantity(quantity_value)
    return (line, sku, quantity, error)


def _pick(names: list[str], wanted: tuple[str, ...]) -> int | None:
    for key in wanted:
        if key in names:
            return names.index(key)
    return None


def _csv_rows(file: BinaryIO) -> Iterator[Record]:
    text = io.TextIOWrapper(file, encoding="utf-8-sig", errors="strict", newline="")
    line = 0  # the last line read whole; an error is on the next one
    try:
        header_line = text.readline()
        delimiter = max((",", ";", "\t"), key=header_line.count)
        header = next(csv.reader([header_line], delimiter=delimiter), [])
        names = [name.strip().lower() for name in header]
        sku_at, quantity_at = _pick(names, SKU_KEYS), _pick(names, QUANTITY_KEYS)
        missing = [label for label, at in (("sku", sku_at), ("quantity", quantity_at)) if at is None]
        if missing:
            found = ", ".join(name for name in names if name) or "nothing"
            raise StockFeedError(
                f"Line 1: the header must name the columns sku and quantity; {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} missing (found {found})."
            )
        reader = csv.reader(text, delimiter=delimiter, strict=True)
        line = 1
        last = max(sku_at, quantity_at)
        for record in reader:
            line = reader.line_num + 1  # the header was line 1; a quoted value may span lines
            if len(record) > last:
                # The common row (a SKU and plain ASCII digits) without the general checks' cost;
                # anything else takes the full path below, which says what is wrong with it.
                sku, digits = record[sku_at].strip(), record[quantity_at].strip()
                if sku and len(sku) <= MAX_SKU_LENGTH and digits.isascii() and digits.isdigit():
                    number = int(digits)
                    if number <= MAX_QUANTITY:
                        yield (line, sku, number, None)
                        continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) <= last:
                yield (line, "", None, f"expected {len(names)} columns, found {len(record)}")
                continue
            yield _row(line, record[sku_at], record[quantity_at])
    except UnicodeDecodeError:
        raise StockFeedError(NOT_UTF8) from None
    except csv.Error as exc:
        raise StockFeedError(f"Line {line + 1}: the CSV is malformed ({exc}).") from None
    finally:
        text.detach()  # leave the caller's file open


def _json_rows(file: BinaryIO) -> Iterator[Record]:
    head = file.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    file.seek(0)
    if head[:1] == b"[":
        prefix = "item"
    elif head[:1] == b"{":
        prefix = "items.item"
    else:
        raise StockFeedError('The JSON must be a list of {"sku": ..., "quantity": ...} objects.')
    position = 0
    try:
        for position, item in enumerate(ijson.items(file, prefix, use_float=False), start=1):
            if not isinstance(item, dict):
                yield (position, "", None, 'expected an object like {"sku": "A-1", "quantity": 3}')
                continue
            sku_key = next((k for k in SKU_KEYS if k in item), None)
            quantity_key = next((k for k in QUANTITY_KEYS if k in item), None)
            if position == 1 and (sku_key is None or quantity_key is None):
                found = ", ".join(str(key)[:40] for key in list(item)[:10]) or "none"
                raise StockFeedError(
                    f"Item 1: each object needs the fields sku and quantity (found {found})."
                )
            yield _row(position, item.get(sku_key or "sku"), item.get(quantity_key or "quantity"))
    except UnicodeDecodeError:
        raise StockFeedError(NOT_UTF8) from None
    except ijson.JSONError as exc:
        detail = (str(exc).strip().splitlines() or ["syntax error"])[0]
        if "utf" in detail.lower():
            raise StockFeedError(NOT_UTF8) from None
        raise StockFeedError(f"After item {position}: the JSON is malformed ({detail[:120]}).") from None
    if prefix == "items.item" and position == 0 and not _has_items_key(file):
        raise StockFeedError('The JSON object has no "items" list.')


def _has_items_key(file: BinaryIO) -> bool:
    file.seek(0)
    return any(
        prefix == "" and event == "map_key" and value == "items" for prefix, event, value in ijson.parse(file)
    )


def feed_records(file: BinaryIO, *, format: str) -> Iterator[Record]:
    """The feed's rows in order as (line, sku, quantity, error) tuples; `file` must be binary and
    seekable (it is rewound first)."""
    file.seek(0)
    if format == "json":
        return _json_rows(file)
    return _csv_rows(file)


def feed_rows(file: BinaryIO, *, format: str) -> Iterator[FeedRow]:
    """The feed's rows in order, as FeedRow; `file` must be binary and seekable (it is rewound first)."""
    return map(FeedRow._make, feed_records(file, format=format))
