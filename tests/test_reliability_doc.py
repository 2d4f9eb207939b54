"""docs/reliability.md is built from the suite's own catalogues, so it says exactly what the suite tries.

The catalogues (no database needed): the hostile-text corpus and the fields it goes into
(tests/security/payloads.py), the generated tenant-isolation matrix (tests/security/isolation.py), the
fuzz corpus over the same endpoints (tests/security/fuzz.py), the rate limits
(tests/security/limits.py), the injected faults (tests/faults/catalogue.py) and the bid bounds
(tests/shows/bid_bounds.py). This test
writes the page afresh and fails when the committed one was out of date, so a new endpoint, payload,
limit or fault shows in the page (commit the rewritten file).
"""

from collections import Counter, defaultdict
from pathlib import Path

from tests.faults.catalogue import FAULTS
from tests.money import catalogue as money
from tests.security import fuzz, isolation, limits, payloads
from tests.shows.bid_bounds import BID_BOUNDS_TRIED, BID_JUMP, MAX_BID_JUMP

PAGE = Path(__file__).resolve().parent.parent / "docs" / "reliability.md"
ROLES = ("anonymous", "other_shopper", "other_staff", "owner", "ops")
SURFACES = ("storefront", "admin", "api", "websocket")


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return lines


def _outcome_kind(expected: str) -> str:
    """For the summary: a redirect into the admin counts as one kind, whichever page it goes to."""
    if expected.startswith("302->admin:") and expected != "302->admin:login":
        return "302->admin page"
    return expected


def _isolation_sections(cases: list[dict]) -> list[str]:
    by_endpoint: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for case in cases:
        by_endpoint[case["surface"], case["endpoint"], case["method"]][case["role"]] = case["expected"]
    endpoints = Counter(surface for surface, _, _ in {(s, e, "") for s, e, _ in by_endpoint})
    summary = [
        [
            surface,
            endpoints[surface],
            sum(1 for case in cases if case["surface"] == surface),
            ", ".join(
                f"{outcome} x{count}"
                for outcome, count in sorted(
                    Counter(
                        _outcome_kind(case["expected"]) for case in cases if case["surface"] == surface
                    ).items()
                )
            ),
        ]
        for surface in SURFACES
    ]
    lines = ["## Endpoints by role", ""]
    lines += [
        f"Every URL pattern, admin URL, API route and websocket action, each tried as {', '.join(ROLES)}: "
        f"**{len(by_endpoint)} endpoint-methods, {len(cases)} cases** "
        "(`tests/security/test_isolation_matrix.py`; a pattern with no rule fails the suite).",
        "",
    ]
    lines += _table(["surface", "endpoints", "cases", "expected outcomes"], summary)
    lines += ["", "<details><summary>The whole matrix</summary>", ""]
    lines += _table(
        ["surface", "endpoint", "method", *ROLES],
        [
            [surface, f"`{endpoint}`", method, *(outcomes.get(role, "") for role in ROLES)]
            for (surface, endpoint, method), outcomes in sorted(by_endpoint.items())
        ],
    )
    lines += ["", "</details>", ""]
    return lines


def _bid_amount(value) -> str:
    if not isinstance(value, str):
        return f"`{value!r}` (a JSON number)"
    return f"`{value[:6]}…` ({len(value)} characters)" if len(value) > 16 else f"`{value}`"


def _bid_outcome(outcome: str) -> str:
    code, *named = outcome.split()
    if code == "accepted":
        return "accepted"
    return f"`{code}`" + (f", names {named[0]}" if named else "")


def _bid_bounds_section() -> list[str]:
    (times, increments), (max_times, max_increments) = BID_JUMP, MAX_BID_JUMP
    lines = [
        "## Bid bounds",
        "",
        f"From a lot's price P (its current bid, or its starting price before the first) and increment I, a "
        f"bid may be at most max({times} x P, P + {increments} x I) and a maximum (proxy) bid at most "
        f"max({max_times} x P, P + {max_increments} x I); the seller's optional ceiling caps both. Each "
        "row is placed through `bid_place` under the lot's lock; a refused one saves nothing and leaves "
        "the lot as it was (`tests/shows/test_bid_bounds.py`). The same refusals, and the hostile "
        "amounts, are sent over the room socket (an `error` event) and the HTTP bid POST (a 4xx), "
        "never a 500.",
        "",
    ]
    lines += _table(
        ["case", "lot price", "increment", "ceiling", "bid", "max bid", "outcome"],
        [
            [
                case.description,
                case.price + ("" if case.opened else " (start, no bids)"),
                case.increment,
                case.ceiling or "",
                _bid_amount(case.amount),
                _bid_amount(case.max_amount) if case.max_amount else "",
                _bid_outcome(case.outcome),
            ]
            for case in BID_BOUNDS_TRIED
        ],
    )
    return [*lines, ""]


