"""Project-level views that belong to no app."""

import sys

from django.contrib.staticfiles import finders
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from .health import health_report


@never_cache
@require_GET
def healthz(request):
    report, healthy = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@require_GET
def bench_ping(request):
    """The storefront benchmark's ceiling: the full middleware stack and nothing else (only routed when
    LIVEMARKET_BENCH_VIEWS is on). /healthz is not trivial: it queries PostgreSQL and opens a Redis
    connection on every call."""
    return HttpResponse(b"pong", content_type="text/plain")


# Seconds a client is asked to wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 5


def server_error(request):
    """handler500. A database that cannot be reached (PostgreSQL restarting, failing over, the pool
    timing out) is not a bug in the request: answer 503 "temporarily unavailable" with Retry-After, as
    JSON under /api/ and as a page elsewhere, rendered without touching the database. Every other
    uncaught exception stays a 500. (Django calls this inside its `except`, so sys.exc_info() is set.)"""
    exc = sys.exc_info()[1]
    if not isinstance(exc, OperationalError | InterfaceError):
        return defaults.server_error(request)
    message = "Livemarket is briefly unavailable. Please try again in a few seconds."
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": "unavailable", "message": message, "fields": {}}, status=503)
    else:
        response = HttpResponse(loader.get_template("503.html").render({"message": message}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links; answer with the site's icon (SVG)."""
    with open(finders.find("img/favicon.svg"), "rb") as icon:
        return HttpResponse(icon.read(), content_type="image/svg+xml")
