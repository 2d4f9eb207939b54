"""Fetching a URL stock feed into a local file: streamed, with a timeout, a size cap and an SSRF guard.

The whole feed is downloaded before anything is applied, so a connection that drops half-way
applies nothing. Redirects are followed by hand (at most MAX_REDIRECTS), and every hop's host is
resolved once and refused when it is a private, loopback, link-local or reserved address: a merchant's
URL must not reach our own network. The connection then goes to the address that was checked. LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS lifts that for tests
and single-machine setups.
"""

import ipaddress
import socket
import time
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

from ..exceptions import StockFeedError

MAX_REDIRECTS = 3
CHUNK_BYTES = 64 * 1024


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _check_host(url: str) -> str | None:
    """The address to connect to for `url`, resolved once and checked (None: private hosts are allowed,
    connect by name). Connecting to this address, not the name, is what stops DNS rebinding: a second
    lookup could answer 127.0.0.1."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StockFeedError("The feed URL must start with http:// or https:// and name a host.")
    if settings.LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise StockFeedError(f"The feed URL's host {parts.hostname!r} could not be found.") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global:
            raise StockFeedError(
                f"The feed URL's host {parts.hostname!r} is a private or local address; use a public URL."
            )
    return infos[0][4][0]


def _request_to(url: str, address: str | None) -> tuple[str, dict, dict]:
    """(URL, headers, httpx extensions) that reach `address` while naming the host: the Host header
    and, for https, the TLS server name (SNI and the certificate check) stay the URL's host."""
    if address is None:
        return url, {}, {}
    parts = urlsplit(url)
    userinfo, _, host_port = parts.netloc.rpartition("@")
    ip = f"[{address}]" if ":" in address else address
    netloc = (f"{userinfo}@" if userinfo else "") + (ip if parts.port is None else f"{ip}:{parts.port}")
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_port}, {"sni_hostname": parts.hostname}


def feed_download(url: str, *, into: BinaryIO) -> int:
    """Write the body at `url` into `into`; returns its size. Raises StockFeedError with a clear reason."""
    timeout = settings.LIVEMARKET_STOCK_FEED_TIMEOUT
    max_bytes = settings.LIVEMARKET_STOCK_FEED_MAX_BYTES
    deadline = time.monotonic() + timeout * 4  # per-read timeouts can't stop a trickle; this does
    headers = {"User-Agent": "Livemarket-stock-sync/1", "Accept": "text/csv, application/json, */*"}
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, headers=headers
        ) as client:
            for _hop in range(MAX_REDIRECTS + 1):
                target, host_header, extensions = _request_to(url, _check_host(url))
                with client.stream("GET", target, headers=host_header, extensions=extensions) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code >= 400:
                        raise StockFeedError(
                            f"The feed URL answered HTTP {response.status_code} "
                            f"{response.reason_phrase}; nothing was applied."
                        )
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise StockFeedError(f"The feed is larger than {_megabytes(max_bytes)}.")
                    size = 0
                    for chunk in response.iter_bytes(CHUNK_BYTES):
                        size += len(chunk)
                        if size > max_bytes:
                            raise StockFeedError(f"The feed is larger than {_megabytes(max_bytes)}.")
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("download too slow")
                        into.write(chunk)
                    into.flush()
                    return size
            raise StockFeedError(f"The feed URL redirected more than {MAX_REDIRECTS} times.")
    except httpx.TimeoutException:
        raise StockFeedError(
            f"The feed URL did not answer in time ({timeout:g} s); nothing was applied."
        ) from None
    except httpx.ConnectError:
        host = urlsplit(url).hostname
        raise StockFeedError(f"Could not connect to {host}: the feed URL is unreachable.") from None
    except httpx.HTTPError as exc:
        raise StockFeedError(
            f"Fetching the feed failed ({exc.__class__.__name__}); nothing was applied."
        ) from None
