"""The tenant isolation matrix over HTTP: every URL pattern (storefront, admin, API) x method x role,
each asserting its exact outcome (tests/security/isolation.py has the rules).

The world (two shops, two shoppers, ops) is built once per module inside a transaction that is rolled
back at the end; each case runs in a savepoint of its own (the `db` fixture), so a write by the owner
never leaks into the next case. A refused write must leave shop A's and shopper A's rows as they were.
"""

import os
import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import TestCase
from django.urls import Resolver404, resolve, reverse
from rest_framework.test import APIClient

from orders.models import Address, CartLine, Order, PaymentMethod
from shops.models import Follow
from shows.models import ShowReminder
from tests.api.conftest import _generous_throttles  # noqa: F401  (autouse: the matrix makes many calls)
from tests.api.test_tenant_isolation import _snapshot
from tests.conftest import clear_room_state
from tests.security.isolation import (
    ADMIN_MODELS,
    ROLES,
    ROOM_ROLES,
    admin_label,
    all_rules,
    cases,
    endpoints,
    reliability_rows,
    room_actions,
    room_rules,
)
from tests.security.world import build_world
from tests.shows.test_consumer_room import login_session_key

CASES = cases()
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            clear_room_state()
            with TestCase.captureOnCommitCallbacks(execute=True):
                built = build_world()
            built["order_ct"] = ContentType.objects.get_for_model(Order).pk
            # One session per person for the whole module (each case's writes roll back around it).
            people = [built["ops"], *(built[t][k] for t in "ab" for k in ("staff", "shopper"))]
            built["sessions"] = {user.pk: login_session_key(user) for user in people}
            yield built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_every_endpoint_has_a_rule():
    rules = all_rules()
    missing = [f"{e.route} ({e.key})" for e in endpoints() if e.key not in rules]
    assert missing == [], f"add an isolation rule for: {missing}"
    stale = set(rules) - {e.key for e in endpoints()}
    assert stale == set(), f"rules for patterns that no longer exist: {sorted(stale)}"


def test_every_registered_model_admin_has_a_rule():
    registered = {admin_label(model) for model in admin.site._registry}
    assert registered - set(ADMIN_MODELS) == set(), "add an ADMIN_MODELS rule for these"
    assert set(ADMIN_MODELS) - registered == set(), "ADMIN_MODELS names a model that is not registered"


def test_every_api_method_has_a_rule():
    rules = all_rules()
    for endpoint in endpoints():
        actions = getattr(endpoint.callback, "actions", None)
        if actions and endpoint.key in rules:
            assert set(actions) - {"head", "options"} <= set(rules[endpoint.key].expect), (
                endpoint.key,
                sorted(actions),
            )


def test_the_matrix_covers_all_surfaces_and_roles():
    assert {c.endpoint.surface for c in CASES} == {"storefront", "admin", "api"}
    assert {c.role for c in CASES} == set(ROLES)
    assert len(CASES) > 1500


def test_every_room_action_has_an_outcome_for_every_role():
    from tests.shows.test_room_actions import ROLES as ROOM_KIT_ROLES

    rules = room_rules()
    assert {action.split(":")[0] for action in rules} == set(room_actions())
    assert all(set(outcomes) == set(ROLES) for outcomes in rules.values())
    assert set(ROOM_ROLES.values()) <= set(ROOM_KIT_ROLES)


HOST_ONLY = ["pin", "go_live", "end", "deal_start", "deal_end", "giveaway_start", "giveaway_draw"]
HOST_ONLY += ["moderate:delete", "moderate:mute", "moderate:ban", "lot_start", "lot_after_payment"]


@pytest.mark.parametrize("action", HOST_ONLY)
def test_host_actions_are_the_owner_shops_and_ops_alone(action):
    outcomes = room_rules()[action]
    assert outcomes["owner"].startswith("accepted:") and outcomes["ops"] == outcomes["owner"]
    assert {outcomes[r] for r in ("anonymous", "other_shopper", "other_staff")} == {"error:forbidden"}


def test_reliability_rows_cover_the_matrix_without_the_database():
    rows = reliability_rows()  # no `db` fixture: a query here would raise
    assert len(rows) == len(CASES) + len(ROLES) * len(room_rules())
    assert {row["surface"] for row in rows} == {"storefront", "admin", "api", "websocket"}
    assert all(set(row) == {"surface", "endpoint", "role", "method", "expected"} for row in rows)
    assert {
        "surface": "storefront",
        "endpoint": "/orders/<str:number>/",
        "role": "other_shopper",
        "method": "GET",
        "expected": "404",
    } in rows


_HANDLER = APIClient().handler  # one middleware chain for all cases (WhiteNoise scans static files per chain)


