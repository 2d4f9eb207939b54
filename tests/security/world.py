"""The fixture world of the isolation matrix: two shops (A and B) with one of everything, two shoppers,
and an ops superuser, built through the services (tests/shops/test_admin_isolation.py's `_populate`)."""

from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from catalog.models import Category, InventorySyncRun, Product, ProductImage, Variant
from catalog.services import category_get_or_create
from config.outbox.models import OutboxMessage
from orders.models import Order, PaymentWebhookEvent
from orders.services import cart_add, cart_get_or_create
from shops.apikeys import api_key_create
from shops.models import Shop, WebhookDelivery, WebhookEndpoint
from shops.services import user_email_verified_ensure
from shows.models import Lot, Show
from tests.shops.factories import ShopFactory, UserFactory
from tests.shops.test_admin_isolation import _populate


def _tenant(shop: Shop, staff, shopper) -> dict:
    """Shop `shop`'s objects (and its shopper's) after `_populate`, under the keys the API walk uses."""
    product = Product.objects.filter(shop=shop).order_by("pk").first()
    variant = Variant.objects.filter(product=product, stock__on_hand__gt=0).order_by("pk").first()
    order = Order.objects.filter(shop=shop, user=shopper).order_by("pk").first()
    endpoint = WebhookEndpoint.objects.filter(shop=shop).order_by("pk").first()
    cart_line = cart_add(cart=cart_get_or_create(user=shopper), variant_id=variant.pk, quantity=1)
    _, raw_key = api_key_create(shop=shop, name="matrix", created_by=staff)
    return {
        "shop": shop,
        "staff": staff,
        "shopper": shopper,
        "key": raw_key,
        "product": product,
        "variant": variant,
        "image": ProductImage.objects.filter(product=product).order_by("pk").first(),
        "order": order,
        "show": Show.objects.filter(shop=shop, status=Show.Status.ENDED).order_by("pk").first(),
        "upcoming": Show.objects.filter(shop=shop, status=Show.Status.SCHEDULED).order_by("pk").first(),
        "lot": Lot.objects.filter(show__shop=shop).order_by("pk").first(),
        "endpoint": endpoint,
        "delivery": WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk").first(),
        "sync_run": InventorySyncRun.objects.filter(shop=shop).order_by("pk").first(),
        "cart_line": cart_line,
    }


def _ops_rows(shopper) -> dict:
    """One row of each ops-only admin model (third-party and bookkeeping models have no service)."""
    from django.contrib.auth.models import Group

    user_email_verified_ensure(user=shopper)
    interval = IntervalSchedule.objects.create(every=30, period=IntervalSchedule.SECONDS)
    return {
        "group": Group.objects.order_by("pk").first() or Group.objects.create(name="Matrix"),
        "user": shopper,
        "emailaddress": shopper.emailaddress_set.get(),
        "outbox": OutboxMessage.objects.create(task="shows.tasks.noop", args=[1]),
        "interval": interval,
        "crontab": CrontabSchedule.objects.create(minute="5"),
        "solar": SolarSchedule.objects.create(event="sunrise", latitude=51.5, longitude=0.1),
        "clocked": ClockedSchedule.objects.create(clocked_time=timezone.now()),
        "periodictask": PeriodicTask.objects.create(name="matrix", task="x.y", interval=interval),
        "webhookevent": PaymentWebhookEvent.objects.create(
            gateway="test", event_id="evt_matrix", event_type="payment.captured"
        ),
    }


def build_world() -> dict:
    """Run inside `captureOnCommitCallbacks(execute=True)`, so fulfilment and webhooks happen."""
    owner_a, owner_b = UserFactory(username="owner_a"), UserFactory(username="owner_b")
    shopper_a = UserFactory(username="shopper_a", email="shopper-a@example.test")
    shopper_b = UserFactory(username="shopper_b", email="shopper-b@example.test")
    ops = UserFactory(username="ops", is_superuser=True)
    shop_a = ShopFactory(owner=owner_a, name="Alpha Records", slug="alpha")
    shop_b = ShopFactory(owner=owner_b, name="Bravo Kicks", slug="bravo")
    _populate(shop_a, owner_a, shopper_a)
    _populate(shop_b, owner_b, shopper_b)
    category: Category = category_get_or_create(name="Records")
    return {
        "a": _tenant(shop_a, owner_a, shopper_a),
        "b": _tenant(shop_b, owner_b, shopper_b),
        "ops": ops,
        "category": category,
        "ops_rows": _ops_rows(shopper_a),
    }
