"""Health probes shared by `/healthz` and `manage.py healthcheck`."""

from django.conf import settings
from django.db import connection


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
        return f"error: {exc.__class__.__name__}"
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "off"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok"


def health_report() -> tuple[dict, bool]:
    """Return the report and whether every configured dependency answered."""
    report = {
        "database": check_database(),
        "redis": check_redis(),
        "database_engine": connection.vendor,
        "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        "celery_eager": bool(settings.CELERY_TASK_ALWAYS_EAGER),
    }
    healthy = report["database"] == "ok" and report["redis"] in ("ok", "off")
    return report, healthy
