"""`manage.py seed_demo`: the contract's demo accounts and a browsable marketplace, idempotently."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import authenticate
from django.core.management import call_command

from catalog.models import Category, Product, ProductImage, Stock, Variant
from catalog.stock import stock_set_on_hand
from orders.models import Address, PaymentMethod
from shops.models import Follow, Shop, ShopMembership, User
from shows.models import BlockedWord, ChatMessage, PinEvent, Show, ShowReminder, ShowRole, ShowSummary

pytestmark = pytest.mark.django_db

CONTRACT_ACCOUNTS = {
    "ops": ("ops@livemarket.test", "ops-demo-pass"),
    "merchant": ("merchant@livemarket.test", "merchant-demo-pass"),
    "merchant2": ("merchant2@livemarket.test", "merchant2-demo-pass"),
    "shopper": ("shopper@livemarket.test", "shopper-demo-pass"),
    "bidder": ("bidder@livemarket.test", "bidder-demo-pass"),
}


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = (
        User,
        EmailAddress,
        Shop,
        ShopMembership,
        Follow,
        Category,
        Product,
        Variant,
        Stock,
        ProductImage,
        Show,
        ChatMessage,
        BlockedWord,
        ShowRole,
        ShowReminder,
        PinEvent,
        ShowSummary,
        Address,
        PaymentMethod,
    )
    return {model.__name__: model.objects.count() for model in models}


def _stock() -> dict[tuple[str, str], tuple[int, int]]:
    rows = Stock.objects.values_list("variant__shop__slug", "variant__sku", "on_hand", "allocated")
    return {(shop, sku): (on_hand, allocated) for shop, sku, on_hand, allocated in rows}


def test_second_run_creates_nothing_and_changes_no_stock_or_passwords():
    _seed()
    counts, stock = _counts(), _stock()
    passwords = dict(User.objects.values_list("username", "password"))
    logos = dict(Shop.objects.values_list("slug", "logo"))

    output = _seed()

    assert _counts() == counts
    assert _stock() == stock
    assert dict(User.objects.values_list("username", "password")) == passwords
    assert dict(Shop.objects.values_list("slug", "logo")) == logos
    assert "nothing created" in output


def test_rerun_keeps_stock_that_changed_since_the_first_seed():
    _seed()
    variant = Variant.objects.get(shop__slug="vinyl-vault", sku="VV-NTIDE-STD")
    stock_set_on_hand(variant_id=variant.pk, on_hand=99)

    _seed()

    assert Stock.objects.get(variant=variant).on_hand == 99


def test_seed_creates_the_contract_accounts_with_working_passwords():
    output = _seed()

    for username, (email, password) in CONTRACT_ACCOUNTS.items():
        user = User.objects.get(username=username)
        assert user.email == email
        assert authenticate(username=username, password=password) == user
        assert EmailAddress.objects.filter(user=user, email=email, verified=True, primary=True).exists()
        assert username in output and password in output
    assert User.objects.get(username="ops").is_superuser
    assert "http://127.0.0.1:8000" in output


def test_merchants_own_their_shops():
    _seed()

    owners = dict(
        ShopMembership.objects.filter(role=ShopMembership.Role.OWNER).values_list(
            "shop__slug", "user__username"
        )
    )
    assert owners["vinyl-vault"] == "merchant"
    assert owners["sneaker-sanctum"] == "merchant2"
    assert User.objects.get(username="merchant").is_staff


def test_seed_builds_three_shops_of_about_forty_products_with_stock_and_images():
    _seed()

    assert Shop.objects.count() == 3
    assert all(shop.logo for shop in Shop.objects.all())
    assert 35 <= Product.objects.count() <= 45
    assert not Product.objects.filter(variants__isnull=True).exists()
    assert not Product.objects.filter(images__isnull=True).exists()
    assert Product.objects.filter(is_featured=True).count() >= 4
    assert Product.objects.filter(status=Product.Status.DRAFT).count() == 1
    assert Category.objects.filter(parent__isnull=False).count() >= 3

    sold_out = [
        p
        for p in Product.objects.prefetch_related("variants__stock")
        if all(v.stock.on_hand == 0 for v in p.variants.all())
    ]
    assert len(sold_out) >= 2
    assert Stock.objects.filter(on_hand__gt=0, on_hand__lte=3).count() >= 2


def test_seed_puts_one_show_live_with_a_pinned_product_chat_and_a_cohost_and_schedules_two():
    _seed()

    live = Show.objects.get(status=Show.Status.LIVE)
    assert live.shop.slug == "vinyl-vault"
    assert live.pinned_product is not None
    assert live.products.filter(pk=live.pinned_product_id).exists()
    assert ChatMessage.objects.filter(show=live).count() >= 3

    scheduled = Show.objects.filter(status=Show.Status.SCHEDULED)
    assert scheduled.count() == 2
    assert all(show.scheduled_start > live.started_at and show.products.exists() for show in scheduled)
    assert ShowRole.objects.filter(show=live, user__username="merchant2", role=ShowRole.Role.COHOST).exists()
    reminded = ShowReminder.objects.get(user__username="shopper").show
    assert reminded.status == Show.Status.SCHEDULED and reminded.shop.slug == "sneaker-sanctum"


def test_seed_ends_one_show_with_a_replay_chapters_and_a_summary():
    _seed()

    ended = Show.objects.get(status=Show.Status.ENDED)
    assert ended.shop.slug == "vinyl-vault"
    assert ended.replay_url.endswith(".m3u8")
    assert ended.started_at is not None and ended.ended_at is not None
    assert ended.pinned_product is None
    chapters = list(PinEvent.objects.filter(show=ended).values_list("product__title", flat=True))
    assert len(chapters) == 3
    assert ShowSummary.objects.filter(show=ended, chat_messages=2, currency="USD").exists()
    assert Show.objects.count() == 4


def test_seed_blocks_a_few_spam_words_per_shop():
    _seed()

    for shop in Shop.objects.all():
        assert "spam" in set(BlockedWord.objects.filter(shop=shop).values_list("word", flat=True))
