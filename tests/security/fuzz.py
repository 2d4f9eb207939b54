"""The fuzz corpus: hostile input of every kind, sent to every endpoint and every room action.

The endpoints are the isolation matrix's (tests/security/isolation.py: every URL pattern of the URL
conf with each method its rule names, and every `action_*` of the room), so a new endpoint is fuzzed
without anyone adding it here. Each kind is sent as the endpoint's owner (the role that gets furthest
into the code), on top of the matrix's ordinary request for it:

- value kinds go into every field of the body (the rule's own fields, an admin change form's fields
  as its page lists them, and `EXTRA_FIELDS`), as JSON and, for pages and the admin, as a form too; on
  a GET, into the query string (the rule's parameters, the API view's filters and `QUERY_NAMES`);
- header kinds set every header of `HOSTILE_HEADERS`;
- `huge_body` sends 8 MB once per write.

What must hold (tests/security/test_fuzz.py): no 5xx; a 4xx in the endpoint's usual shape (the
API's `{code, message, fields}`, JSON `{code, message}` for the machine endpoints of `JSON_ENDPOINTS`,
a page elsewhere); in the room, the socket answers an `error` event and goes on serving, or closes with
1009 (too big) or 1007 (invalid). Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPTH = 5000
HUGE_BODY = 8 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    name: str
    what: str
    json: str | None = None  # the raw JSON literal put in every field of a JSON body
    form: bytes | None = None  # the raw bytes put in every form field and query parameter
    header: str | None = None  # the value of every hostile header (already as a server decodes it)


def _latin1(text: str) -> str:
    """Header bytes as WSGI and ASGI servers hand them to Django: UTF-8 read as Latin-1."""
    return text.encode().decode("latin-1")


KINDS: list[Kind] = [
    Kind(
        "deep_nesting",
        f"arrays nested {DEPTH:,} deep",
        json="[" * DEPTH + "]" * DEPTH,
        form=b"[" * DEPTH + b"]" * DEPTH,
    ),
    Kind("lone_surrogate", "`\\ud800`, half a UTF-16 pair", json='"\\ud800"', form=b"\xed\xa0\x80"),
    Kind("huge_float", "`1e400` (infinity to a double)", json="1e400", form=b"1e400"),
    Kind("huge_integer", "a 400-digit integer", json="9" * 400, form=b"9" * 400),
    Kind("nul", "text with a NUL byte", json='"nul\\u0000byte"', form=b"nul\x00byte"),
    Kind("overlong_header", "every header 16 KB long", header="x" * 16 * 1024),
    Kind("non_ascii_header", "every header non-ASCII (UTF-8 bytes)", header=_latin1("é ꙮ 😀 \u2028")),
    Kind("huge_body", f"an {HUGE_BODY // (1024 * 1024)} MB body on every write"),
]
KIND_NAMES = [kind.name for kind in KINDS]
# What config/jsonsafe.py refuses whole (a JSON body or frame with one of these never reaches a view).
DECODER_REFUSES = {"deep_nesting", "lone_surrogate", "huge_float", "huge_integer"}
VALUE_KINDS = [kind for kind in KINDS if kind.json is not None]
HEADER_KINDS = [kind for kind in KINDS if kind.header is not None]

# Body fields tried on every write beside the rule's own: what the views and actions read by name.
EXTRA_FIELDS = ("text", "name", "key", "path", "amount", "max_amount", "quantity", "variant_id", "q")
# Query parameters tried on every GET beside the rule's own and the API view's filters (the last
# three are what the admin's object pages read).
QUERY_NAMES = ("q", "page", "page_size", "ordering", "sort", "o", "p", "next", "url", "tab")
QUERY_NAMES += ("_changelist_filters", "_to_field", "_popup")
# Headers the code reads (the signature, idempotency, proxies, htmx, negotiation, caching).
HOSTILE_HEADERS = (
    "Livemarket-Signature",
    "Idempotency-Key",
    "X-Forwarded-For",
    "HX-Request",
    "HX-Current-URL",
    "HX-Target",
    "Accept",
    "Accept-Language",
    "If-None-Match",
    "If-Modified-Since",
    "Referer",
    "User-Agent",
)
# Machine endpoints whose errors are JSON `{code, message}` although they live outside /api/.
JSON_ENDPOINTS = {
    "payment_webhook",
    "stream_on_publish",
    "stream_on_publish_done",
    "stream_on_update",
    "lot_bid",
}
# Signed by their caller: the fuzz signs each body, so it reaches the parser behind the signature.
SIGNED_ENDPOINTS = {"payment_webhook"}

# The room: every action gets every value kind in every field it reads; then the frames themselves.
ROOM_FIELDS = (
    "text",
    "kind",
    "product_id",
    "variant_id",
    "lot_id",
    "giveaway_id",
    "message_id",
    "user_id",
    "op",
    "reason",
    "amount",
    "max_amount",
    "price",
    "units",
    "per_buyer_limit",
    "duration_seconds",
    "starting_price",
    "increment",
    "increment_table",
    "quantity",
    "bid_ceiling",
)
# (name, what it is, the expected outcome)
ROOM_FRAMES = [
    ("frame_just_over_the_limit", "a text frame one character over LIVEMARKET_WS_MAX_FRAME", "close 1009"),
    ("frame_8_mb", "an 8 MB text frame", "close 1009"),
    ("binary_frame_8_mb", "an 8 MB binary frame", "close 1009"),
    ("deep_frame", f"a frame nested {DEPTH:,} deep", "error invalid, open"),
    ("surrogate_chat", 'a chat `{"text": "\\ud800"}`', "error invalid, open"),
]


def room_expected(kind: Kind) -> str:
    """NUL passes the decoder (each action refuses or strips it); every other value kind is refused
    by it, whatever the action."""
    return "error invalid, open" if kind.name in DECODER_REFUSES else "error or event, open"


def fuzz_endpoints() -> list[tuple[str, str, str, str]]:
    """(surface, route, URL name, method) for every endpoint-method of the isolation matrix."""
    from tests.security.isolation import all_rules, endpoints

    rules = all_rules()
    return [
        (endpoint.surface, endpoint.route, endpoint.key, method)
        for endpoint in endpoints()
        if endpoint.key in rules
        for method in rules[endpoint.key].expect
    ]


def kinds_for(method: str) -> list[Kind]:
    """A GET gets the value kinds in its query and the header kinds; a write gets everything."""
    if method == "get":
        return [kind for kind in KINDS if kind.name != "huge_body"]
    return KINDS


def encodings(surface: str, method: str, kind: Kind) -> list[str]:
    """How one kind is sent: in the headers of the ordinary request, in the query of a GET, or as a
    body: JSON to the API, a form and JSON to pages and the admin."""
    if kind.header is not None:
        return ["headers"]
    if method == "get":
        return ["query"]
    return ["json"] if surface == "api" else ["form", "json"]


def reliability_rows() -> list[dict]:
    """For docs/reliability.md: one row per endpoint-method and room action, with the number of
    requests (or frames) of each kind it gets."""
    from tests.security.isolation import room_actions

    rows = [
        {
            "surface": surface,
            "endpoint": route,
            "method": method.upper(),
            **{kind.name: len(encodings(surface, method, kind)) for kind in kinds_for(method)},
        }
        for surface, route, _, method in fuzz_endpoints()
    ]
    rows += [
        {
            "surface": "websocket",
            "endpoint": f"/ws/shows/<show_id>/ {action}",
            "method": "WS",
            **{kind.name: 1 for kind in VALUE_KINDS},
        }
        for action in room_actions()
    ]
    return rows
