"""Settings shared by every way of running Livemarket, read from the environment (12-factor).

With no `DATABASE_URL` / `REDIS_URL` this is the embedded default: an SQLite file, the in-memory
channel layer, eager Celery, a local-memory cache and console e-mail, so `make demo` runs on a
bare machine. Setting the URLs switches to PostgreSQL and Redis (channels, Celery broker, cache).
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# Every secret, by setting: (its environment variable, its development default). `make demo` and the
# tests run on the defaults; a deployment must not: the deploy checks (config/checks.py) fail, and
# production processes refuse to start, while one is empty or still its default.
DEV_SECRETS = {
    "SECRET_KEY": ("DJANGO_SECRET_KEY", "livemarket-embedded-default-insecure-key-change-me"),
    "LIVEMARKET_PAYMENT_WEBHOOK_SECRET": ("LIVEMARKET_PAYMENT_WEBHOOK_SECRET", "whsec-livemarket-test"),
}
# Only production settings turn this on: see config/checks.py `refuse_default_secrets`.
LIVEMARKET_REFUSE_DEFAULT_SECRETS = False

# Off by default, the demo included: Django's debug pages list every URL pattern (404) and the
# settings (500). DJANGO_DEBUG=true turns them on for development.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default=DEV_SECRETS["SECRET_KEY"][1])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

DATABASE_URL = env("DATABASE_URL", default="")
REDIS_URL = env("REDIS_URL", default="")

INSTALLED_APPS = [
    "shops.apps.LivemarketAdminConfig",  # django.contrib.admin with the shop-scoped site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "channels",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "config.apps.LivemarketConfig",  # the deploy checks (config/checks.py)
    "config.outbox",
    "django_htmx",
    "allauth",
    "allauth.account",
    "django_celery_beat",
    "shops",
    "catalog",
    "orders",
    "shows",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from our own origin, never inline, so injected
# markup can't run. Styles allow inline attributes (htmx and a few templates set them); players load
# HLS from the media server over https; the room's websocket is same-origin ('self').
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:"],
        "media-src": ["'self'", "blob:", "https:"],
        "connect-src": ["'self'", "https:"],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orders.context_processors.cart_summary",
            ],
        },
    },
]

# --- Data stores -----------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            # SQLite serialises writers; a busy timeout keeps the demo's concurrent requests polite.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "lm",
            # Fail fast when Redis is down: callers report it instead of hanging.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

# --- Celery ---------------------------------------------------------------------------------
# The app is config/celery.py; these are its settings. Every task here is idempotent (house rule), so
# by default a task is acknowledged only after it ran, and a task whose worker died is redelivered.
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
# Redis hands an unacknowledged message to another worker after this many seconds. It must be longer
# than the furthest ETA/countdown the project sets, or a waiting timer would be delivered twice: deal,
# giveaway and lot timers are at most an hour, and longer waits (webhook retry backoff) are capped at
# LIVEMARKET_MAX_TASK_ETA_SECONDS and finished by a beat sweeper (tests/config/test_celery_config.py).
LIVEMARKET_MAX_TASK_ETA_SECONDS = 3600
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200),
    # Fail fast when Redis is down: the job stays in the outbox (config/outbox) and is sent later.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# Beat reads its schedule from the database (django-celery-beat), so ops edit it in the admin under
# "Periodic tasks". The jobs are listed in config/beat.py and created by `migrate` when missing;
# an existing row is never overwritten, so ops' changes stay.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE: dict = {}

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "shops.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "shops.backends.ShopMemberPermissions",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "/accounts/login/"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = None
# allauth's rate limits, spelled out ("<hits>/<period>/<per>", per ip, user or key = the login or
# e-mail). Over one, allauth answers with templates/429.html (status 429) or, for failed logins, a form
# error; the counts live in the cache and expire, so nothing is locked and no row is written.
ACCOUNT_RATE_LIMITS = {
    "login": env("LIVEMARKET_LOGIN_RATE", default="30/m/ip"),
    "login_failed": env("LIVEMARKET_LOGIN_FAILED_RATE", default="10/m/ip,5/5m/key"),
    # /admin/login/ (shops.admin_scoping.LivemarketAdminSite.login): every POST, key = the username.
    "admin_login": env("LIVEMARKET_ADMIN_LOGIN_RATE", default="10/m/ip,10/15m/key"),
    "signup": env("LIVEMARKET_SIGNUP_RATE", default="20/m/ip"),
    "reset_password": env("LIVEMARKET_RESET_PASSWORD_RATE", default="20/m/ip,5/m/key"),
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reauthenticate": "10/m/user",
    "request_login_code": "20/m/ip,3/m/key",
    "confirm_email": "1/3m/key",
}
# Behind this many reverse proxies (nginx in deploy/), the client's address is the matching entry of
# X-Forwarded-For; 0 trusts only REMOTE_ADDR. Every per-IP limit (allauth's and ours) uses it.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

# --- E-mail ----------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Livemarket <no-reply@livemarket.test>")
# The site's public base URL: e-mails link to it by absolute URL (config.mail.absolute_url).
# Required in production; the default is where `make demo` serves.
LIVEMARKET_SITE_URL = env("LIVEMARKET_SITE_URL", default="http://127.0.0.1:8000")

# --- I18N, static, media ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# The embedded default serves uploads itself; production puts a proxy or object store in front.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
# Files no URL may serve (merchants' stock feeds): outside MEDIA_ROOT, read only by the app.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "private-media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/private-media-is-not-served/"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# whitenoise serves the static files straight from the app directories, so `make demo` needs no
# collectstatic; production serves the collected, compressed copies instead.
WHITENOISE_USE_FINDERS = True

# --- Livemarket ------------------------------------------------------------------------------
LIVEMARKET_RESERVATION_MINUTES = env.int("LIVEMARKET_RESERVATION_MINUTES", default=10)
LIVEMARKET_CHAT_HISTORY = 50
# Routes /bench/ping (the trivial view bench/storefront.py measures as its ceiling). Off in real use.
LIVEMARKET_BENCH_VIEWS = env.bool("LIVEMARKET_BENCH_VIEWS", default=False)

# --- REST API (/api/v1/, see config/api.py) ----------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.api.JSONParser",  # bounded (config/jsonsafe.py)
        "rest_framework.parsers.MultiPartParser",
        "config.api.FormParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.api.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.api.PrincipalRateThrottle"],
    # Per API key, per signed-in user, and per IP address for anonymous callers.
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env("LIVEMARKET_API_RATE_KEY", default="1200/min"),
        "user": env("LIVEMARKET_API_RATE_USER", default="600/min"),
        "anon": env("LIVEMARKET_API_RATE_ANON", default="120/min"),
    },
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Livemarket API",
    "DESCRIPTION": (
        "Merchant tools authenticate with a per-shop API key (`Authorization: Bearer lm_...`); the shopper "
        "endpoints under /api/v1/me/ use the signed-in session. Errors are `{code, message, fields}`; "
        "every POST honours an `Idempotency-Key` header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.Order.Status",
        "ProductStatusEnum": "catalog.models.Product.Status",
        "ShowStatusEnum": "shows.models.Show.Status",
        "WebhookEventEnum": "shops.models.WebhookEvent",
    },
}
# Webhooks out: retries back off exponentially from this many seconds, up to this many attempts.
LIVEMARKET_WEBHOOK_RETRY_BASE_SECONDS = env.int("LIVEMARKET_WEBHOOK_RETRY_BASE_SECONDS", default=30)
LIVEMARKET_WEBHOOK_MAX_ATTEMPTS = env.int("LIVEMARKET_WEBHOOK_MAX_ATTEMPTS", default=8)
LIVEMARKET_WEBHOOK_TIMEOUT_SECONDS = env.float("LIVEMARKET_WEBHOOK_TIMEOUT_SECONDS", default=10)
# Only for tests and local receivers: allow http:// endpoints on the loopback interface.
LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK = env.bool("LIVEMARKET_WEBHOOK_ALLOW_LOOPBACK", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
ACCOUNT_ADAPTER = "config.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "shops.forms.ShopperLoginForm", "signup": "shops.forms.ShopperSignupForm"}
# A signup never tells whether its e-mail is registered (shops.forms.ShopperSignupForm).
ACCOUNT_PREVENT_ENUMERATION = True
LIVEMARKET_WAITLIST_OFFER_MINUTES = env.int("LIVEMARKET_WAITLIST_OFFER_MINUTES", default=5)
LIVEMARKET_UNPAID_ORDER_MINUTES = env.int("LIVEMARKET_UNPAID_ORDER_MINUTES", default=30)
LIVEMARKET_PAYMENT_GATEWAY = env("LIVEMARKET_PAYMENT_GATEWAY", default="test")
LIVEMARKET_PAYMENT_WEBHOOK_SECRET = env(
    "LIVEMARKET_PAYMENT_WEBHOOK_SECRET", default=DEV_SECRETS["LIVEMARKET_PAYMENT_WEBHOOK_SECRET"][1]
)
# The test gateway's ledger (what the fake provider did, by idempotency key): a file every process shares.
LIVEMARKET_TEST_GATEWAY_LEDGER = env(
    "LIVEMARKET_TEST_GATEWAY_LEDGER", default=str(BASE_DIR / "var" / "test-gateway.sqlite3")
)
# A payment attempt younger than this may still be waiting on the gateway: recovery and expiry leave it
# alone, and a duplicate submit waits for it (at most LIVEMARKET_CHECKOUT_WAIT_SECONDS) instead of paying.
LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS = env.int("LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS", default=30)
LIVEMARKET_CHECKOUT_WAIT_SECONDS = env.float("LIVEMARKET_CHECKOUT_WAIT_SECONDS", default=15)
# Fault injection for tests/faults (config/faults.py): the named points pause (a marker file is written
# first) so a test can kill the process there. Empty in every real deployment.
LIVEMARKET_FAULT_POINTS = env.list("LIVEMARKET_FAULT_POINTS", default=[])
LIVEMARKET_FAULT_PAUSE_SECONDS = env.float("LIVEMARKET_FAULT_PAUSE_SECONDS", default=30)
LIVEMARKET_FAULT_MARKER_DIR = env("LIVEMARKET_FAULT_MARKER_DIR", default="")
LIVEMARKET_INGEST_URL = env("LIVEMARKET_INGEST_URL", default="rtmp://127.0.0.1:1935/live")
# Stock feeds (catalog.sync): a URL feed is downloaded whole, within these limits, before it is applied.
LIVEMARKET_STOCK_FEED_MAX_BYTES = env.int("LIVEMARKET_STOCK_FEED_MAX_BYTES", default=50 * 1024 * 1024)
LIVEMARKET_STOCK_FEED_TIMEOUT = env.float("LIVEMARKET_STOCK_FEED_TIMEOUT", default=30.0)
# Refuse feed URLs on private, loopback or link-local addresses (SSRF); allow them only on one machine.
# Rows per set-based statement (and transaction) when a feed is applied on PostgreSQL.
LIVEMARKET_SYNC_CHUNK_ROWS = env.int("LIVEMARKET_SYNC_CHUNK_ROWS", default=100_000)
LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS = env.bool(
    "LIVEMARKET_STOCK_FEED_ALLOW_PRIVATE_HOSTS", default=False
)
# Ops watch over shows: alert the shop when a scheduled show is this late, and end a live show whose
# stream has sent no heartbeat (on_publish / on_update callbacks) for this long.
LIVEMARKET_LATE_SHOW_MINUTES = env.int("LIVEMARKET_LATE_SHOW_MINUTES", default=10)
LIVEMARKET_STREAM_STALE_SECONDS = env.int("LIVEMARKET_STREAM_STALE_SECONDS", default=120)
# Per user and show: at most this many chat messages in this many seconds (held across processes).
# Bids per bidder per lot: at most N every S seconds.
LIVEMARKET_BID_RATE = (
    env.int("LIVEMARKET_BID_RATE_BIDS", default=10),
    env.int("LIVEMARKET_BID_RATE_SECONDS", default=10),
)
LIVEMARKET_CHAT_RATE = (
    env.int("LIVEMARKET_CHAT_RATE_MESSAGES", default=5),
    env.int("LIVEMARKET_CHAT_RATE_SECONDS", default=10),
)
# Bid bounds (shows/auctions.py, README "Live auctions"), each (times T, increments K): from a lot's
# price P (its current price, or its starting price before the first bid) and its increment I at P, an
# amount may be at most max(T x P, P + K x I). A bid gets the first rule, a maximum (proxy) bid the
# second; the seller's optional per-lot ceiling caps both. Above the third the room asks "sure?".
LIVEMARKET_BID_JUMP = (
    env.int("LIVEMARKET_BID_JUMP_TIMES", default=10),
    env.int("LIVEMARKET_BID_JUMP_INCREMENTS", default=50),
)
LIVEMARKET_MAX_BID_JUMP = (
    env.int("LIVEMARKET_MAX_BID_JUMP_TIMES", default=25),
    env.int("LIVEMARKET_MAX_BID_JUMP_INCREMENTS", default=250),
)
LIVEMARKET_BID_CONFIRM_JUMP = (
    env.int("LIVEMARKET_BID_CONFIRM_TIMES", default=2),
    env.int("LIVEMARKET_BID_CONFIRM_INCREMENTS", default=10),
)
# JSON from outside (config/jsonsafe.py): the largest body over HTTP (API, bids, stream callbacks) and
# the largest live-room frame in characters (a bigger frame closes the socket with 1009). uvicorn's
# --ws-max-size (Procfile, deploy/cluster.py) is 4x the frame limit: no frame taken here is cut there.
LIVEMARKET_JSON_MAX_BYTES = env.int("LIVEMARKET_JSON_MAX_BYTES", default=1024 * 1024)
LIVEMARKET_WS_MAX_FRAME = env.int("LIVEMARKET_WS_MAX_FRAME", default=32 * 1024)
# HTTP limits (config/ratelimit.py), each (hits, seconds); over one the caller gets a 429 with a message
# and nothing is written. Buy now: per shopper, across shows.
LIVEMARKET_BUY_NOW_RATE = (
    env.int("LIVEMARKET_BUY_NOW_RATE_HITS", default=20),
    env.int("LIVEMARKET_BUY_NOW_RATE_SECONDS", default=60),
)
# The media server's callbacks (/streams/on_publish, on_update, on_publish_done), per caller IP. One
# media server sends an on_update per stream every 30 s, so this allows ~300 concurrent streams.
LIVEMARKET_STREAM_HOOK_RATE = (
    env.int("LIVEMARKET_STREAM_HOOK_RATE_HITS", default=600),
    env.int("LIVEMARKET_STREAM_HOOK_RATE_SECONDS", default=60),
)
# Payment providers' webhooks (/payments/webhooks/<gateway>/), per caller IP and gateway.
LIVEMARKET_PAYMENT_WEBHOOK_RATE = (
    env.int("LIVEMARKET_PAYMENT_WEBHOOK_RATE_HITS", default=600),
    env.int("LIVEMARKET_PAYMENT_WEBHOOK_RATE_SECONDS", default=60),
)
# Wrong API keys, per caller IP: past this, every key from that address gets a 429 until the window ends.
LIVEMARKET_API_KEY_FAILURE_RATE = (
    env.int("LIVEMARKET_API_KEY_FAILURE_RATE_HITS", default=30),
    env.int("LIVEMARKET_API_KEY_FAILURE_RATE_SECONDS", default=60),
)
# New credentials (API keys in the admin, webhook endpoints in the admin or the API), per user.
LIVEMARKET_CREDENTIAL_CREATE_RATE = (
    env.int("LIVEMARKET_CREDENTIAL_CREATE_RATE_HITS", default=30),
    env.int("LIVEMARKET_CREDENTIAL_CREATE_RATE_SECONDS", default=3600),
)
