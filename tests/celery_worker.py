"""The Celery app for tests that start a real worker (`celery -A tests.celery_worker worker ...`).

It is config.celery's app with kombu's restore of unacknowledged messages checked every second (not
every 100 s), so with a short CELERY_VISIBILITY_TIMEOUT a killed worker's message comes back within
seconds instead of after the two-hour default; see tests/faults/test_worker_kill.py.
"""

import os

from config.celery import app

app.conf.broker_transport_options = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "7200")),
    # Look for abandoned messages every second, not every 100 s (kombu's redis defaults).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

__all__ = ["app"]
