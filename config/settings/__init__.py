"""`DJANGO_SETTINGS_MODULE=config.settings` selects base.py: the embedded default, or PostgreSQL and
Redis when `DATABASE_URL` / `REDIS_URL` are set.

Importing a sibling (config.settings.test, .production) also imports this package first; base.py
is loaded only when it is the selected module, so the sibling can set defaults before base reads
the environment.
"""

import os

if os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings") == "config.settings":
    from .base import *  # noqa: F401,F403
