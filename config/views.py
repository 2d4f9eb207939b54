"""Project-level views that belong to no app."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
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
