"""Who may do what in a show. Checked on the server for every action, whatever the client sends."""

from shops.selectors import user_is_shop_staff

from .models import ShopBan, Show, ShowMute, ShowRole

HOST = "host"  # go live, end
PIN = "pin"
DEAL = "deal"
GIVEAWAY = "giveaway"
MODERATE = "moderate"
AUCTION = "auction"  # start lots, settle unpaid ones

ALL_RIGHTS = frozenset({HOST, PIN, DEAL, GIVEAWAY, MODERATE, AUCTION})
ROLE_RIGHTS = {
    ShowRole.Role.COHOST: frozenset({PIN, DEAL, GIVEAWAY, MODERATE, AUCTION}),
    ShowRole.Role.MODERATOR: frozenset({MODERATE}),
}


def show_rights(*, user, show: Show) -> frozenset[str]:
    """The shop's staff (and ops) hold every right; co-hosts and moderators what their role gives."""
    if user is None or not user.is_authenticated:
        return frozenset()
    if user.is_superuser or user_is_shop_staff(user=user, shop_id=show.shop_id):
        return ALL_RIGHTS
    role = ShowRole.objects.filter(show=show, user=user).values_list("role", flat=True).first()
    return ROLE_RIGHTS.get(role, frozenset())


def is_banned(*, user, show: Show) -> bool:
    return ShopBan.objects.filter(shop_id=show.shop_id, user=user).exists()


def is_muted(*, user, show: Show) -> bool:
    return ShowMute.objects.filter(show=show, user=user).exists()