def _money_section() -> list[str]:
    sizes = ", ".join(str(n) for n in money.RACE_SIZES)
    lines = [
        "## Money under double submits",
        "",
        f"Each path is fired N = {sizes} times at once with one key (real threads released together by one "
        "barrier, each on its own connection; HTTP against a running uvicorn on PostgreSQL where a person "
        "can send it). After each race every count below must be exactly 1 (`tests/money/test_races_http.py`); "
        "a prize costs nothing, so its payment counts are 0. Behind it: each payment attempt is a row with "
        "the gateway's idempotency key, written under the order's lock before the gateway is called; a "
        "partial unique index allows one open attempt and one capture per order; every status change is a "
        "conditional `UPDATE ... WHERE status = <read>`.",
        "",
    ]
    headers = ["path", "how the N requests arrive", *[name for name, _ in money.MONEY_COUNTS]]
    rows = []
    for key, what, how in money.MONEY_RACES:
        if key in ("shopper_cancel", "admin_refund"):
            continue
        ones = [
            "0" if key in money.NOTHING_TO_PAY and name in ("captured", "gateway_captures") else "1"
            for name, _ in money.MONEY_COUNTS
        ]
        rows.append([what, how, *ones])
    lines += _table(headers, rows)
    lines += ["", "Counted: " + "; ".join(f"{name}: {text}" for name, text in money.MONEY_COUNTS) + ".", ""]
    lines += _table(
        ["transition", "how the N requests arrive", *[name for name, _ in money.REFUND_COUNTS]],
        [
            [what, how, *["1"] * len(money.REFUND_COUNTS)]
            for key, what, how in money.MONEY_RACES
            if key in ("shopper_cancel", "admin_refund")
        ],
    )
    lines += [
        "",
        "## Crashes between the gateway and the commit",
        "",
        "The server is SIGKILLed at each point (a fault point makes the request wait there), started again, "
        "and then the shopper sends the same form again (checkout) and beat's jobs run (payment recovery by "
        "asking the gateway, re-driven packing and e-mails). The counts after must equal those of a run "
        "with no crash, and `reconcile_stock` and `reconcile_payments` must both come out clean "
        "(`tests/money/test_crashes.py`). Also there: expiry never cancels an order whose payment the "
        "gateway captured, and an old checkout form sent after a newer checkout buys nothing twice.",
        "",
    ]
    rows = []
    for _path, how in money.CRASH_PATHS:
        for point, where in money.CRASH_POINTS:
            figures = ", ".join(f"{name} 1" for name in money.CRASH_COUNTS)
            rows.append(
                [how if point == money.CRASH_POINTS[0][0] else "", f"`{point}`: {where}", figures, figures]
            )
    lines += _table(["path", "killed at", "before (no crash)", "after (restart and recovery)"], rows)
    return [*lines, ""]


def _fuzz_section(rows: list[dict]) -> list[str]:
    requests = sum(row.get(name, 0) for row in rows for name in fuzz.KIND_NAMES)
    by_surface = Counter()
    for row in rows:
        by_surface[row["surface"]] += sum(row.get(name, 0) for name in fuzz.KIND_NAMES)
    lines = [
        "## Hostile input (fuzz)",
        "",
        f"Every endpoint-method of the matrix above and every room action gets every kind below: "
        f"**{len(rows)} endpoint-methods and actions, {requests} requests and frames, 0 answered 5xx** "
        "(`tests/security/test_fuzz.py`, `tests/security/test_fuzz_room.py`; the endpoints come from the "
        "isolation matrix, so a new one is fuzzed without a new rule). Each is sent as the endpoint's "
        "owner on top of its ordinary request: values go into every body field (an admin change form's "
        "fields as its page lists them; JSON to the API; a form and JSON to pages and the admin) or every "
        "query parameter of a GET; header kinds set "
        f"{', '.join(f'`{h}`' for h in fuzz.HOSTILE_HEADERS)}. Bodies and frames are decoded by one "
        "bounded decoder (`config/jsonsafe.py`: size first, then nesting depth over the raw text, "
        "valid Unicode, numbers within 64 bits or a double). Every answer is a 4xx in the endpoint's "
        "usual shape (the API's `{code, message, fields}`, JSON `{code, message}` for the payment webhook, "
        "stream callbacks and bid POST, a page elsewhere) or an ordinary answer that ignored the input; "
        "a body the decoder refuses is never taken. In the room every action gets every value kind and "
        "the socket answers `error` and goes on serving; the frames below close it with 1009 before "
        "parsing.",
        "",
    ]
    lines += _table(["kind", "what"], [[kind.name, kind.what] for kind in fuzz.KINDS])
    lines += ["", *_table(["surface", "requests and frames"], sorted(by_surface.items())), ""]
    lines += _table(
        ["room frame", "what", "outcome"], [[name, what, outcome] for name, what, outcome in fuzz.ROOM_FRAMES]
    )
    lines += ["", "<details><summary>Every endpoint by kind (requests of each kind)</summary>", ""]
    lines += _table(
        ["surface", "endpoint", "method", *fuzz.KIND_NAMES],
        [
            [
                row["surface"],
                f"`{row['endpoint']}`",
                row["method"],
                *(row.get(n, "") for n in fuzz.KIND_NAMES),
            ]
            for row in rows
        ],
    )
    lines += ["", "</details>", ""]
    return lines


