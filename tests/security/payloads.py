"""Hostile text: the XSS and injection corpus every user-writable field is tested with.

`PAYLOADS` is (name, text). `FIELDS` lists each field the corpus is written into (through its real
service, form or view) and everywhere it is then rendered; `reliability_rows()` is the summary that
docs/reliability.md is built from. Nothing here touches the database.
"""

from __future__ import annotations

LONG_TEXT = "<script>alert(1)</script>" + "ꙮ long text " * 800  # ~10,000 characters

PAYLOADS: list[tuple[str, str]] = [
    ("script_tag", "<script>alert(1)</script>"),
    ("img_onerror_breakout", '"><img src=x onerror=alert(1)>'),
    ("single_quote_attr_breakout", "' onmouseover='alert(1)"),
    ("unquoted_attr_breakout", "x onfocus=alert(1) autofocus"),
    ("javascript_url", "javascript:alert(1)"),
    ("javascript_url_obfuscated", " JaVaScRiPt:alert(document.domain)//"),
    ("data_html_url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("svg_onload", "<svg onload=alert(1)>"),
    ("svg_script", "<svg><script>alert(1)</script></svg>"),
    ("textarea_breakout", "</textarea><script>alert(1)</script>"),
    ("title_breakout", "</title><script>alert(1)</script>"),
    ("json_script_breakout", '</script><script>alert(1)</script>{"a":"\\u2028"}'),
    ("iframe_srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>'),
    ("template_injection", "{{ 7*7 }} {% debug %} {{ request.user.password }}"),
    ("template_comment", "{# hidden #}{% load static %}${7*7}#{7*7}"),
    ("rtl_override", "\u202egnp.exe<script>alert(1)</script>\u202c"),
    ("zero_width", "<scr\u200bipt>alert(1)</scr\u200bipt>\ufeff\u200d"),
    ("fullwidth_tags", "＜script＞alert(1)＜/script＞"),
    ("html_entities", "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#x3C;b&#x3E;"),
    ("sql_drop_table", "'; DROP TABLE orders_order; --"),
    ("sql_tautology", "1 OR 1=1"),
    ("sql_union", "' UNION SELECT password FROM shops_user --"),
    ("markdown_link", '[click me](javascript:alert(1)) ![x](x" onerror="alert(1))'),
    ("markdown_autolink", '<javascript:alert(1)> <http://evil.example/?a="><script>alert(1)</script>>'),
    ("css_expression", "<style>*{background:url(javascript:alert(1))}</style>"),
    ("header_injection", "Hello\r\nBcc: victim@example.test"),
    ("long_text", LONG_TEXT),
    ("nul_byte", "nul\x00<script>alert(1)</script>"),
]

# Payloads that PostgreSQL cannot store: every write path must refuse them with a clean 4xx/form
# error (or strip the NUL), never a 500. They are written through the forms and views, not stored.
UNSTORABLE = {"nul_byte"}

STORABLE_PAYLOADS = [(name, text) for name, text in PAYLOADS if name not in UNSTORABLE]

# Payloads that a URL field (a show's playback or replay URL, a webhook endpoint, a stock feed URL)
# must refuse: only http(s) URLs are ever stored.
URL_PAYLOADS = [
    ("javascript_url", "javascript:alert(1)"),
    ("javascript_url_obfuscated", " JaVaScRiPt:alert(document.domain)//"),
    ("javascript_url_tab", "java\tscript:alert(1)"),
    ("data_html_url", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="),
    ("vbscript_url", "vbscript:msgbox(1)"),
]

STOREFRONT = ["home", "shop page", "product page", "products list", "search", "show page", "host console"]
ORDER_PAGES = ["cart", "checkout", "order confirmation", "order list", "order page"]
ADMIN = ["admin changelist", "admin change view"]

# (model field, where it is rendered). Each field gets every storable payload through the path
# named in tests/security/test_hostile_text.py, and is then checked in each of these places.
FIELDS: list[tuple[str, list[str]]] = [
    ("shops.Shop.name", [*STOREFRONT, *ORDER_PAGES, *ADMIN, "e-mail", "API JSON"]),
    ("shops.Shop.description", ["shop page", *ADMIN, "API JSON"]),
    ("shops.User.display_name", ["show page", "host console", *ADMIN, "e-mail", "websocket chat event"]),
    ("catalog.Category.name", ["products list", "category page", "product page", *ADMIN]),
    (
        "catalog.Product.title",
        [*STOREFRONT, *ORDER_PAGES, *ADMIN, "e-mail", "websocket pinned and lot events", "API JSON"],
    ),
    ("catalog.Product.description", ["product page", *ADMIN, "API JSON"]),
    (
        "catalog.Variant.name",
        ["product page", "host console", *ORDER_PAGES, *ADMIN, "e-mail", "websocket pinned event"],
    ),
    ("catalog.ProductImage.alt_text", ["product page", *ADMIN]),
    ("orders.ShippingMethod.name", ["checkout", "order page", *ADMIN, "e-mail"]),
    (
        "shows.Show.title",
        ["home", "shop page", "product page", "show page", "host console", *ADMIN, "e-mail", "API JSON"],
    ),
    ("shows.Show.description", ["show page", *ADMIN, "API JSON"]),
    (
        "shows.ChatMessage.text",
        ["show page", "host console", *ADMIN, "websocket chat event (history and live)"],
    ),
    ("shows.Lot.title", ["show page", "host console", *ADMIN, "websocket lot event"]),
    ("shows.ShopBan.reason (also over the socket)", ADMIN),
    (
        "orders.Order address (full_name, line1, line2, city, postal_code, phone) via the checkout form",
        ["checkout", "bidding setup", "order page", *ADMIN, "e-mail"],
    ),
    ("orders.Shipment.carrier / tracking_number", ["order page", *ADMIN, "e-mail"]),
    ("orders.Refund.reason", ["order page", *ADMIN, "e-mail"]),
    ("orders.Review.text (via review_save)", ["shop page", "order page", *ADMIN]),
    ("shops.ApiKey.name", ADMIN),
    ("search query (?q=), storefront and admin", ["search", "admin changelist"]),
    (
        "URL fields: Show.playback_url / replay_url, WebhookEndpoint.url, StockFeed.url",
        ["refused by form and API"],
    ),
]


def reliability_rows() -> list[dict]:
    """One row per covered field: how many payloads it gets and where it is checked."""
    rows = []
    for field, renderings in FIELDS:
        count = len(URL_PAYLOADS) if field.startswith("URL fields") else len(PAYLOADS)
        rows.append({"field": field, "payloads": count, "renderings": list(dict.fromkeys(renderings))})
    return rows
