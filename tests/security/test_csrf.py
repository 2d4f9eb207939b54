"""CSRF on every form, generated from the URL conf.

1. Every URL pattern (the whole resolver tree: pages, admin, allauth, the REST API) is POSTed to
   without a CSRF token, by an anonymous visitor and by a signed-in superuser (whose session cookie
   would be the ambient authority a forged request rides on). Each must answer 403 "CSRF" unless it
   is in ALLOW_LIST below, which says how that endpoint authenticates instead. The set of endpoints
   that take a POST without a token must equal the allow-list exactly: a new one fails this test.
2. Every page reachable from the seeded demo world (crawled as a visitor, a shopper, a merchant and
   ops) is parsed, and every `<form method="post">` on it must carry a `csrfmiddlewaretoken`.
"""

import io
import uuid
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

from shops.apikeys import api_key_create
from shops.models import Shop, User

pytestmark = pytest.mark.django_db

# Endpoints that accept a POST without Django's CSRF token, and why that is safe. Each is reached
# by machines, never by a browser carrying the victim's session, and authenticates every request itself.
ALLOW_LIST = {
    # Payment provider webhooks: authenticated by the HMAC signature header (Livemarket-Signature).
    "payments/webhooks/<slug:gateway>/",
    # The media server's callbacks: authenticated by the show's secret stream key in the body.
    "streams/on_publish",
    "streams/on_publish_done",
    "streams/on_update",
}
# The REST API is csrf_exempt at the Django level (DRF), but its SessionAuthentication enforces CSRF
# for session users, so it is NOT in the allow-list: a signed-in POST without a token must get 403.
# Requests authenticated by an API key (Authorization: Bearer) need no token: a browser never adds
# that header to a cross-site request (see test_api_key_requests_need_no_csrf_token).

SAMPLES = ("1", "x", "ABCD1234", "shops", str(uuid.UUID(int=1)), "abc-1")
FORMATS = ("json", ".json")  # DRF's format suffix: `.json` after a route, or the converter's own dot


def _walk(resolver: URLResolver, regex: str = "", route: str = ""):
    for entry in resolver.url_patterns:
        part_regex = entry.pattern.regex.pattern
        full_regex = regex + (part_regex[1:] if regex and part_regex.startswith("^") else part_regex)
        full_route = route + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, full_regex, full_route)
        elif isinstance(entry, URLPattern):
            yield full_route, full_regex, entry


def _concrete_url(regex: str, pattern: URLPattern) -> str | None:
    """A path that resolves to this very pattern, with sample values for its arguments."""
    for template, params in normalize(regex):
        for sample, suffix in ((s, f) for s in SAMPLES for f in FORMATS):
            values = {p: (suffix if p == "format" else sample) for p in params}
            url = "/" + template % values
            try:
                match = resolve(url)
            except Resolver404:
                continue
            if match.func is pattern.callback or getattr(match.func, "__wrapped__", None) is getattr(
                pattern.callback, "__wrapped__", pattern.callback
            ):
                return url
    return None


def all_patterns() -> list[tuple[str, str]]:
    """(route, concrete url) for every pattern; a pattern no sample resolves to fails loudly."""
    out, unresolvable = [], []
    for route, regex, pattern in _walk(get_resolver()):
        url = _concrete_url(regex, pattern)
        if url is None:
            unresolvable.append(route)
        else:
            out.append((route, url))
    assert not unresolvable, f"add a sample value so these routes can be tested: {unresolvable}"
    return out


def _is_csrf_failure(response) -> bool:
    """Django's CSRF page, or DRF's SessionAuthentication refusal (whose HTML renderer, on the API docs
    pages, shows only "403 Forbidden": the reason is in the response's data)."""
    if response.status_code != 403:
        return False
    data = getattr(response, "data", None)
    if isinstance(data, dict) and "CSRF Failed" in str(data.get("message", data.get("detail", ""))):
        return True
    return b"CSRF verification failed" in response.content or b"CSRF Failed" in response.content


@pytest.fixture
def ops(db):
    return User.objects.create_superuser("ops-csrf", "ops-csrf@example.test", "pass-word-123")


def _csrf_exempt_posts(client: Client) -> dict[str, int]:
    """Route -> status for every route that did not refuse a token-less POST as CSRF."""
    exempt = {}
    for route, url in all_patterns():
        response = client.post(url, data={"x": "1"})
        if _is_csrf_failure(response):
            continue
        if response.status_code == 405:
            continue  # takes no POST at all (and was never CSRF-checked): nothing to forge
        exempt[route] = response.status_code
    return exempt


def test_the_walk_covers_pages_admin_allauth_and_api():
    routes = [route for route, _ in all_patterns()]
    assert len(routes) > 150, len(routes)
    for expected in (
        "cart/add/",
        "checkout/",
        "admin/catalog/product/<path:object_id>/change/",
        "accounts/login/",
        "api/v1/^merchant/products/$",
        "shows/<int:show_id>/lots/<int:lot_id>/bid/",
    ):
        assert expected in routes, expected


def test_signed_in_post_without_token_is_refused_everywhere_but_the_allow_list(ops):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops)
    exempt = _csrf_exempt_posts(client)
    assert set(exempt) == ALLOW_LIST, (
        "These routes took a signed-in POST without a CSRF token; protect them or add them, with the "
        f"reason, to ALLOW_LIST: {sorted(set(exempt) - ALLOW_LIST)}; "
        f"stale allow-list entries: {sorted(ALLOW_LIST - set(exempt))}"
    )
    # ...and each allow-listed endpoint refuses a request without its own credentials.
    for route, status in exempt.items():
        assert 400 <= status < 500, (route, status)


