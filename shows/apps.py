from django.apps import AppConfig


class ShowsConfig(AppConfig):
    name = "shows"
    verbose_name = "Live shows"

    def ready(self):
        from . import receivers  # noqa: F401  (connects the stock and waitlist receivers)
