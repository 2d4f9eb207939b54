"""Production never runs on a secret that is empty or still its development default (config/checks.py,
the defaults in config/settings/base.py DEV_SECRETS): `manage.py check --deploy` fails naming it, the
ASGI/WSGI applications, Celery workers and beat refuse to start, and so does every Procfile process.
A server with real secrets rejects a webhook forged with the default one. Settings are read at import,
so each case runs in a fresh process, as ops would start it. (With every secret set, `check --deploy`
passes with no warnings: tests/config/test_settings.py.)"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from config.settings.base import DEV_SECRETS
from orders.models import OrderEvent, PaymentWebhookEvent
from orders.payments.test_gateway import SIGNATURE_HEADER, sign_webhook
from tests.servers import PROJECT, database_url, free_port, start_uvicorn, stop, wait_healthy
from tests.shows.roomkit import checkout_one

sys.path.insert(0, str(PROJECT))
from deploy.cluster import production_env  # noqa: E402

VENV_BIN = Path(sys.executable).parent
VARIABLES = {variable: setting for setting, (variable, _) in DEV_SECRETS.items()}
PROCFILE = dict(
    line.split(": ", 1)
    for line in (PROJECT / "Procfile").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
# Settings whose names look secret but are not one with a development default.
NOT_DEV_SECRETS = {
    "DEV_SECRETS": "the list itself",
    "LIVEMARKET_REFUSE_DEFAULT_SECRETS": "the switch production turns on",
    "AUTH_PASSWORD_VALIDATORS": "users' password rules",
    "ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE": "allauth behaviour",
    "LIVEMARKET_API_KEY_FAILURE_RATE": "a rate limit",
    "LIVEMARKET_CREDENTIAL_CREATE_RATE": "a rate limit",
    "EMAIL_HOST_PASSWORD": "from EMAIL_URL, no default; empty is right for a relay without login",
}


def _random_secrets() -> dict[str, str]:
    return {variable: secrets.token_urlsafe(50) for variable in VARIABLES}


def _production_env(**variables: str) -> dict[str, str]:
    """Production settings with every secret random, except the ones given."""
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES and k != "PYTEST_XDIST_WORKER"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "PYTHONPATH": str(PROJECT),
            "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/livemarket"),
            "REDIS_URL": settings.REDIS_URL,
            "DJANGO_ALLOWED_HOSTS": "shop.example.com",
            "LIVEMARKET_SITE_URL": "https://shop.example.com",
            **_random_secrets(),
            **variables,
        }
    )
    return env


def _run(command: list[str], env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed command lines
        command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _check_deploy(**variables: str) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", "check", "--deploy"], _production_env(**variables))


@pytest.mark.parametrize("setting", sorted(DEV_SECRETS))
def test_check_deploy_fails_naming_a_secret_left_at_its_development_default(setting):
    variable, default = DEV_SECRETS[setting]
    result = _check_deploy(**{variable: default})
    assert result.returncode != 0
    assert f"(livemarket.E002) {setting} is its development default" in result.stderr
    assert f"HINT: Set {variable} to a long random value" in result.stderr
    assert len(re.findall(r"\(livemarket\.E00\d\)", result.stderr)) == 1, result.stderr


@pytest.mark.parametrize("setting", sorted(DEV_SECRETS))
def test_check_deploy_fails_naming_an_empty_secret(setting):
    variable, _ = DEV_SECRETS[setting]
    result = _check_deploy(**{variable: ""})
    assert result.returncode != 0
    assert f"(livemarket.E001) {setting} is empty." in result.stderr
    assert len(re.findall(r"\(livemarket\.E00\d\)", result.stderr)) == 1, result.stderr


@pytest.mark.parametrize("variable", sorted(VARIABLES))
def test_production_settings_refuse_to_load_without_a_secret(variable):
    env = _production_env()
    del env[variable]
    result = _run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert f"Set the {variable} environment variable" in result.stderr


def test_every_secret_looking_setting_is_a_dev_secret_or_known_not_to_be_one():
    """A new secret added to the settings without a DEV_SECRETS entry would escape the checks."""
    probe = (
        "import json, config.settings.production as p; print(json.dumps([n for n in vars(p) if n.isupper()]))"
    )
    result = _run([sys.executable, "-c", probe], _production_env())
    assert result.returncode == 0, result.stderr
    names = json.loads(result.stdout.strip().splitlines()[-1])
    secret_looking = {n for n in names if re.search(r"SECRET|PASSWORD|TOKEN|KEY|CREDENTIAL|SIGNING", n)}
    assert secret_looking - set(DEV_SECRETS) == set(NOT_DEV_SECRETS)


@pytest.mark.parametrize("setting", sorted(DEV_SECRETS))
def test_uvicorn_refuses_to_serve_the_asgi_app_on_a_default_secret(setting):
    variable, default = DEV_SECRETS[setting]
    command = [str(VENV_BIN / "uvicorn"), "config.asgi:application", "--port", str(free_port())]
    result = _run(command, _production_env(**{variable: default}), timeout=60)
    assert result.returncode != 0
    assert f"Refusing to start: {setting} is its development default" in result.stderr


def test_the_wsgi_app_refuses_to_load_on_an_empty_secret():
    result = _run([sys.executable, "-c", "import config.wsgi"], _production_env(DJANGO_SECRET_KEY=""))
    assert result.returncode != 0
    assert "Refusing to start: SECRET_KEY is empty." in result.stderr


@pytest.mark.django_db(transaction=True)  # beat's database scheduler reads the test database first
@pytest.mark.parametrize(
    "args", [["worker", "--pool=solo", "-Q", "lm-secrets-never-used"], ["beat"]], ids=["worker", "beat"]
)
def test_celery_worker_and_beat_refuse_to_start_on_a_default_secret(args, tmp_path):
    variable, default = DEV_SECRETS["LIVEMARKET_PAYMENT_WEBHOOK_SECRET"]
    env = {**_production_env(**{variable: default}), "DATABASE_URL": database_url()}
    log = tmp_path / "celery.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            [str(VENV_BIN / "celery"), "-A", "config", *args],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        returncode = process.wait(timeout=60)
    finally:
        stop(process)
    output = log.read_text(errors="replace")
    assert returncode != 0, output
    assert "Refusing to start: LIVEMARKET_PAYMENT_WEBHOOK_SECRET is its development default" in output
    assert "ready." not in output  # the worker never took a task


@pytest.mark.parametrize("process", sorted(PROCFILE))
def test_every_procfile_process_runs_check_deploy_first_and_stops_on_a_default_secret(process, tmp_path):
    env = _production_env(DJANGO_SECRET_KEY=DEV_SECRETS["SECRET_KEY"][1])
    env.update(PATH=f"{VENV_BIN}:{env['PATH']}", STATIC_ROOT=str(tmp_path / "static"), PORT=str(free_port()))
    result = _run(["bash", "-c", PROCFILE[process]], env, timeout=60)
    assert result.returncode != 0
    assert "SystemCheckError" in result.stderr  # stopped by the check, before the process itself
    assert "(livemarket.E002) SECRET_KEY is its development default" in result.stderr
    assert not (tmp_path / "static").exists()


@pytest.mark.django_db(transaction=True)
def test_a_production_server_with_a_real_secret_rejects_a_refund_forged_with_the_default_one(
    tmp_path, shopper, variant
):
    order = checkout_one(shopper, variant.pk)
    real_secret = "whsec_" + secrets.token_urlsafe(32)
    env = production_env(
        database_url=database_url(),
        redis_url=settings.REDIS_URL,
        static_root=tmp_path / "static",
        webhook_secret=real_secret,
    )
    port, log = free_port(), tmp_path / "uvicorn.log"
    server = start_uvicorn(port=port, redis_url=settings.REDIS_URL, log=log, extra_env=env)
    try:
        wait_healthy(port, server, log=log)
        payload = {
            "id": "evt_forged",
            "type": "refund.succeeded",
            "reference": order.payments.get().reference,
        }
        body = json.dumps(payload).encode()
        url = f"http://127.0.0.1:{port}/payments/webhooks/test/"
        forged = sign_webhook(body, secret=DEV_SECRETS["LIVEMARKET_PAYMENT_WEBHOOK_SECRET"][1])
        response = httpx.post(url, content=body, headers={SIGNATURE_HEADER: forged}, timeout=20)
        assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
        assert not PaymentWebhookEvent.objects.exists()
        assert not OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.REFUND).exists()

        genuine = sign_webhook(body, secret=real_secret)
        response = httpx.post(url, content=body, headers={SIGNATURE_HEADER: genuine}, timeout=20)
        assert response.status_code == 200 and response.json()["result"] == "refund noted"
        assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.REFUND).count() == 1
    finally:
        stop(server)
