"""The transactional outbox: a Celery message written in the same transaction as the rows it is about,
so a job is never lost when the broker (Redis) is down or the process dies between commit and send."""

from django.db import models


class OutboxMessage(models.Model):
    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    options = models.JSONField(default=dict, help_text="apply_async options (eta as ISO text, countdown).")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.task}{tuple(self.args)}"
