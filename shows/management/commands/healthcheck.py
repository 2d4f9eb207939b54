"""`manage.py healthcheck`: /healthz's probes plus the Celery broker and pending migrations."""

import json

from config.health import health_report
from config.opscommand import OpsCommand


class Command(OpsCommand):
    help = (
        "Check the database, Redis, the Celery broker and that every migration is applied. Prints one "
        "line per check (or --format json) and exits 1 when anything is unhealthy, so it fits container "
        "health checks and deploy scripts. Example: manage.py healthcheck --format json"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format", choices=("text", "json"), default="text", help="text (default) or json."
        )

    def handle(self, *args, format: str, **options):
        report, healthy = health_report(deep=True)
        if format == "json":
            self.stdout.write(json.dumps({**report, "healthy": healthy}, indent=2))
        else:
            for name in ("database", "redis", "broker", "migrations"):
                value = report[name]
                style = self.style.SUCCESS if value in ("ok", "off", "eager") else self.style.ERROR
                self.stdout.write(f"{name:<11} {value}", style_func=style)
        if not healthy:
            failing = [
                k
                for k in ("database", "redis", "broker", "migrations")
                if str(report[k]).startswith(("error", "unknown"))
            ]
            self.fail(f"unhealthy: {', '.join(failing)}")
        if format == "text":
            self.summary("healthy")
