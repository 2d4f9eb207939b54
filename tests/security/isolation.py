"""The tenant isolation matrix: every URL pattern (storefront, admin, API) and every live-room action,
times five roles, with the exact outcome each must get.

The patterns come from `get_resolver()` (so admin's generated URLs for every registered ModelAdmin and
the API router's routes are in it) and the room actions from `ShowConsumer`'s `action_*` handlers. A
pattern or action with no rule here fails `test_every_endpoint_has_a_rule` (or its room twin), naming it.

Roles:
- anonymous: no session, no key;
- other_shopper: a signed-in shopper (B) who owns none of the objects in the URL;
- other_staff: shop B's staff (a session on pages and the admin, shop B's API key on the API);
- owner: shop A's staff (shop A's key on the API) for shop-owned objects, shopper A for shopper-owned
  ones (orders, cart, addresses, cards, reminders);
- ops: a superuser (ops staff), signed in.

Outcomes are strings: "200", "404", "403", ... and "302->url_name" for a redirect, naming the view the
Location resolves to (e.g. "302->account_login", "302->admin:login"). Room outcomes are
"accepted:<event type>" or "error:<code>".

`reliability_rows()` flattens the matrix for docs/reliability.md; it touches no database.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver

ROLES = ("anonymous", "other_shopper", "other_staff", "owner", "ops")
LOGIN = "302->account_login"
ADMIN_LOGIN = "302->admin:login"


def by_role(anonymous: str, other_shopper: str, other_staff: str, owner: str, ops: str) -> dict[str, str]:
    return dict(zip(ROLES, (anonymous, other_shopper, other_staff, owner, ops), strict=True))


def everyone(outcome: str) -> dict[str, str]:
    return dict.fromkeys(ROLES, outcome)


def signed_in(outcome: str, anonymous: str = LOGIN) -> dict[str, str]:
    """A page for whoever is signed in (each sees only their own data); anonymous goes to login."""
    return by_role(anonymous, outcome, outcome, outcome, outcome)


@dataclass(frozen=True)
class Rule:
    """`owned_by` says whose object the URL names: "shop" (shop A), "shopper" (shopper A), "self"
    (each role's own, e.g. the cart), "public" or "ops" (ops-only records)."""

    owned_by: str
    expect: dict[str, dict[str, str]]  # method -> role -> outcome
    kwargs: Callable[[dict], dict] | None = None  # the world -> URL kwargs (shop A's / shopper A's objects)
    body: Callable[[dict], dict] | None = None  # the world -> body for writes
    snapshot: str | None = None  # for admin objects: the model label whose row must survive a refusal
    query: Callable[[dict], dict] | None = None  # the world -> query string for GET
    json: bool = False  # API bodies go as JSON (multipart when they hold a file)


PUBLIC_GET = {"get": everyone("200")}


def R(outcomes: str) -> dict[str, str]:
    """Five outcomes in role order (anonymous, other_shopper, other_staff, owner, ops)."""
    return by_role(*outcomes.split())


def _kw(**makers) -> Callable[[dict], dict]:
    return lambda w: {name: make(w) for name, make in makers.items()}


def _body(**makers) -> Callable[[dict], dict]:
    return lambda w: {name: make(w) if callable(make) else make for name, make in makers.items()}


SHOP_KW = _kw(shop_slug=lambda w: w["a"]["shop"].slug)
SHOW_KW = _kw(show_id=lambda w: w["a"]["show"].pk)
UPCOMING_KW = _kw(show_id=lambda w: w["a"]["upcoming"].pk)
VARIANT_BODY = _body(variant_id=lambda w: w["a"]["variant"].pk, quantity=1)
NO_KEY = _body(name="not-a-stream-key")
L, AL = LOGIN, ADMIN_LOGIN

# --- Storefront, accounts, API docs and the admin's own pages: keyed by URL name (or pattern) --------

RULES: dict[str, Rule] = {
    # Public pages: every role sees the same thing.
    "healthz": Rule("public", {"get": everyone("200"), "post": everyone("405")}),
    "home": Rule("public", PUBLIC_GET),
    "search": Rule("public", PUBLIC_GET),
    "product_list": Rule("public", PUBLIC_GET),
    "category_detail": Rule("public", PUBLIC_GET, _kw(category_slug=lambda w: w["category"].slug)),
    "shop_detail": Rule("public", PUBLIC_GET, SHOP_KW),
    "product_detail": Rule(
        "public",
        PUBLIC_GET,
        _kw(shop_slug=lambda w: w["a"]["shop"].slug, product_slug=lambda w: w["a"]["product"].slug),
    ),
    "show_detail": Rule("public", PUBLIC_GET, SHOW_KW),
    "^media/(?P<path>.*)$": Rule("public", PUBLIC_GET, _kw(path=lambda w: w["a"]["image"].image.name)),
    "api-schema": Rule("public", PUBLIC_GET),
    "api-docs": Rule("public", PUBLIC_GET),
    "api-redoc": Rule("public", PUBLIC_GET),
    # The media server's callbacks: the stream key is the credential, whoever is signed in.
    "stream_on_publish": Rule("public", {"get": everyone("405"), "post": everyone("403")}, body=NO_KEY),
    "stream_on_publish_done": Rule("public", {"get": everyone("405"), "post": everyone("403")}, body=NO_KEY),
    "stream_on_update": Rule("public", {"get": everyone("405"), "post": everyone("403")}, body=NO_KEY),
    "payment_webhook": Rule(
        "public", {"get": everyone("405"), "post": everyone("400")}, _kw(gateway=lambda w: "test"), _body()
    ),
    # Each role's own cart, checkout, orders and bidding setup.
    "cart": Rule("self", PUBLIC_GET),
    "cart_add": Rule("self", {"get": everyone("405"), "post": everyone("302->cart")}, body=VARIANT_BODY),
    "checkout": Rule("self", {"get": R(f"{L} 200 302->cart 200 302->cart")}),  # the shoppers have carts
    "bidding_setup": Rule("self", {"get": signed_in("200")}),
    "order_list": Rule("self", {"get": signed_in("200")}),
    # Shopper A's objects.
    "cart_line_update": Rule(
        "shopper",
        {"get": everyone("405"), "post": everyone("302->cart")},
        _kw(line_id=lambda w: w["a"]["cart_line"].pk),
        _body(quantity=2),
    ),
    "cart_line_delete": Rule(
        "shopper",
        {"get": everyone("405"), "post": everyone("302->cart")},
        _kw(line_id=lambda w: w["a"]["cart_line"].pk),
        _body(),
    ),
    "checkout_done": Rule(
        "shopper", {"get": R(f"{L} 404 404 200 404")}, _kw(key=lambda w: w["a"]["order"].checkout_key)
    ),
    "order_detail": Rule(
        "shopper", {"get": R(f"{L} 404 404 200 404")}, _kw(number=lambda w: w["a"]["order"].number)
    ),
    "order_cancel": Rule(
        "shopper",
        {"get": R(f"{L} 405 405 405 405"), "post": R(f"{L} 404 404 302->order_detail 404")},
        _kw(number=lambda w: w["a"]["order"].number),
        _body(),
    ),
    # The buyer's review of the shop: shopper A's order has not shipped yet, so the owner gets 409.
    "order_review": Rule(
        "shopper",
        {"get": R(f"{L} 405 405 405 405"), "post": R(f"{L} 404 404 409 404")},
        _kw(number=lambda w: w["a"]["order"].number),
        _body(rating=5, text="Great shop"),
    ),
    # Shop A's show, lot and shop page actions.
    "show_buy": Rule(
        "shop", {"get": R(f"{L} 405 405 405 405"), "post": R(f"{L} 409 409 409 409")}, SHOW_KW, VARIANT_BODY
    ),
    "show_waitlist_join": Rule(
        "shop", {"get": R(f"{L} 405 405 405 405"), "post": R(f"{L} 409 409 409 409")}, SHOW_KW, VARIANT_BODY
    ),
    "show_remind": Rule(
        "shop",
        {"get": R(f"{L} 405 405 405 405"), "post": signed_in("302->show_detail")},
        UPCOMING_KW,
        _body(),
    ),
    "lot_bid": Rule(
        "shop",
        {
            "get": everyone("405"),
            "post": R("401 409 403 403 403"),
        },  # closed lot; staff and ops have no saved card
        _kw(show_id=lambda w: w["a"]["show"].pk, lot_id=lambda w: w["a"]["lot"].pk),
        _body(amount="500.00"),
    ),
    "host_console": Rule("shop", {"get": R(f"{L} 404 404 200 200")}, SHOW_KW),
    # A new stream key, shown once: the show's hosts only (tests/security/test_secrets.py).
    "host_stream_key": Rule(
        "shop", {"get": R(f"{L} 405 405 405 405"), "post": R(f"{L} 404 404 200 200")}, SHOW_KW, _body()
    ),
    "shop_follow": Rule(
        "shop", {"get": R(f"{L} 405 405 405 405"), "post": signed_in("302->shop_detail")}, SHOP_KW, _body()
    ),
    # Accounts (django-allauth): nobody's tenant data, but every pattern gets a rule.
    "favicon": Rule("public", PUBLIC_GET),
    "account_login": Rule("public", {"get": R("200 302->home 302->home 302->home 302->home")}),
    "account_logout": Rule("public", {"get": R("302->home 200 200 200 200")}),
    "account_inactive": Rule("public", PUBLIC_GET),
    "account_signup": Rule("public", {"get": R("200 302->home 302->home 302->home 302->home")}),
    "account_reauthenticate": Rule("self", {"get": signed_in("200")}),
    # allauth 65.22: re-authenticate by a mailed code (login by code is off here).
    # A code is offered only to a user with a verified address (the world's owner); the others are
    # sent to the password form. Confirming with no code asked for sends one back to ask first.
    "account_request_reauthentication_code": Rule(
        "self",
        {
            "get": R(
                f"{L} 302->account_reauthenticate 302->account_reauthenticate 200 302->account_reauthenticate"
            )
        },
    ),
    "account_confirm_reauthentication_code": Rule(
        "self", {"get": signed_in("302->account_request_reauthentication_code")}
    ),
    "account_email": Rule("self", {"get": signed_in("200")}),
    "account_email_verification_sent": Rule("public", PUBLIC_GET),
    "account_change_password": Rule("self", {"get": signed_in("200")}),
    "account_set_password": Rule("self", {"get": signed_in("302->account_change_password")}),
    "account_reset_password": Rule("public", PUBLIC_GET),
    "account_confirm_login_code": Rule("public", {"get": R(f"{L} 302->home 302->home 302->home 302->home")}),
    "account_confirm_email": Rule("public", PUBLIC_GET, _kw(key=lambda w: "not-a-key")),
    "account_reset_password_from_key_done": Rule("public", PUBLIC_GET),
    "account_reset_password_from_key": Rule(
        "public", PUBLIC_GET, _kw(uidb36=lambda w: "zz", key=lambda w: "not-a-key")
    ),
    "account_reset_password_done": Rule("public", PUBLIC_GET),
    # The admin's own pages.
    "admin:index": Rule("shop", {"get": R(f"{AL} {AL} 200 200 200")}),
    "admin:login": Rule("public", {"get": R("200 200 302->admin:index 302->admin:index 302->admin:index")}),
    "admin:logout": Rule("public", {"get": R("302->admin:index 302->admin:index 405 405 405")}),
    "admin:password_change": Rule("shop", {"get": R(f"{AL} {AL} 200 200 200")}),
    "admin:password_change_done": Rule("shop", {"get": R(f"{AL} {AL} 200 200 200")}),
    "admin:jsi18n": Rule("public", {"get": R(f"{AL} {AL} 200 200 200")}),
    "admin:autocomplete": Rule(
        "shop",
        {"get": R(f"{AL} {AL} 200 200 200")},
        query=lambda w: {
            "term": "Alpha",
            "app_label": "shows",
            "model_name": "show",
            "field_name": "products",
        },
    ),
    "admin:view_on_site": Rule(
        "shop",
        {"get": R(f"{AL} {AL} 404 302->order_detail 302->order_detail")},
        _kw(content_type_id=lambda w: w["order_ct"], object_id=lambda w: w["a"]["order"].pk),
    ),
    "admin:app_list": Rule("shop", {"get": R(f"{AL} {AL} 200 200 200")}, _kw(app_label=lambda w: "catalog")),
    "admin/(?P<url>.*)$": Rule("public", {"get": R(f"{AL} {AL} 404 404 404")}, _kw(url=lambda w: "nope/")),
    "admin:shows_show_stream_key": Rule(
        "shop",
        {"get": R(f"{AL} {AL} 404 200 200"), "post": R(f"{AL} {AL} 404 200 200")},
        _kw(object_id=lambda w: str(w["a"]["show"].pk)),
        _body(),
        snapshot="shows.show",
    ),
    "admin:catalog_product_import_csv": Rule("shop", {"get": R(f"{AL} {AL} 200 200 200")}),
    "admin:catalog_product_export_csv": Rule("shop", {"get": R(f"{AL} {AL} 200 200 200")}),
    "admin:auth_user_password_change": Rule(
        "ops", {"get": R(f"{AL} {AL} 403 403 200")}, _kw(id=lambda w: w["a"]["shopper"].pk)
    ),
    # The API's root, the shopper's cart and the catch-all.
    "me-cart": Rule("self", {"get": R("401 200 403 200 200")}, json=True),
    "api-root": Rule("public", PUBLIC_GET),
    "api/v1/^(?P<rest>[\\s\\S]*)$": Rule(
        "public", {"get": everyone("404")}, _kw(rest=lambda w: "no-such-route/")
    ),
}

# --- The REST API (/api/v1/): every route of the router, with its methods ------------------------------
# Roles: anonymous; shopper B's session; shop B's API key; the owner (shop A's key on merchant routes,
# shopper A's session on /me/ routes); ops signed in.

API_LOOKUPS = {
    "public-shop": lambda w: w["a"]["shop"].slug,
    "public-product": lambda w: w["a"]["product"].pk,
    "public-show": lambda w: w["a"]["upcoming"].pk,
    "me-reminder": lambda w: w["a"]["upcoming"].pk,
    "me-cart-line": lambda w: w["a"]["cart_line"].pk,
    "me-order": lambda w: w["a"]["order"].number,
}


def _api_kwargs(basename: str, param: str):
    def kwargs(w):
        from tests.api.test_tenant_isolation import DETAIL_LOOKUPS

        value = API_LOOKUPS[basename](w) if basename in API_LOOKUPS else DETAIL_LOOKUPS[basename](w["a"])
        return {param: value}

    return kwargs


def _api_write(w):
    from tests.api.test_tenant_isolation import ANY_WRITE

    return ANY_WRITE


def _api_create(basename: str):
    def body(w):
        from tests.api.test_tenant_isolation import FOREIGN_CREATES

        me = {
            "me-reminder": {"show": w["a"]["upcoming"].pk},
            "me-cart-line": {"variant": w["a"]["variant"].pk, "quantity": 1},
        }
        return me[basename] if basename in me else FOREIGN_CREATES[basename](w["a"])

    return body


API: dict[str, dict[str, str]] = {
    "public-shop-list": {"get": "200 200 200 200 200"},
    "public-shop-detail": {"get": "200 200 200 200 200"},
    "public-product-list": {"get": "200 200 200 200 200"},
    "public-product-detail": {"get": "200 200 200 200 200"},
    "public-show-list": {"get": "200 200 200 200 200"},
    "public-show-detail": {"get": "200 200 200 200 200"},
    "merchant-product-list": {"get": "401 403 200 200 200", "post": "401 403 400 201 201"},
    "merchant-product-detail": {
        "delete": "401 403 404 409 409",
        "get": "401 403 404 200 200",
        "patch": "401 403 404 200 200",
    },
    "merchant-variant-list": {"get": "401 403 200 200 200", "post": "401 403 400 201 201"},
    "merchant-variant-detail": {
        "delete": "401 403 404 409 409",
        "get": "401 403 404 200 200",
        "patch": "401 403 404 200 200",
    },
    "merchant-image-list": {"get": "401 403 200 200 200", "post": "401 403 400 201 201"},
    "merchant-image-detail": {
        "delete": "401 403 404 204 204",
        "get": "401 403 404 200 200",
        "patch": "401 403 404 200 200",
    },
    "merchant-stock-list": {"get": "401 403 200 200 200"},
    "merchant-stock-detail": {"get": "401 403 404 200 200", "put": "401 403 404 409 409"},
    "merchant-stock-adjust": {"post": "401 403 404 200 200"},
    "merchant-sync-run-list": {"get": "401 403 200 200 200", "post": "401 403 400 202 202"},
    "merchant-sync-run-detail": {"get": "401 403 404 200 200"},
    "merchant-order-list": {"get": "401 403 200 200 200"},
    "merchant-order-detail": {"get": "401 403 404 200 200"},
    "merchant-order-cancel": {"post": "401 403 404 200 200"},
    "merchant-order-deliver": {"post": "401 403 404 409 409"},
    "merchant-order-refund": {"post": "401 403 404 200 200"},
    "merchant-order-ship": {"post": "401 403 404 200 200"},
    "merchant-webhook-endpoint-list": {"get": "401 403 200 200 200", "post": "401 403 400 201 201"},
    "merchant-webhook-endpoint-detail": {
        "delete": "401 403 404 204 204",
        "get": "401 403 404 200 200",
        "patch": "401 403 404 200 200",
    },
    "merchant-webhook-delivery-list": {"get": "401 403 200 200 200"},
    "merchant-webhook-delivery-detail": {"get": "401 403 404 200 200"},
    "merchant-webhook-delivery-replay": {"post": "401 403 404 200 200"},
    "merchant-show-list": {"get": "401 403 200 200 200", "post": "401 403 400 201 400"},
    "merchant-show-detail": {"get": "401 403 404 200 200", "patch": "401 403 404 200 200"},
    "merchant-show-deals": {"post": "401 403 404 400 400"},
    "merchant-show-end": {"post": "401 403 404 200 200"},
    "merchant-show-go-live": {"post": "401 403 404 409 409"},
    "merchant-show-lineup": {"put": "401 403 404 400 400"},
    "merchant-show-lots": {"get": "401 403 404 200 200", "post": "401 403 404 400 400"},
    "merchant-show-pin": {"post": "401 403 404 400 400"},
    "me-reminder-list": {"get": "401 200 403 200 200", "post": "401 201 403 201 201"},
    "me-reminder-detail": {"delete": "401 404 403 204 404"},
    "me-cart-line-list": {"post": "401 201 403 201 201"},
    "me-cart-line-detail": {"delete": "401 404 403 204 404", "patch": "401 404 403 200 404"},
    "me-order-list": {"get": "401 200 403 200 200"},
    "me-order-detail": {"get": "401 404 403 200 404"},
    "me-order-cancel": {"post": "401 404 403 200 404"},
}


def api_rules() -> dict[str, Rule]:
    """A rule for each route of the router whose name has an API entry (the others stay without one)."""
    from config.api_urls import router

    rules = {}
    for pattern in router.urls:
        if pattern.name in rules or "format" in pattern.pattern.regex.groupindex:
            continue
        basename = next((b for _, _, b in router.registry if pattern.name.startswith(b + "-")), None)
        table = API.get(pattern.name)
        if basename is None or table is None:
            continue
        params = list(pattern.pattern.regex.groupindex)
        owned = (
            "shopper"
            if basename.startswith("me-")
            else "public"
            if basename.startswith("public-")
            else "shop"
        )
        kwargs = _api_kwargs(basename, params[0]) if params else None
        body = _api_create(basename) if not params else _api_write
        rules[pattern.name] = Rule(owned, {m: R(o) for m, o in table.items()}, kwargs, body, json=True)
    return rules


# --- The admin: one rule per registered ModelAdmin, expanded to its generated URLs ------------------


@dataclass(frozen=True)
class AdminModel:
    """What shop A's staff (`merchant`) and ops may do with one model, as letters: v(iew), a(dd),
    c(hange), d(elete). `scoped`: shop-owned rows (another shop's row is a 404); otherwise ops-only
    records, which a merchant lacking the permission gets a 403 for. `obj` finds shop A's (or the
    world's) row for the object URLs; scoped models use their admin's `shop_path`."""

    merchant: str
    ops: str = "vacd"
    scoped: bool = True
    obj: Callable[[dict], object] | None = field(default=None, compare=False)
    # What an allowed delete / change POST gets when it is not the plain outcome: "200" (the row is
    # protected, so the confirmation page explains why), "403" (it would delete related rows the
    # user may not), or a redirect (a form with nothing required is valid empty).
    delete_post: str = ""
    change_post: str = ""


def _ops_row(key: str):
    return lambda w: w["ops_rows"][key]


ADMIN_MODELS: dict[str, AdminModel] = {
    # Ops-only records: no shop owns them.
    "auth.group": AdminModel("", scoped=False, obj=_ops_row("group")),
    "outbox.outboxmessage": AdminModel("", "vd", scoped=False, obj=_ops_row("outbox")),
    "account.emailaddress": AdminModel("", scoped=False, obj=_ops_row("emailaddress")),
    "django_celery_beat.periodictask": AdminModel("", scoped=False, obj=_ops_row("periodictask")),
    "django_celery_beat.clockedschedule": AdminModel("", scoped=False, obj=_ops_row("clocked")),
    "django_celery_beat.crontabschedule": AdminModel("", scoped=False, obj=_ops_row("crontab")),
    "django_celery_beat.solarschedule": AdminModel("", scoped=False, obj=_ops_row("solar")),
    "django_celery_beat.intervalschedule": AdminModel("", scoped=False, obj=_ops_row("interval")),
    "shops.user": AdminModel("", scoped=False, obj=_ops_row("user"), delete_post="200"),  # has orders
    "catalog.category": AdminModel("v", scoped=False, obj=lambda w: w["category"]),
    "orders.paymentwebhookevent": AdminModel("", "v", scoped=False, obj=_ops_row("webhookevent")),
    # Shop-owned rows.
    "shops.shop": AdminModel("vc", "vacd", delete_post="200"),  # protected by its orders
    "shops.shopmembership": AdminModel("v"),
    "shops.follow": AdminModel(""),
    "shops.apikey": AdminModel("vac", "vac"),  # revoked (an action), never deleted
    "shops.webhookendpoint": AdminModel("vacd", delete_post="403"),  # its delivery log stays
    "shops.webhookdelivery": AdminModel("v", "v"),
    "catalog.product": AdminModel("vacd", delete_post="200"),  # protected by order lines
    "catalog.stock": AdminModel("vc", "vcd"),
    "catalog.stockfeed": AdminModel("vacd"),
    "catalog.inventorysyncrun": AdminModel("v", "vd"),
    "orders.order": AdminModel("vc", "vc"),
    "orders.shippingmethod": AdminModel("vacd"),
    "orders.shipment": AdminModel("v", "v"),
    "orders.refund": AdminModel("v", "v"),
    "orders.reservation": AdminModel("v", "v"),
    "orders.waitlistentry": AdminModel("v", "v"),
    # Reviews are the buyer's: staff and ops only toggle `hidden` (an empty form saves hidden=False).
    "orders.review": AdminModel("vc", "vc", change_post="302->admin:{model}_changelist"),
    "shows.show": AdminModel("vacd", delete_post="403"),  # its read-only records stay
    "shows.chatmessage": AdminModel("vcd", "vcd", change_post="302->admin:{model}_changelist"),
    "shows.blockedword": AdminModel("vacd"),
    "shows.showsummary": AdminModel("v", "v"),
    "shows.flashdeal": AdminModel("v", "v"),
    "shows.giveaway": AdminModel("v", "v"),
    "shows.shopban": AdminModel("vd", "vd"),
    "shows.showmute": AdminModel("vd", "vd"),
    "shows.showreminder": AdminModel("v", "v"),
    "shows.pinevent": AdminModel("v", "v"),
    "shows.lot": AdminModel("vc", "vc"),  # only an open lot's ceiling is editable
}
ADMIN_VIEWS = ("changelist", "add", "history", "delete", "change", "redirect")


def _admin_outcomes(view: str, spec: AdminModel) -> dict[str, dict[str, str]]:
    def allowed(letters: str, letter: str) -> bool:
        return letter in letters or (letter == "v" and "c" in letters)

    need = {"changelist": "v", "add": "a", "history": "v", "delete": "d", "change": "v", "redirect": "v"}[
        view
    ]

    def page(letters: str, *, foreign: bool) -> str:
        if view == "redirect":
            return "302->admin:" + "{model}_change"
        if foreign and view not in ("changelist", "add"):
            return "404" if spec.scoped else ("200" if allowed(letters, need) else "403")
        return "200" if allowed(letters, need) else "403"

    get = by_role(
        ADMIN_LOGIN,
        ADMIN_LOGIN,
        page(spec.merchant, foreign=True),
        page(spec.merchant, foreign=False),
        page(spec.ops, foreign=False),
    )
    expect = {"get": get}
    if view == "change":
        # An empty form: re-rendered with errors where one may change (nothing saved), else 403.
        def post(letters: str, *, foreign: bool) -> str:
            if foreign and spec.scoped:
                return "404"
            return (spec.change_post or "200") if "c" in letters else "403"

        expect["post"] = by_role(
            ADMIN_LOGIN,
            ADMIN_LOGIN,
            post(spec.merchant, foreign=True),
            post(spec.merchant, foreign=False),
            post(spec.ops, foreign=False),
        )
    if view == "delete":

        def delete(letters: str, *, foreign: bool) -> str:
            if foreign and spec.scoped:
                return "404"
            if "d" not in letters:
                return "403"
            # Django goes back to the list when one may change rows, else to the index.
            return spec.delete_post or (
                "302->admin:{model}_changelist" if "c" in letters else "302->admin:index"
            )

        expect["post"] = by_role(
            ADMIN_LOGIN,
            ADMIN_LOGIN,
            delete(spec.merchant, foreign=True),
            delete(spec.merchant, foreign=False),
            delete(spec.ops, foreign=False),
        )
    return expect


def admin_label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def admin_rules() -> dict[str, Rule]:
    """The rules for every registered ModelAdmin's generated URLs (only those with an ADMIN_MODELS entry:
    the others stay without a rule, so the matrix names them)."""
    rules = {}
    for model, model_admin in admin.site._registry.items():
        label = admin_label(model)
        spec = ADMIN_MODELS.get(label)
        if spec is None:
            continue
        info = f"{model._meta.app_label}_{model._meta.model_name}"
        prefix = f"admin:{info}"
        finder = spec.obj or _scoped_row(model, getattr(model_admin, "shop_path", "shop"))
        kwargs = _object_id(finder)
        owned = "shop" if spec.scoped else "ops"
        for view in ADMIN_VIEWS:
            expect = {
                method: {role: outcome.format(model=info) for role, outcome in outcomes.items()}
                for method, outcomes in _admin_outcomes(view, spec).items()
            }
            if view == "redirect":
                key = f"admin/{model._meta.app_label}/{model._meta.model_name}/<path:object_id>/"
            else:
                key = f"{prefix}_{view}"
            needs_obj = view not in ("changelist", "add")
            body = (lambda w: {"post": "yes"}) if view == "delete" else (lambda w: {})
            rules[key] = Rule(owned, expect, kwargs if needs_obj else None, body, snapshot=label)
    return rules


def _scoped_row(model, shop_path: str):
    def find(w):
        return model.objects.filter(**{shop_path: w["a"]["shop"].pk}).order_by("pk").first()

    return find


def _object_id(finder):
    def kwargs(w):
        obj = finder(w)
        assert obj is not None, "the world has no row for this admin"
        return {"object_id": str(obj.pk)}

    return kwargs


# --- Collecting the endpoints and the cases ---------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    key: str  # the rule key: the URL name (namespaced) or, for an unnamed pattern, the route
    route: str
    surface: str
    callback: object = field(compare=False, repr=False)


def _walk(resolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}{pattern.namespace}:"
            yield from _walk(pattern, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            key = f"{namespace}{pattern.name}" if pattern.name else route
            yield key, route, pattern.callback


def _surface(route: str) -> str:
    if route.startswith("admin/"):
        return "admin"
    if route.startswith("api/"):
        return "api"
    return "storefront"


def endpoints() -> list[Endpoint]:
    """Every URL pattern once (format-suffix twins share their route's name and rule)."""
    seen = {}
    for key, route, callback in _walk(get_resolver()):
        if key not in seen:
            seen[key] = Endpoint(key, "/" + route, _surface(route), callback)
    return list(seen.values())


def all_rules() -> dict[str, Rule]:
    return {**RULES, **admin_rules(), **api_rules()}


@dataclass(frozen=True)
class Case:
    endpoint: Endpoint
    rule: Rule
    method: str
    role: str

    @property
    def expected(self) -> str:
        return self.rule.expect[self.method][self.role]

    @property
    def id(self) -> str:
        return f"{self.endpoint.surface}:{self.endpoint.key}:{self.method}:{self.role}"


def cases() -> list[Case]:
    rules = all_rules()
    return [
        Case(endpoint, rules[endpoint.key], method, role)
        for endpoint in endpoints()
        if endpoint.key in rules
        for method in rules[endpoint.key].expect
        for role in ROLES
    ]


# --- The live room: every `action_*` of ShowConsumer -------------------------------------------------
# tests/shows/test_room_actions.py runs every action (and each moderation op) for every role in a real
# room and fails when the consumer grows an action without a rule there; its roles map onto ours.

ROOM_ROLES = {
    "anonymous": "anonymous",
    "other_shopper": "shopper",
    "other_staff": "other_shop_staff",
    "owner": "host",
    "ops": "ops",
}


def room_rules() -> dict[str, dict[str, str]]:
    """Action (or "moderate:<op>") -> role -> "accepted:<event>" or "error:<code>"."""
    from tests.shows.test_room_actions import RULES as ROOM_KIT

    return {
        action: {
            role: f"accepted:{rule.event}" if kit_role in rule.allowed else f"error:{rule.refusal}"
            for role, kit_role in ROOM_ROLES.items()
        }
        for action, rule in ROOM_KIT.items()
    }


def room_actions() -> list[str]:
    from shows.consumers import ShowConsumer

    return sorted(name.removeprefix("action_") for name in dir(ShowConsumer) if name.startswith("action_"))


def reliability_rows() -> list[dict]:
    """One row per case of the matrix, for docs/reliability.md (no database needed)."""
    rows = [
        {
            "surface": case.endpoint.surface,
            "endpoint": case.endpoint.route,
            "role": case.role,
            "method": case.method.upper(),
            "expected": case.expected,
        }
        for case in cases()
    ]
    rows += [
        {
            "surface": "websocket",
            "endpoint": f"/ws/shows/<show_id>/ {action}",
            "role": role,
            "method": "WS",
            "expected": expected,
        }
        for action, outcomes in room_rules().items()
        for role, expected in outcomes.items()
    ]
    return rows