def test_anonymous_post_without_token_is_refused_by_every_page(db):
    """Login CSRF and anonymous carts: the Django views refuse a token-less anonymous POST too.
    The REST API has no session to ride on for an anonymous caller, so it may answer 401/403/404/405."""
    client = Client(enforce_csrf_checks=True)
    exempt = _csrf_exempt_posts(client)
    not_api = {route: status for route, status in exempt.items() if not route.startswith("api/")}
    assert set(not_api) == ALLOW_LIST, sorted(set(not_api) - ALLOW_LIST)
    for route, status in exempt.items():
        assert status in (400, 401, 403, 404, 405), (route, status)


def test_allow_listed_endpoints_refuse_missing_credentials(db):
    client = Client(enforce_csrf_checks=True)
    for path in ("/streams/on_publish", "/streams/on_publish_done", "/streams/on_update"):
        response = client.post(path, data={"name": "not-a-stream-key"})
        assert response.status_code == 403, path
    response = client.post(
        "/payments/webhooks/test/", data=b'{"id": "evt_1"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"


def test_api_key_requests_need_no_csrf_token_but_sessions_do(ops):
    """A key in the Authorization header is not ambient: no token needed. The same write with the
    session cookie instead is refused without a token, and accepted with one."""
    shop = Shop.objects.create(name="Csrf Shop", slug="csrf-shop")
    from shops.services import shop_member_add

    shop_member_add(shop=shop, user=ops)
    _, raw = api_key_create(shop=shop, name="tool", created_by=ops)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/merchant/products/",
        data={"title": "Keyed", "status": "draft"},
        content_type="application/json",
        headers={"authorization": f"Bearer {raw}"},
    )
    assert response.status_code == 201, response.content

    client.force_login(ops)
    response = client.post(
        "/api/v1/merchant/products/",
        data={"title": "Session", "status": "draft"},
        content_type="application/json",
    )
    assert _is_csrf_failure(response), response.content
    client.get("/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/api/v1/me/reminders/",
        data={"show": 999999},
        content_type="application/json",
        headers={"x-csrftoken": token},
    )
    assert not _is_csrf_failure(response)
    assert response.status_code in (400, 404)  # past CSRF: the body is checked (no such show)


# --- Every rendered POST form carries the token -------------------------------------------------------


class _FormScan(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []  # {"action", "method", "has_token"}
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "form":
            form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "hx_post": "hx-post" in attrs,
                "has_token": False,
            }
            self.forms.append(form)
            self._open.append(form)
        elif (
            tag == "input"
            and attrs.get("name") == "csrfmiddlewaretoken"
            and self._open
            and attrs.get("value")
        ):
            self._open[-1]["has_token"] = True

    def handle_endtag(self, tag):
        if tag == "form" and self._open:
            self._open.pop()


# Links a crawl must not follow: they change state on GET or leave the site's HTML.
SKIP_PREFIXES = ("/accounts/logout", "/static/", "/media/", "/api/", "/ws/")
SKIP_SUFFIXES = ("export/", "export_csv/", ".csv", "/delete/")


def _crawl(client: Client, start: list[str], limit: int) -> tuple[int, int, list[tuple[str, dict]]]:
    """Breadth-first over same-site links; at most two pages per route so the admin doesn't explode.
    Returns the pages fetched, how many had a POST form, and every POST form without a token."""
    seen, per_route = set(), {}
    queue = deque(start)
    missing, pages_with_forms, fetched = [], 0, 0
    while queue and fetched < limit:
        url = queue.popleft()
        parts = urlsplit(url)
        path = parts.path
        if parts.netloc and parts.netloc != "testserver":
            continue
        if url in seen or path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
            continue
        seen.add(url)
        try:
            route = resolve(path).route
        except Resolver404:
            continue
        if per_route.get(route, 0) >= 2:
            continue
        per_route[route] = per_route.get(route, 0) + 1
        response = client.get(url)
        fetched += 1
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        scan = _FormScan()
        scan.feed(response.content.decode())
        post_forms = [f for f in scan.forms if f["method"] == "post" or f["hx_post"]]
        if post_forms:
            pages_with_forms += 1
        missing += [(url, f) for f in post_forms if not f["has_token"]]
        for href in scan.links:
            target = urljoin(url, href).split("#")[0]
            if urlsplit(target).query and path.startswith("/admin/"):
                continue  # admin filters and sorting: the same forms again
            queue.append(target)
    return fetched, pages_with_forms, missing


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=io.StringIO())


@pytest.mark.parametrize("username", [None, "shopper", "merchant", "ops"])
def test_every_post_form_on_every_reachable_page_carries_the_csrf_token(seeded, username):
    client = Client()
    start = [
        "/",
        "/cart/",
        "/checkout/",
        "/products/",
        "/search/?q=a",
        "/accounts/login/",
        "/accounts/signup/",
    ]
    if username:
        client.force_login(User.objects.get(username=username))
        start += ["/orders/", "/account/bidding/", "/accounts/password/change/", "/accounts/email/"]
        if username in ("merchant", "ops"):
            start += ["/admin/"]
    fetched, pages_with_forms, missing = _crawl(client, start, limit=400)
    # Seeded world: ~20 storefront pages for a visitor, 100+ admin pages for merchant and ops.
    assert fetched >= (100 if username in ("merchant", "ops") else 15), fetched
    assert pages_with_forms >= 5, pages_with_forms
    assert not missing, missing
