"""Production: PostgreSQL and Redis are required, the secrets have no default, HTTPS everywhere."""

import environ

env = environ.Env()
# Fail before anything else when a required setting is missing.
for required in (
    "DJANGO_SECRET_KEY",
    "LIVEMARKET_PAYMENT_WEBHOOK_SECRET",
    "DATABASE_URL",
    "REDIS_URL",
    "LIVEMARKET_SITE_URL",
):
    env.str(required)

from .base import *  # noqa: E402

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
LIVEMARKET_PAYMENT_WEBHOOK_SECRET = env.str("LIVEMARKET_PAYMENT_WEBHOOK_SECRET")
# Set but empty or still a development default (base.DEV_SECRETS): `check --deploy` fails, and the
# ASGI/WSGI application, Celery workers and beat refuse to start (config/checks.py).
LIVEMARKET_REFUSE_DEFAULT_SECRETS = True
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
LIVEMARKET_SITE_URL = env.str("LIVEMARKET_SITE_URL")  # e.g. https://shop.example.com: e-mails link there
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
WHITENOISE_USE_FINDERS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
# Only `make cluster` (plain HTTP on loopback) turns these off; a real deployment never does.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# deploy/nginx.conf sits in front and appends the client to X-Forwarded-For: per-IP rate limits count
# that address, not nginx's. Set 0 when the app is reached without a proxy.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=1)
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")

# Under ASGI every in-flight request runs in a thread of its own with its own database connection, so
# a burst of requests (a flash sale) opened one connection each until PostgreSQL refused more ("too
# many clients": 500s, measured by bench/flash_sale.py). A bounded pool per process makes the burst
# queue for a connection instead. Size it so processes x size stays under max_connections.
DB_POOL_SIZE = env.int("DJANGO_DB_POOL_SIZE", default=16)
if DB_POOL_SIZE:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django must not
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DB_POOL_SIZE,
        "timeout": env.float("DJANGO_DB_POOL_TIMEOUT", default=30.0),
    }
