from django.apps import AppConfig


class LivemarketConfig(AppConfig):
    """The project package as an app, so its system checks (config/checks.py) are registered."""

    name = "config"
    label = "livemarket"
    verbose_name = "Livemarket"

    def ready(self) -> None:
        from . import checks  # noqa: F401 - registers the deploy checks
