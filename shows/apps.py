from django.apps import AppConfig


class ShowsConfig(AppConfig):
    name = "shows"
    verbose_name = "Live shows"

    def ready(self):
        from django.db.models.signals import post_migrate

        from config.beat import beat_schedule_after_migrate

        from . import receivers  # noqa: F401  (connects the stock and waitlist receivers)

        # Seed Celery beat's periodic tasks after `migrate` (missing rows only; ops' edits stay).
        post_migrate.connect(
            beat_schedule_after_migrate, sender=self, dispatch_uid="livemarket-beat-schedule"
        )
