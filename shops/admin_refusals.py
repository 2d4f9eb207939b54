"""When a service refuses an admin write.

`save_model`, `save_formset`, `delete_model` and `delete_queryset` call the services, which decide
what is allowed. When one refuses, the admin raises AdminRefused inside the request's transaction:
every change of the form (product, variants, images, log entry) or of the bulk delete rolls back,
and the merchant sees the reason as an error message instead of a 500 or half a save.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.admin.utils import quote
from django.db import router, transaction
from django.http import HttpResponseRedirect
from django.urls import reverse


class AdminRefused(Exception):
    """A service said no; `message` says why, for the merchant."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class RefusalAdminMixin:
    """Turns AdminRefused raised by a save, a delete or the bulk delete into an error message and a
    redirect, with nothing applied (Django's change and delete views already run in one transaction;
    the bulk delete action is given one here)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except AdminRefused as exc:
            self.message_user(request, f"Nothing was saved. {exc.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except AdminRefused as exc:
            self.message_user(request, f"Nothing was deleted. {exc.message}", messages.ERROR)
            opts = self.opts
            change_url = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[quote(object_id)],
                current_app=self.admin_site.name,
            )
            return HttpResponseRedirect(change_url)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            func, name, description = actions["delete_selected"]
            actions["delete_selected"] = (_all_or_nothing(func), name, description)
        return actions


def _all_or_nothing(delete_selected):
    """Django's bulk delete in one transaction (its log entries included): one refused row and none
    of the selection is deleted."""

    @wraps(delete_selected)
    def action(modeladmin, request, queryset):
        try:
            with transaction.atomic(using=router.db_for_write(modeladmin.model)):
                return delete_selected(modeladmin, request, queryset)
        except AdminRefused as exc:
            modeladmin.message_user(request, f"Nothing was deleted. {exc.message}", messages.ERROR)
            return None

    return action
