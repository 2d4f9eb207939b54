"""Run `manage.py` in a real subprocess against the test database: exit status and output as ops see them."""

import os
import subprocess
import sys

from django.conf import settings

from tests.servers import PROJECT, database_url


def run_manage(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The test must commit its rows (`django_db(transaction=True)`) for the subprocess to see them."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": database_url(),
        "DJANGO_CONN_MAX_AGE": "0",
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "true",
        **(env or {}),
    }
    environment.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(  # noqa: S603 - a fixed command line
        [sys.executable, str(PROJECT / "manage.py"), *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
