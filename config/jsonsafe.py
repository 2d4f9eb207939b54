"""The one way JSON from outside is read: the API's parser, the bid and stream-callback views, payment
webhooks and the live room's frames all go through `loads` (or `request_data` / `request_body`).

Python's json module parses whatever it is given: 5,000 levels of nesting overflow the stack
(RecursionError), `1e400` becomes infinity, a 400-digit integer overflows the database later, and
`"\\ud800"` gives a string that no database or encoder takes (UnicodeEncodeError). Here the size is
checked before anything is read, the nesting depth is measured over the raw text before parsing, and
the result holds only finite numbers within 64 bits (or a double) and valid Unicode. Everything refused
raises `JSONRefused` (a ValueError) with a code, a message for the caller and an HTTP status.

NUL (U+0000) is valid text and is kept: each field refuses it ("Null characters are not allowed.") or
strips it, as the hostile-text rules say (tests/security/test_hostile_text.py).
"""

import json
import re
from collections.abc import Mapping
from itertools import accumulate

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError

# The deepest any Livemarket message nests is 3 (a lot's increment table); 32 leaves room.
MAX_DEPTH = 32
MAX_INTEGER = 2**63 - 1  # the widest database integer

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JSONRefused(ValueError):
    """JSON that is not taken: `code` "too_large" (HTTP 413, websocket close 1009) or "invalid" (400)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return 413 if self.code == "too_large" else 400


def max_bytes() -> int:
    """The largest JSON body taken over HTTP (LIVEMARKET_JSON_MAX_BYTES)."""
    return settings.LIVEMARKET_JSON_MAX_BYTES


def too_large(limit: int) -> JSONRefused:
    return JSONRefused("too_large", f"The body is too large: at most {limit:,} bytes.")


def loads(data: str | bytes | bytearray, *, limit: int | None = None, max_depth: int = MAX_DEPTH):
    """Parse `data` (UTF-8 bytes or text of at most `limit` bytes or characters), or raise JSONRefused."""
    limit = max_bytes() if limit is None else limit
    if len(data) > limit:
        raise too_large(limit)
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")  # strict: encoded surrogates and stray bytes are refused
        except UnicodeDecodeError:
            raise JSONRefused("invalid", "The JSON is not valid UTF-8 text.") from None
    else:
        text = data
    if _SURROGATE.search(text):
        raise _not_unicode()
    if _depth(text) > max_depth:
        raise JSONRefused("invalid", f"The JSON is nested too deeply: at most {max_depth} levels.")
    try:
        value = json.loads(text, parse_int=_integer, parse_float=_float, parse_constant=_constant)
    except JSONRefused:
        raise
    except (ValueError, RecursionError):
        raise JSONRefused("invalid", "That is not valid JSON.") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise _not_unicode()
    return value


def request_body(request, *, limit: int | None = None) -> bytes:
    """The raw body, refused (too_large) by its Content-Length before it is read."""
    limit = max_bytes() if limit is None else limit
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_large(limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large(limit) from None
    if len(body) > limit:
        raise too_large(limit)
    return body


def request_data(request, *, limit: int | None = None) -> Mapping:
    """A view's input that may come as a form or as a JSON object: `request.POST`, or the parsed body."""
    if request.content_type == "application/json":
        body = request_body(request, limit=limit)
        value = loads(body, limit=limit) if body.strip() else {}
        if not isinstance(value, dict):
            raise JSONRefused("invalid", "Send a JSON object.")
        return value
    try:
        return request.POST
    except (RequestDataTooBig, TooManyFieldsSent):
        raise too_large(max_bytes() if limit is None else limit) from None
    except MultiPartParserError:
        raise JSONRefused("invalid", "The form data is malformed.") from None


def _depth(text: str) -> int:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be deeper than that (the common case: no scan at all)
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > 19 or abs(value := int(digits)) > MAX_INTEGER:
        raise JSONRefused("invalid", "A number in the JSON is out of range.")
    return value


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JSONRefused("invalid", "A number in the JSON is out of range.")
    return value


def _constant(name: str):
    raise JSONRefused("invalid", f"{name} is not a JSON number.")


def _not_unicode() -> JSONRefused:
    return JSONRefused("invalid", "The JSON has text that is not valid Unicode (a lone surrogate).")


def _has_lone_surrogate(value) -> bool:
    """Walks the parsed value (no recursion: its depth is already bounded, but a loop is as short)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
