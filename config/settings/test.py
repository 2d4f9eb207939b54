"""Tests run on real PostgreSQL and Redis; they never fall back to SQLite."""

import os

import environ

env = environ.Env()
env.ENVIRON.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/livemarket")
env.ENVIRON.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
from .base import *  # noqa: E402

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("The test suite runs on PostgreSQL only: set DATABASE_URL to a postgres:// URL.")

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
MEDIA_ROOT = Path(env("MEDIA_ROOT", default="/tmp/livemarket-test-media"))  # noqa: S108
WHITENOISE_USE_FINDERS = True
PRIVATE_MEDIA_ROOT = MEDIA_ROOT.parent / f"{MEDIA_ROOT.name}-private"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Parallel test workers (pytest-xdist) share one Redis: keep their keys and groups apart.
_worker = env("PYTEST_XDIST_WORKER", default="main")
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"lmtest-{_worker}"
CACHES["default"]["KEY_PREFIX"] = f"lmtest-{_worker}"

# The test gateway's ledger, one per database and xdist worker, exported so the servers and workers a
# test starts use it too (set here, not defaulted: workers inherit the controller's environment).
# tests/conftest.py rolls it back with the database after every test.
LIVEMARKET_TEST_GATEWAY_LEDGER = os.environ["LIVEMARKET_TEST_GATEWAY_LEDGER"] = (
    f"/tmp/livemarket-test-gateway-{DATABASES['default']['NAME']}-{_worker}.sqlite3"  # noqa: S108
)
