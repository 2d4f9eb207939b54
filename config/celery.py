"""The Celery app. Tasks live in each app's tasks.py; settings come from Django's `CELERY_*`
(config/settings/base.py), which set:

- the broker: `REDIS_URL` (eager, in-process tasks when it is unset: the embedded demo);
- JSON only, for tasks and results; results are not stored;
- time limits: 120 s hard / 100 s soft by default, longer per task where a job needs it;
- `acks_late` and `reject_on_worker_lost` by default, because every task here is idempotent: a task is
  acknowledged after it ran, and one whose worker died is delivered again;
- the broker's visibility timeout (2 h), longer than any ETA or countdown the project sets;
- beat's DatabaseScheduler, with the jobs of config/beat.py (ops edit them in the admin).

With production settings a worker or beat refuses to start while a secret is empty or its development
default (config/checks.py).
"""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("livemarket", task_cls="config.outbox.task:OutboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def refuse_to_start_on_default_secrets(**kwargs) -> None:
    """With production settings, a worker or beat never starts on an unsafe secret (config/checks.py).
    Imported here, not at the top: the settings must be loaded before config.checks is."""
    from django.core.exceptions import ImproperlyConfigured

    from config.checks import refuse_default_secrets

    try:
        refuse_default_secrets()
    except ImproperlyConfigured as exc:
        raise SystemExit(str(exc)) from exc  # Celery only logs a signal handler's exceptions