@pytest.fixture(autouse=True)
def _fresh_room_state():
    """Overrides the suite's per-test Redis sweep: the world fixture sweeps once per module."""


def _client(case, world) -> APIClient:
    client = APIClient()
    client.handler = _HANDLER
    role, rule = case.role, case.rule
    api = rule.json
    if role == "anonymous":
        return client
    if role == "other_staff" and api:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['b']['key']}")
        return client
    if role == "owner" and api and rule.owned_by in ("shop", "public"):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['a']['key']}")
        return client
    user = {
        "other_shopper": world["b"]["shopper"],
        "other_staff": world["b"]["staff"],
        "ops": world["ops"],
        "owner": world["a"]["shopper"] if rule.owned_by in ("shopper", "self") else world["a"]["staff"],
    }[role]
    client.cookies[settings.SESSION_COOKIE_NAME] = world["sessions"][user.pk]
    return client


def _url(case, world) -> str:
    kwargs = case.rule.kwargs(world) if case.rule.kwargs else {}
    if not case.endpoint.key.startswith(("/", "^")) and "<" not in case.endpoint.key:
        return reverse(case.endpoint.key, kwargs=kwargs)
    # An unnamed pattern: fill its converters / named groups by hand.
    route = case.endpoint.route
    filled = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1] or m[2]]), route)
    return filled.replace("^", "").replace("$", "")


def outcome_of(response) -> str:
    if response.status_code in (301, 302, 303):
        target = urlsplit(response["Location"]).path
        try:
            return f"{response.status_code}->{resolve(target).view_name}"
        except Resolver404:
            return f"{response.status_code}->{target}"
    return str(response.status_code)


def _send(client, case, world, url):
    rule, method = case.rule, case.method
    if method == "get":
        return client.get(url, rule.query(world) if rule.query else None)
    body = rule.body(world) if rule.body else {}
    extra = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if rule.json and method == "post" else {}
    if rule.json:
        fmt = "multipart" if any(hasattr(v, "read") for v in body.values()) else "json"
        return getattr(client, method)(url, body, format=fmt, **extra)
    return getattr(client, method)(url, body, format="multipart")  # a browser's form post


def _tenant_state(world, case) -> dict:
    """What a write by someone other than the owner must leave alone: the admin row it named, and
    (past the admin's staff check) everything of shop A and shopper A."""
    state = {}
    if case.rule.snapshot and case.rule.kwargs:
        model = apps.get_model(case.rule.snapshot)
        state["object"] = list(model.objects.filter(pk=case.rule.kwargs(world)["object_id"]).values())
        if case.role != "other_staff":
            return state  # anonymous and shoppers stop at the admin's login
    shopper = world["a"]["shopper"]
    state.update(
        shop=_snapshot(world["a"]["shop"]),
        orders=list(Order.objects.filter(user=shopper).order_by("pk").values("pk", "status")),
        cart=list(CartLine.objects.filter(cart__user=shopper).order_by("pk").values("pk", "quantity")),
        addresses=list(Address.objects.filter(user=shopper).order_by("pk").values()),
        cards=list(PaymentMethod.objects.filter(user=shopper).order_by("pk").values()),
        reminders=list(ShowReminder.objects.filter(user=shopper).order_by("pk").values()),
        follows=list(Follow.objects.filter(user=shopper).order_by("pk").values()),
    )
    return state


def _must_not_change(case) -> bool:
    """Writes by the three outsiders, and any refused write."""
    if case.method not in WRITES:
        return False
    return case.role not in ("owner", "ops") or case.expected[0] == "4" or case.expected.endswith("login")


RECORD = os.environ.get("ISOLATION_RECORD")  # a file: write the actual outcomes instead of asserting


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_isolation(case, world, db):
    client = _client(case, world)
    url = _url(case, world)
    check_unchanged = _must_not_change(case)
    before = _tenant_state(world, case) if check_unchanged else None
    response = _send(client, case, world, url)
    actual = outcome_of(response)
    if RECORD:
        with open(RECORD, "a") as out:
            out.write(f"{case.id}\t{case.expected}\t{actual}\n")
        return
    assert actual == case.expected, (url, response.content[:300])
    if case.role in ("other_shopper", "other_staff") and response.status_code < 300:
        body = b"".join(response.streaming_content) if response.streaming else response.content
        markers = [world["a"]["order"].number, world["a"]["shopper"].email]
        if case.endpoint.surface == "admin":
            markers.append(world["a"]["shop"].name)  # in shop A's product, show and chat texts too
        for marker in markers:
            assert marker.encode() not in body, f"{marker!r} (shop A's or shopper A's) shown to {case.role}"
    if check_unchanged:
        assert _tenant_state(world, case) == before, "a refused write changed shop A's or shopper A's rows"
