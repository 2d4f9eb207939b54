"""The project's Celery task class: `delay_on_commit` / `apply_async_on_commit` go through the outbox.

With eager Celery (the embedded demo, the test suite) nothing changes: the task runs after commit."""

from celery.contrib.django.task import DjangoTask
from django.conf import settings


class OutboxTask(DjangoTask):
    def delay_on_commit(self, *args, **kwargs) -> None:
        self.apply_async_on_commit(args, kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return super().apply_async_on_commit(args, kwargs, **options)
        from .services import outbox_enqueue

        outbox_enqueue(task_name=self.name, args=args or (), kwargs=kwargs or {}, options=options)
