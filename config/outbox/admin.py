from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Ops: jobs waiting for the broker (normally none; some during a Redis outage). Read-only."""

    list_display = ("task", "args", "created_at", "attempts", "last_error")
    search_fields = ("task",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
