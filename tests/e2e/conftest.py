"""Browser tests: Debian's chromium driven by Playwright (sync API) against a real uvicorn server.

Each module gets its own server on a free port with a private redis-server, both on the test
database, which the module seeds with `seed_demo` (committed rows) and flushes again at the end so
the tests that run after it on the same xdist worker see an empty database, as they expect.

Tests here carry no `django_db` mark: the server owns the data. A test reads or prepares rows
through the `orm` fixture (a context manager that unblocks database access for a moment).
"""

import io
import os
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests import servers

CHROMIUM = os.environ.get("LIVEMARKET_CHROMIUM", "/usr/bin/chromium")
# Generous: the suite runs on two busy cores. Tests that must be fast measure time themselves.
EXPECT_TIMEOUT_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
NOT_LOOPBACK = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/])")


@dataclass
class Site:
    """One running server: its URL, and how to stop and start it again (for outage tests)."""

    port: int
    redis_url: str
    db_url: str
    log_dir: Path
    process: object = None
    restarts: int = 0
    extra: list["Site"] = field(default_factory=list)  # more servers a test started on the same data

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_dir / f"uvicorn-{self.port}-{self.restarts}.log"
        self.process = servers.start_uvicorn(
            port=self.port,
            redis_url=self.redis_url,
            db_url=self.db_url,
            log=log,
            # The test settings: MD5 password hashes (seeded in this process), static files from the
            # finders, eager Celery, locmem e-mail.
            settings_module="config.settings.test",
            extra_env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)},
        )
        servers.wait_healthy(self.port, self.process, log=log)
        self.restarts += 1

    def stop(self, *, kill: bool = False) -> None:
        servers.stop(self.process, sig=signal.SIGKILL if kill else signal.SIGTERM)


@pytest.fixture(scope="session")
def e2e_database(django_db_setup, django_db_blocker) -> Iterator[None]:
    """The test database, made here when pytest-django did not make it: it makes it only when some
    collected test has a django_db mark, which is not so when the e2e tests run alone."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    if connection.settings_dict["NAME"].startswith("test_"):
        yield
        return
    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="module")
def orm(e2e_database, django_db_blocker):
    """`with orm(): ...` reads or writes the test database from a test (the rows are committed)."""
    from django.db import connection

    # The module flushes what it wrote: never anything but a test database.
    assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]

    @contextmanager
    def unblocked():
        with django_db_blocker.unblock():
            try:
                yield
            finally:
                # Playwright switches greenlets, and Django keeps one connection per context: close
                # them here, or they outlive the test database.
                connections.close_all()

    return unblocked


@pytest.fixture(scope="module")
def site(orm, tmp_path_factory) -> Iterator[Site]:
    """Seeded data, a private redis-server and uvicorn, for the whole module."""
    log_dir = tmp_path_factory.mktemp("e2e-servers")
    redis_port = servers.free_port()
    redis_process = servers.start_redis(port=redis_port, log=log_dir / "redis.log")
    try:
        with orm():
            call_command("seed_demo", stdout=io.StringIO())
            db_url = servers.database_url()
        site = Site(
            port=servers.free_port(),
            redis_url=f"redis://127.0.0.1:{redis_port}/0",
            db_url=db_url,
            log_dir=log_dir,
        )
        site.start()
        try:
            yield site
        finally:
            site.stop()
            for extra in site.extra:
                extra.stop()
    finally:
        servers.stop(redis_process)
        with orm():
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Playwright's sync API keeps an event loop running in this thread, which makes Django refuse
    # ORM calls from here: the `orm` fixture's calls are plain sync code, so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    try:
        with sync_playwright() as p:
            yield p
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    yield browser
    browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test item, so fixtures can tell that the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _failure_evidence(request, contexts: list[BrowserContext], site: Site, folder: Path) -> None:
    """A screenshot of every open page and the server log's tail, for a failure in CI."""
    report = getattr(request.node, "report_call", None)
    if report is None or not report.failed:
        return
    for n, context in enumerate(contexts):
        for m, page in enumerate(context.pages):
            try:
                page.screenshot(path=folder / f"context{n}-page{m}.png", full_page=True)
            except Exception as exc:  # evidence is best effort
                print(f"no screenshot of context {n} page {m}: {exc}")
    logs = sorted(site.log_dir.glob("uvicorn-*.log"))
    tail = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
    print(f"e2e failure evidence in {folder}\n--- server logs ---\n{tail}")


@pytest.fixture
def new_context(browser: Browser, site: Site, request, tmp_path) -> Iterator[Callable[..., BrowserContext]]:
    """Makes browser contexts (one per person) at the site; all are closed after the test (with a
    screenshot of each page first when the test failed)."""
    contexts: list[BrowserContext] = []

    def make(
        *, viewport: dict | None = None, phone: bool = False, base_url: str = "", **options
    ) -> BrowserContext:
        if phone:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        context = browser.new_context(
            base_url=base_url or site.url, viewport=viewport or (PHONE if phone else DESKTOP), **options
        )
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        # The demo shows point at public HLS streams: the tests never leave this machine.
        context.route(NOT_LOOPBACK, lambda route: route.abort())
        contexts.append(context)
        return context

    yield make
    _failure_evidence(request, contexts, site, tmp_path)
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()
