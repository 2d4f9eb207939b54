"""Writes for users, shops, memberships and follows."""

from decimal import Decimal

from allauth.account.models import EmailAddress
from django.core.files.base import File
from django.db import transaction

from .models import Follow, Shop, ShopMembership, User


def user_create(
    *,
    username: str,
    email: str,
    password: str | None,
    display_name: str = "",
    is_superuser: bool = False,
    email_verified: bool = False,
) -> User:
    """Create an account; `email_verified` records the address with allauth (for accounts made by ops)."""
    if is_superuser:
        user = User.objects.create_superuser(username=username, email=email, password=password)
    else:
        user = User.objects.create_user(username=username, email=email, password=password)
    if display_name:
        user.display_name = display_name
        user.save(update_fields=["display_name"])
    if email_verified:
        user_email_verified_ensure(user=user)
    return user


def user_email_verified_ensure(*, user: User) -> None:
    """Record the user's address as verified and primary, so allauth accepts it for login."""
    if not EmailAddress.objects.filter(email__iexact=user.email).exists():
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)


def shop_set_logo(*, shop: Shop, image: File) -> Shop:
    shop.logo.save(image.name, image, save=False)
    Shop.objects.filter(pk=shop.pk).update(logo=shop.logo.name)
    return shop


@transaction.atomic
def shop_member_add(*, shop: Shop, user: User, role: str = ShopMembership.Role.STAFF) -> ShopMembership:
    """Make `user` staff of `shop`, with admin access and the merchant permissions."""
    membership, created = ShopMembership.objects.get_or_create(user=user, shop=shop, defaults={"role": role})
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if not user.is_staff:
        # Admin access; what they may do there comes from shops.backends.ShopMemberPermissions.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return membership


@transaction.atomic
def shop_create(*, owner: User, name: str, slug: str, currency: str = "USD", description: str = "") -> Shop:
    shop = Shop.objects.create(name=name, slug=slug, currency=currency, description=description)
    shop_member_add(shop=shop, user=owner, role=ShopMembership.Role.OWNER)
    return shop


def shop_set_status(*, shop: Shop, status: str) -> Shop:
    Shop.objects.filter(pk=shop.pk).update(status=status)
    shop.status = status
    return shop


def shop_set_show_shipping_cap(*, shop: Shop, cap: Decimal | None) -> Shop:
    """The most a shopper pays for shipping on everything bought from the shop in one show."""
    if cap is not None and cap < 0:
        raise ValueError("the cap cannot be negative")
    Shop.objects.filter(pk=shop.pk).update(show_shipping_cap=cap)
    shop.show_shipping_cap = cap
    return shop


def shop_follow(*, user: User, shop: Shop) -> Follow:
    follow, _ = Follow.objects.get_or_create(user=user, shop=shop)
    return follow


def shop_unfollow(*, user: User, shop: Shop) -> None:
    Follow.objects.filter(user=user, shop=shop).delete()
