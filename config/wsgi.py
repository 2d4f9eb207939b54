"""WSGI entry point (HTTP only; websockets need the ASGI application in config.asgi). Like that one,
it refuses to load with production settings while a secret is unsafe (config/checks.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.checks import refuse_default_secrets  # noqa: E402

refuse_default_secrets()
