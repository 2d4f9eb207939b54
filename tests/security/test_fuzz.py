"""The fuzz matrix: every endpoint-method of the URL conf and every room action, times every kind of
hostile input in tests/security/fuzz.py. Never a 5xx; a 4xx in the endpoint's usual shape (the room's
half is tests/security/test_fuzz_room.py).

The HTTP part runs in-process on the isolation matrix's world (built once for the module), as the
endpoint's owner; each request runs in a savepoint that is rolled back, so a write that went through
leaves nothing behind for the next.
"""

import json
import re
import time
import uuid
from functools import cache
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from django.db import transaction

from orders.payments.test_gateway import SIGNATURE_HEADER, sign_webhook
from tests.api.conftest import _generous_throttles  # noqa: F401  (autouse: many calls from one key)
from tests.security import fuzz
from tests.security.isolation import cases
from tests.security.test_isolation_matrix import (  # noqa: F401  (the world fixture and its room override)
    _client,
    _fresh_room_state,
    _send,
    _url,
    world,
)

ROLE = "owner"  # gets furthest into the code: past every permission check, to the parsing
CASES = [case for case in cases() if case.role == ROLE]


def test_the_fuzz_reaches_every_endpoint_method_of_the_matrix():
    assert {(c.endpoint.key, c.method) for c in CASES} == {
        (key, method) for _, _, key, method in fuzz.fuzz_endpoints()
    }
    assert {c.endpoint.surface for c in CASES} == {"storefront", "admin", "api"}


def test_the_catalogue_needs_no_database():
    rows = fuzz.reliability_rows()  # no `db` fixture: a query here would raise
    assert len([row for row in rows if row["surface"] != "websocket"]) == len(CASES)
    assert {row["surface"] for row in rows} == {"storefront", "admin", "api", "websocket"}
    writes = [row for row in rows if row["method"] in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes and all(set(fuzz.KIND_NAMES) <= set(row) for row in writes)


# --- HTTP ----------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _room_for_many_calls(settings):
    """The per-IP and per-shopper limits would answer 429 before the input is read."""
    settings.LIVEMARKET_STREAM_HOOK_RATE = (100000, 60)
    settings.LIVEMARKET_PAYMENT_WEBHOOK_RATE = (100000, 60)
    settings.LIVEMARKET_BUY_NOW_RATE = (100000, 60)
    settings.LIVEMARKET_BID_RATE = (100000, 60)


@cache
def _huge(encoding: str) -> bytes:
    filler = b"x" * fuzz.HUGE_BODY
    return b'{"text": "' + filler + b'"}' if encoding == "json" else b"text=" + filler


_FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*?\bname="([^"]+)"')
_MANAGEMENT = re.compile(
    r'<input\b[^>]*?\bname="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*?\bvalue="(\d*)"'
)


def _page_form(case, w) -> tuple[list[str], dict[str, str]]:
    """An admin change form's own fields, read from its page (the hostile values go into each), and
    its inline formsets' management fields (kept, so the inline rows are validated too)."""
    page = _client(case, w).get(_url(case, w)).content.decode()
    kept = dict(_MANAGEMENT.findall(page))
    names = [name for name in dict.fromkeys(_FIELD.findall(page)) if name not in kept]
    return [name for name in names if name != "csrfmiddlewaretoken"], kept


def _fields(case, w, page_form=None) -> list[str]:
    body = case.rule.body(w) if case.rule.body else {}
    own = page_form[0] if page_form else []
    return list(dict.fromkeys([*body, *own, *fuzz.EXTRA_FIELDS]))


def _query_names(case, w) -> list[str]:
    names = list(case.rule.query(w)) if case.rule.query else []
    filterset = getattr(getattr(case.endpoint.callback, "cls", None), "filterset_class", None)
    if filterset is not None:
        names += list(filterset.base_filters)
    return list(dict.fromkeys([*names, *fuzz.QUERY_NAMES]))


def _body(case, w, kind, encoding: str, page_form=None) -> bytes:
    if kind.name == "huge_body":
        return _huge(encoding)
    fields = _fields(case, w, page_form)
    if encoding == "json":
        return ("{" + ", ".join(f"{json.dumps(name)}: {kind.json}" for name in fields) + "}").encode()
    pairs = [quote(name).encode() + b"=" + quote_from_bytes(kind.form).encode() for name in fields]
    pairs += [
        f"{quote(name)}={value}".encode() for name, value in (page_form[1] if page_form else {}).items()
    ]
    return b"&".join(pairs)


