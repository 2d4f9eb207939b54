"""`config.settings` is the embedded-default / environment-driven configuration (see base.py)."""

from .base import *  # noqa: F401,F403
