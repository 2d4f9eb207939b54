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


def check_broker() -> str:
    """Celery's broker answers (a connection is opened and closed); "eager" when there is none."""
    if settings.CELERY_TASK_ALWAYS_EAGER or settings.CELERY_BROKER_URL.startswith("memory://"):
        return "eager"
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok"


def check_migrations() -> str:
    """ "ok", or how many migrations are not applied yet (the release forgot `migrate`)."""
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"
    return "ok" if not plan else f"error: {len(plan)} unapplied migration(s)"


def health_report(*, deep: bool = False) -> tuple[dict, bool]:
    """Return the report and whether every configured dependency answered. `deep` (the command)
    also checks the Celery broker and pending migrations; /healthz stays cheap."""
    report = {
        "database": check_database(),
        "redis": check_redis(),
        "database_engine": connection.vendor,
        "channel_layer": settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1],
        "celery_eager": bool(settings.CELERY_TASK_ALWAYS_EAGER),
    }
    healthy = report["database"] == "ok" and report["redis"] in ("ok", "off")
    if deep:
        report["broker"] = check_broker()
        report["migrations"] = check_migrations() if report["database"] == "ok" else "unknown"
        if report["migrations"] == "ok":
            from config.outbox.services import outbox_backlog

            report["outbox"] = outbox_backlog()  # jobs waiting for the broker; drained by beat
        healthy = healthy and report["broker"] in ("ok", "eager") and report["migrations"] == "ok"
    return report, healthy
