"""The websocket Origin check: a handshake is let in only from one of the site's own origins.

Channels' AllowedHostsOriginValidator compares only the Origin's host with ALLOWED_HOSTS, so a page
on another port or scheme of an allowed host (`http://127.0.0.1:9999`, another service on the same
machine) could open a logged-in room socket. Here an origin is a (scheme, host, port) triple, with the
scheme's default port filled in, and it must equal one of:

- the socket's own address: its Host header (a host in ALLOWED_HOSTS) with `https` for `wss` and
  `http` for `ws` (behind nginx, uvicorn's --proxy-headers turns X-Forwarded-Proto into the scheme);
- LIVEMARKET_SITE_URL, the site's public base URL;
- an entry of CSRF_TRUSTED_ORIGINS (`https://*.example.com` matches the subdomains, as in Django).

Anything else, no Origin, `null` or more than one Origin header is refused before accept (servers
answer the upgrade with 403).
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """(scheme, host, port) of an http(s) origin, or None for anything else (`null`, junk, no host)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme]


def _allowed_hosts() -> list[str]:
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:  # as Django's request.get_host()
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def _own_origin(scope) -> Origin | None:
    """The origin of the page that would open this socket on this very address."""
    hosts = [value for name, value in scope.get("headers", []) if name == b"host"]
    if len(hosts) != 1:
        return None
    host = hosts[0].decode("latin1")
    scheme = "https" if scope.get("scheme", "ws") in ("wss", "https") else "http"
    origin = parse_origin(f"{scheme}://{host}")
    if origin is None or not validate_host(origin[1], _allowed_hosts()):
        return None
    return origin


def origin_allowed(scope) -> bool:
    values = [value for name, value in scope.get("headers", []) if name == b"origin"]
    if len(values) != 1:
        return False
    origin = parse_origin(values[0].decode("latin1"))
    if origin is None:
        return False
    if origin in (_own_origin(scope), parse_origin(settings.LIVEMARKET_SITE_URL)):
        return True
    return any(_matches(origin, trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS)


def _matches(origin: Origin, trusted: str) -> bool:
    wildcard = "://*." in trusted
    pattern = parse_origin(trusted.replace("://*.", "://", 1))
    if pattern is None:
        return False
    if not wildcard:
        return origin == pattern
    return origin[0::2] == pattern[0::2] and is_same_domain(origin[1], "." + pattern[1])


class SiteOriginValidator:
    """ASGI middleware for websockets: the room's application only behind `origin_allowed`."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
