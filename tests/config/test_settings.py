"""Which stores each way of running picks. Settings are read at import, so each case runs in a fresh
interpreter with a controlled environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json; from django.conf import settings as s; import django; django.setup();"
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'],"
    "'cache': s.CACHES['default']['BACKEND'], 'broker': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER,"
    "'email': s.EMAIL_BACKEND, 'debug': s.DEBUG}))"
)


def _run(env_overrides: dict, code: str = PROBE, args: tuple = ()) -> subprocess.CompletedProcess:
    unset = {
        "DATABASE_URL",
        "REDIS_URL",
        "DJANGO_SECRET_KEY",
        "LIVEMARKET_PAYMENT_WEBHOOK_SECRET",
        "LIVEMARKET_SITE_URL",
    }
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(env_overrides)
    command = [sys.executable, *(args or ("-c", code))]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # noqa: S603


def _settings(env_overrides: dict) -> dict:
    result = _run(env_overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_without_urls():
    s = _settings({"DJANGO_SETTINGS_MODULE": "config.settings"})
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["cache"].endswith("LocMemCache")
    assert s["eager"] is True
    assert s["email"] == "django.core.mail.backends.console.EmailBackend"


def test_urls_switch_to_postgresql_and_redis():
    s = _settings(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/livemarket",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        }
    )
    assert s["db"] == "django.db.backends.postgresql"
    assert s["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert s["broker"] == "redis://127.0.0.1:6379/3"
    assert s["eager"] is False


def test_test_settings_use_postgresql_and_redis(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"


@pytest.mark.parametrize("module", ["config.settings.production"])
def test_production_passes_check_deploy_without_warnings(module):
    result = _run(
        {
            "DJANGO_SETTINGS_MODULE": module,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/livemarket",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            "LIVEMARKET_SITE_URL": "https://shop.example.com",
            "DJANGO_SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-value-7f3c9",
            "LIVEMARKET_PAYMENT_WEBHOOK_SECRET": "whsec_a-long-random-production-webhook-secret-51d0",
        },
        args=("manage.py", "check", "--deploy", "--fail-level", "WARNING"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/livemarket",
    "REDIS_URL": "redis://127.0.0.1:6379/3",
    "DJANGO_ALLOWED_HOSTS": "shop.example.com",
    "LIVEMARKET_SITE_URL": "https://shop.example.com",
    "DJANGO_SECRET_KEY": "x" * 30 + "-a-long-random-production-secret-value-7f3c9",
    "LIVEMARKET_PAYMENT_WEBHOOK_SECRET": "whsec_a-long-random-production-webhook-secret-51d0",
}


def test_production_refuses_to_start_without_the_site_url_emails_link_to():
    result = _run({k: v for k, v in PRODUCTION_ENV.items() if k != "LIVEMARKET_SITE_URL"})
    assert result.returncode != 0
    assert "Set the LIVEMARKET_SITE_URL environment variable" in result.stderr


POOL_PROBE = (
    "import json; from django.conf import settings as s; import django; django.setup();"
    "d = s.DATABASES['default']; print(json.dumps({'age': d['CONN_MAX_AGE'], 'pool': d['OPTIONS'].get('pool')}))"
)


def test_production_pools_database_connections_so_a_burst_queues_instead_of_failing():
    result = _run({**PRODUCTION_ENV, "DJANGO_DB_POOL_SIZE": "12"}, code=POOL_PROBE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["age"] == 0
    assert probe["pool"]["max_size"] == 12


def test_production_pool_can_be_turned_off():
    result = _run({**PRODUCTION_ENV, "DJANGO_DB_POOL_SIZE": "0"}, code=POOL_PROBE)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["pool"] is None


DEMO_PAGES = (
    "import json, django; django.setup(); from django.test import Client; c = Client();"
    "missing = c.get('/no-such-page/'); css = c.get('/static/css/livemarket.css');"
    "print(json.dumps({'status': missing.status_code, 'page': missing.content.decode(),"
    "'css': css.status_code, 'css_type': css.get('Content-Type', '')}))"
)


def test_the_demo_answers_an_unknown_url_with_the_sites_404_and_still_serves_static_files():
    """`make demo` runs the embedded default: a 404 there is the site's page, not Django's debug page
    listing every URL pattern (and no debug 500 page showing settings), while whitenoise still serves
    the static files straight from the app directories, without collectstatic."""
    result = _run({"DJANGO_SETTINGS_MODULE": "config.settings"}, code=DEMO_PAGES)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 404
    assert "We couldn’t find that page" in answer["page"]  # templates/404.html
    assert "URLconf" not in answer["page"] and "api/v1/" not in answer["page"]  # no pattern list
    assert "DEBUG = True" not in answer["page"]
    assert (answer["css"], answer["css_type"].split(";")[0]) == (200, "text/css")
