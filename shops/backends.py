"""Merchant permissions come from shop membership, not from groups someone has to maintain."""

from django.contrib.auth.backends import BaseBackend

from .permissions import MERCHANT_PERMISSION_NAMES
from .selectors import shop_ids_for_user


class ShopMemberPermissions(BaseBackend):
    """Grants the merchant permission set to active users who work for at least one shop.

    Rows stay scoped per shop by the admin's querysets; these permissions only open the doors.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or not shop_ids_for_user(user_obj):
            return set()
        return set(MERCHANT_PERMISSION_NAMES)

    def has_perm(self, user_obj, perm, obj=None):
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(name.startswith(f"{app_label}.") for name in self.get_all_permissions(user_obj))