def build_page() -> str:
    corpus = payloads.PAYLOADS
    fields = payloads.reliability_rows()
    cases = isolation.reliability_rows()
    limit_rows = limits.reliability_rows()
    fuzz_rows = fuzz.reliability_rows()
    lines = [
        "# Reliability and security: what the suite attacks",
        "",
        "Generated by `tests/test_reliability_doc.py` from the suite's own catalogues; do not edit by hand.",
        "Every row is a test that runs in `make test` against PostgreSQL and Redis.",
        "",
        "| what | covered |",
        "|---|---|",
        f"| Hostile-text payloads tried | {len(corpus)} payloads x {len(fields)} fields |",
        f"| Endpoints by role | {len({(c['surface'], c['endpoint'], c['method']) for c in cases})} "
        f"endpoint-methods x {len(ROLES)} roles = {len(cases)} cases |",
        f"| Hostile input (fuzz) | {len(fuzz_rows)} endpoint-methods and room actions x "
        f"{len(fuzz.KINDS)} kinds, 0 5xx |",
        f"| Rate limits | {len(limit_rows)} |",
        f"| Faults injected | {len(FAULTS)} |",
        f"| Bid bounds tried | {len(BID_BOUNDS_TRIED)} |",
        f"| Money races | {len(money.MONEY_RACES)} paths x N in {{{', '.join(map(str, money.RACE_SIZES))}}} |",
        f"| Crash points | {len(money.CRASH_POINTS)} points x {len(money.CRASH_PATHS)} paths |",
        "| Deployment | `Procfile`, `deploy/nginx.conf`, `make cluster` (`deploy/cluster.py`), backups |",
        "",
        "## Payloads tried",
        "",
        "Each payload is written through the real service, form or view into every field below, then every "
        "page, admin view, e-mail, API answer and websocket event that shows the field is rendered; "
        "nothing executes (escaped in HTML, verbatim in JSON, stored verbatim by parameterised SQL), and a "
        "Chromium run over the same pages records no `alert` and no CSP violation "
        "(`tests/security/test_hostile_text.py`, `tests/e2e/test_hostile_text.py`).",
        "",
    ]
    lines += _table(["payload", "text (first 60 characters)"], [[n, f"`{t[:60]!r}`"] for n, t in corpus])
    lines += [""]
    lines += _table(
        ["field", "payloads", "rendered in"],
        [[r["field"], r["payloads"], ", ".join(r["renderings"])] for r in fields],
    )
    lines += [""]
    lines += _isolation_sections(cases)
    lines += [
        "CSRF: every route that accepts a POST is sent one without a token and must answer 403, but for an "
        "allow-list of machine endpoints authenticated by signature or key; every POST form on the seeded "
        "pages carries the token (`tests/security/test_csrf.py`).",
        "",
        *_fuzz_section(fuzz_rows),
        "## Rate limits",
        "",
    ]
    lines += _table(
        ["surface", "limit", "response", "test"],
        [[r["surface"], r["limit"], r["response"], f"`{r['test']}`"] for r in limit_rows],
    )
    lines += ["", *_money_section(), *_bid_bounds_section(), "## Faults injected", ""]
    lines += _table(
        ["fault", "how it is injected", "what must hold", "test"],
        [[f["fault"], f["how"], f["expected"], f"`{f['test']}`"] for f in FAULTS],
    )
    lines += [
        "",
        "## Deployment",
        "",
        "- `Procfile` and `deploy/nginx.conf` (websocket upgrade, static files, timeouts).",
        "- `make cluster` (`deploy/cluster.py`): nginx in front of two uvicorn processes, two Celery workers "
        "and beat, on loopback, with production settings. `tests/deploy/test_cluster.py` drives a show "
        "through it: viewers on both processes get go-live, pin and chat; buy now and checkout go through "
        "nginx; a worker packs the order.",
        '- Backups: `pg_dump -Fc` plus the media folders (README, "Backups"); '
        "`tests/faults/test_backup.py` restores a dump into a fresh database and compares order, line, "
        "payment and chat counts.",
        "- Headers: `tests/config/test_security_headers.py` runs `manage.py check --deploy` on the "
        "production settings (no warnings) and checks CSP without `unsafe-inline` scripts, HSTS and the "
        "referrer policy.",
        "- Dependencies: `pip-audit` cannot run on this machine: PyPI's JSON API answers 404 through the "
        "registry proxy and api.osv.dev is unreachable, so it has no vulnerability data.",
        "",
    ]
    return "\n".join(lines)


def test_reliability_page_is_current():
    page = build_page()
    current = PAGE.read_text() if PAGE.exists() else ""
    if page != current:
        PAGE.write_text(page)
    assert page == current, "docs/reliability.md was out of date and has been rewritten: commit it"