def _signature(kind) -> str:
    """The signature header a header kind sends: a 400-digit timestamp, or today's with a non-ASCII
    digest (each was a 500 in the test gateway)."""
    if kind.name == "overlong_header":
        return f"t={'9' * 400},v1={kind.header}"
    return f"t={int(time.time())},v1={kind.header}"


def _request(client, case, w, kind, encoding: str, page_form=None):
    url = _url(case, w)
    if encoding == "headers":  # the matrix's own request, with every hostile header
        for name in fuzz.HOSTILE_HEADERS:
            client.defaults["HTTP_" + name.upper().replace("-", "_")] = kind.header
        client.defaults["HTTP_LIVEMARKET_SIGNATURE"] = _signature(kind)
        return _send(client, case, w, url)
    if encoding == "query":
        value = quote_from_bytes(kind.form)
        query = urlencode(case.rule.query(w)) + "&" if case.rule.query else ""
        query += "&".join(f"{quote(name)}={value}" for name in _query_names(case, w))
        return client.get(f"{url}?{query}")
    body = _body(case, w, kind, encoding, page_form)
    extra = {}
    if case.rule.json and case.method == "post":
        extra["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
    if case.endpoint.key in fuzz.SIGNED_ENDPOINTS:
        extra["HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")] = sign_webhook(body)
    content_type = "application/json" if encoding == "json" else "application/x-www-form-urlencoded"
    return client.generic(case.method.upper(), url, body, content_type=content_type, **extra)


def _shape(case) -> str:
    """The endpoint's error shape: the API's, the machine endpoints' JSON, a page, or the media type
    of an API view that renders something else (the schema, the docs), as DRF answers in its first
    renderer."""
    if case.endpoint.surface == "api":
        renderers = getattr(getattr(case.endpoint.callback, "cls", None), "renderer_classes", None)
        media_type = renderers[0].media_type if renderers else "application/json"
        return "api" if media_type == "application/json" else media_type
    return "json" if case.endpoint.key in fuzz.JSON_ENDPOINTS else "page"


def _problem(case, kind, encoding: str, response) -> str | None:
    """What is wrong with the answer to one hostile request, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}"
    if status == 405:  # Django's and DRF's: judged by the methods it names, whatever the body
        return None if response.get("Allow") else "405 without Allow"
    if status < 400:
        if kind.name in fuzz.DECODER_REFUSES and encoding == "json" and _reads_json(case):
            return f"{status}: the body should have been refused"
        return None
    content_type = response.get("Content-Type", "")
    shape = _shape(case)
    if shape not in ("api", "json"):
        media_type = "text/html" if shape == "page" else shape
        return None if content_type.startswith(media_type) else f"{status} {content_type}, not {media_type}"
    if not content_type.startswith("application/json"):
        return f"{status} {content_type}, not JSON"
    body = response.json()
    keys = {"code", "message", "fields"} if shape == "api" else {"code", "message"}
    if not (set(body) == keys if shape == "api" else keys <= set(body)):
        return f"{status} {body!r}: not the {shape} error shape"
    return None


def _reads_json(case) -> bool:
    """Endpoints that parse every JSON body they get: API writes that take a body, the machine
    endpoints and the bid POST."""
    if case.endpoint.key in fuzz.JSON_ENDPOINTS:
        return True
    return case.endpoint.surface == "api" and case.method in ("post", "put", "patch")


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.endpoint.surface}:{c.endpoint.key}:{c.method}" for c in CASES]
)
def test_hostile_input_gets_a_4xx_in_the_endpoints_shape_never_a_5xx(case, world, db):  # noqa: F811
    problems = []
    admin_form = case.endpoint.key.endswith("_change") and case.method == "post"
    page_form = _page_form(case, world) if admin_form else None
    for kind in fuzz.kinds_for(case.method):
        for encoding in fuzz.encodings(case.endpoint.surface, case.method, kind):
            client = _client(case, world)
            client.raise_request_exception = False
            try:
                with transaction.atomic():
                    response = _request(client, case, world, kind, encoding, page_form)
                    transaction.set_rollback(True)
            except Exception as exc:  # noqa: BLE001 - reported with the kind that raised it
                problems.append(f"{kind.name}/{encoding}: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            problem = _problem(case, kind, encoding, response)
            if problem:
                problems.append(f"{kind.name}/{encoding}: {problem} {response.content[:200]!r}")
    assert problems == []
