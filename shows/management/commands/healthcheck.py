"""`manage.py healthcheck`: the same probes as /healthz, for ops and container health checks."""

import json

from django.core.management.base import BaseCommand, CommandError

from config.health import health_report


class Command(BaseCommand):
    help = "Check the database and Redis; print a JSON report and exit non-zero when unhealthy."

    def handle(self, *args, **options):
        report, healthy = health_report()
        self.stdout.write(json.dumps(report, indent=2))
        if not healthy:
            raise CommandError("unhealthy")
