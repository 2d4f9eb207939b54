"""A real uvicorn on the test database for the money tests, and shoppers that talk to it over HTTP."""

import re
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.test import Client

from tests.servers import free_port, start_uvicorn, stop, wait_healthy


class Server:
    def __init__(self, tmp: Path, extra_env: dict[str, str] | None = None):
        self.tmp = tmp
        self.extra_env = extra_env or {}
        self.process = None
        self.start()

    def start(self, **extra_env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.tmp / f"uvicorn-{self.port}.log"
        self.process = start_uvicorn(
            port=self.port,
            redis_url=settings.REDIS_URL,
            log=self.log,
            extra_env={**self.extra_env, **extra_env},
        )
        try:
            wait_healthy(self.port, self.process, log=self.log)
        except BaseException:
            stop(self.process)
            raise

    def stop(self, **kwargs) -> None:
        stop(self.process, **kwargs)


SERVER_ENV = {
    "LIVEMARKET_CHECKOUT_WAIT_SECONDS": "30",
    "LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK": "true",
    # The buy-now limit is per address, and every request here comes from 127.0.0.1 (its own tests
    # are in tests/security/test_rate_limits.py).
    "LIVEMARKET_BUY_NOW_RATE_HITS": "100000",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup):
    running = Server(tmp_path_factory.mktemp("money-server"), SERVER_ENV)
    yield running
    running.stop()


@pytest.fixture
def fresh_server(tmp_path, django_db_setup):
    """A server of the test's own: the admin caches content type ids, which every flush renumbers."""
    running = Server(tmp_path, SERVER_ENV)
    yield running
    running.stop()


class Browser:
    """One signed-in person's HTTP client against the real server (session cookie made by the test)."""

    def __init__(self, server: Server, user=None):
        self.server = server
        self.cookies: dict[str, str] = {}
        if user is not None:
            client = Client()
            client.force_login(user)
            self.cookies["sessionid"] = client.cookies[settings.SESSION_COOKIE_NAME].value

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.server.base, cookies=self.cookies, timeout=120, follow_redirects=False
        )

    def form(self, path: str) -> tuple[str, dict[str, str]]:
        """GET a page; returns its HTML and the CSRF token for its forms (the cookie is kept)."""
        with self.client() as http:
            page = http.get(path)
            assert page.status_code == 200, (path, page.status_code, page.text[:500])
            if "csrftoken" in page.cookies:
                self.cookies["csrftoken"] = page.cookies["csrftoken"]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return page.text, {"csrfmiddlewaretoken": token}

    def checkout_form(self) -> dict:
        """The checkout page's form as a shopper fills it in (its own key and CSRF token)."""
        from tests.orders.test_concurrency_checkout import _checkout_form

        html, csrf = self.form("/checkout/")
        key = re.search(r'name="checkout_key" value="([0-9a-f-]{36})"', html).group(1)
        return {**csrf, **_checkout_form(key)}

    def post(self, path: str, data: dict, **kwargs) -> httpx.Response:
        with self.client() as http:
            return http.post(path, data=data, **kwargs)
