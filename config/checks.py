"""The secrets rule: a deployment never runs on a secret that is empty or still its development default.

The defaults are in the source (config/settings/base.py, DEV_SECRETS), so with one of them anyone can
sign sessions or payment-provider webhooks. `manage.py check --deploy` reports each such secret as an
error, and production processes (the ASGI and WSGI applications, Celery workers and beat) refuse to
start on one. `make demo` and the tests run on the defaults; they never deploy.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from config.settings.base import DEV_SECRETS


def secret_errors() -> list[checks.Error]:
    """One error per secret setting that is empty or equal to its development default."""
    errors = []
    for setting, (variable, default) in DEV_SECRETS.items():
        try:
            value = getattr(settings, setting, "")
        except ImproperlyConfigured:  # Django's own refusal to hand out an empty SECRET_KEY
            value = ""
        hint = f"Set {variable} to a long random value (python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        if not value:
            errors.append(checks.Error(f"{setting} is empty.", hint=hint, id="livemarket.E001"))
        elif value == default:
            message = f"{setting} is its development default, which anyone can read in the source."
            errors.append(checks.Error(message, hint=hint, id="livemarket.E002"))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_secrets(app_configs, **kwargs) -> list[checks.Error]:
    return secret_errors()


def refuse_default_secrets() -> None:
    """Raise at process start when the settings ask for it (production) and a secret is unsafe, so no
    server or worker ever runs on one, even where nobody ran `check --deploy` first."""
    if not settings.LIVEMARKET_REFUSE_DEFAULT_SECRETS:
        return
    errors = secret_errors()
    if errors:
        problems = " ".join(f"{error.msg} {error.hint}" for error in errors)
        raise ImproperlyConfigured(f"Refusing to start: {problems}")
