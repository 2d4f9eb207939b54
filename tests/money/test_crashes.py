"""A crash at every point between the gateway and the commit: the server is SIGKILLed there, started
again, and what a person and beat do next (the shopper sends the form again; the recovery, packing and
e-mail jobs run) must leave orders, payments, the gateway, stock and e-mails as a run with no crash
does. Then `reconcile_stock` and `reconcile_payments` both come out clean.

Each case runs a real uvicorn on the test database with a fault point (config/faults.py) that makes the
request stop and wait at that spot; the test kills the server's process group with SIGKILL once the
marker appears."""

import signal
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Stock
from orders.fulfilment import orders_expire_unpaid, orders_redrive_stuck
from orders.models import Order, OrderEvent, Payment, Shipment
from orders.notifications import order_emails_redrive
from orders.payments.recovery import payments_reconcile, payments_recover
from orders.payments.test_gateway import Ledger
from orders.services import address_save, cart_add, cart_get_or_create, payment_method_save
from shows.reconcile import stock_reconcile
from shows.services import show_create, show_go_live, show_pin_product
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.money.catalogue import CRASH_COUNTS, CRASH_PATHS, CRASH_POINTS
from tests.money.conftest import SERVER_ENV, Browser, Server
from tests.orders.test_services_checkout import ADDRESS
from tests.servers import wait_for
from tests.shops.factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

GOOD_CARD = "4242 4242 4242 4242"
S = Order.Status
# What one unit bought with no crash leaves behind: the figures every crash case must end with.
CLEAN = dict.fromkeys(CRASH_COUNTS, 1)


class Crashable:
    """A server that stops at `point`, is SIGKILLed there, and comes back without the fault."""

    def __init__(self, tmp: Path, point: str):
        self.markers = tmp / "markers"
        self.markers.mkdir()
        self.maildir = tmp / "mail"
        self.point = point
        self.env = {
            **SERVER_ENV,
            "LIVEMARKET_PAYMENT_IN_FLIGHT_SECONDS": "2",
            "EMAIL_URL": f"filemail:///{self.maildir}",  # four slashes: an absolute path
        }
        self.server = Server(
            tmp,
            {
                **self.env,
                "LIVEMARKET_FAULT_POINTS": point,
                "LIVEMARKET_FAULT_MARKER_DIR": str(self.markers),
                "LIVEMARKET_FAULT_PAUSE_SECONDS": "120",
            },
        )

    def fire_and_kill(self, send) -> None:
        """Send the request in a thread, wait until the server stops at the point, kill it there."""
        errors = []

        def run():
            try:
                send()
            except httpx.HTTPError as exc:  # the connection dies with the server
                errors.append(exc)

        thread = threading.Thread(target=run)
        thread.start()
        wait_for(
            lambda: (self.markers / self.point).exists(), timeout=60, what=self.point, logs=[self.server.log]
        )
        self.server.stop(sig=signal.SIGKILL)
        thread.join(timeout=30)
        assert errors, "the request finished although its server was killed"
        self.server.extra_env = self.env
        self.server.start()

    def emails(self, mailoutbox) -> int:
        """Confirmation e-mails actually sent: by the servers (files) and by beat's jobs here."""
        sent = list(self.maildir.glob("*.log")) if self.maildir.exists() else []
        from_servers = sum(
            p.read_text(errors="replace").count("Subject: Your Livemarket order") for p in sent
        )
        return from_servers + sum(1 for m in mailoutbox if m.subject.startswith("Your Livemarket order"))


@pytest.fixture
def crashable(tmp_path):
    """Make the test's crashable server; it is stopped however the test ends."""
    made: list[Crashable] = []

    def make(point: str) -> Crashable:
        made.append(Crashable(tmp_path, point))
        return made[-1]

    yield make
    for crash in made:
        crash.server.stop()


def beat(*, recover: bool = True) -> None:
    """What beat runs within a minute (with the clock moved past each job's wait)."""
    if recover:
        payments_recover(older_than_seconds=0)
    orders_redrive_stuck(older_than_seconds=0)
    order_emails_redrive(older_than_seconds=0)


def counts(*, user, variant, crash: Crashable, mailoutbox) -> dict[str, int]:
    orders = list(Order.objects.filter(user=user))
    numbers = [o.number for o in orders]
    ledger = Ledger()
    return {
        "orders paid": sum(o.status in (S.PAID, S.FULFILLING) for o in orders),
        "captured payments": Payment.objects.filter(order__user=user, status=Payment.Status.CAPTURED).count(),
        "gateway captures": sum(
            a["status"] == "captured" for n in numbers for a in ledger.authorizations(key_prefix=f"{n}-pay-")
        ),
        "units allocated": Stock.objects.get(variant=variant).allocated,
        "e-mails": crash.emails(mailoutbox),
        "shipments": Shipment.objects.filter(orders__user=user).distinct().count(),
    }


def assert_reconciled() -> None:
    assert not stock_reconcile(fix=False).drift
    report = payments_reconcile()
    assert report.clean, report.problems
    call_command("reconcile_payments")  # exit 0: the ops report agrees


@pytest.mark.parametrize("point", [p for p, _ in CRASH_POINTS])
def test_checkout_killed_at_each_point_ends_as_if_no_crash(point, crashable, shop, mailoutbox):
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=5, price="20.00")
    buyer = UserFactory()
    cart_add(cart=cart_get_or_create(user=buyer), variant_id=variant.pk, quantity=1)
    crash = crashable(point)
    browser = Browser(crash.server, buyer)
    form = browser.checkout_form()
    crash.fire_and_kill(lambda: browser.post("/checkout/", form))

    time.sleep(2.2)  # the dead request's attempt is now past the in-flight window
    again = browser.post("/checkout/", form)  # the shopper sends the same form again
    assert again.status_code == 302, again.text[:500]
    beat()
    try:
        assert counts(user=buyer, variant=variant, crash=crash, mailoutbox=mailoutbox) == CLEAN
        assert_reconciled()
    finally:
        crash.server.stop()


@pytest.mark.parametrize("point", [p for p, _ in CRASH_POINTS])
def test_one_tap_charge_killed_at_each_point_ends_as_if_no_crash(
    point, crashable, shop, merchant, mailoutbox
):
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=5, price="20.00")
    show = show_go_live(
        show=show_create(
            shop=shop, title="Crash night", scheduled_start=timezone.now(), products=[variant.product]
        )
    )
    show_pin_product(show=show, user=merchant, product_id=variant.product_id)
    buyer = UserFactory()
    address_save(user=buyer, data=ADDRESS)
    payment_method_save(user=buyer, card_number=GOOD_CARD)
    crash = crashable(point)
    browser = Browser(crash.server, buyer)
    _, csrf = browser.form(f"/shows/{show.pk}/")
    tap = {**csrf, "variant_id": variant.pk, "one_tap": "1", "checkout_key": str(uuid.uuid4())}
    crash.fire_and_kill(lambda: browser.post(f"/shows/{show.pk}/buy/", tap))

    beat()  # recovery settles the dead attempt and charges the order again where nothing was taken
    try:
        assert counts(user=buyer, variant=variant, crash=crash, mailoutbox=mailoutbox) == CLEAN
        assert_reconciled()
    finally:
        crash.server.stop()


def test_expiry_never_cancels_an_order_the_gateway_captured(crashable, shop, mailoutbox):
    """Killed after the capture, and nobody sends the form again: expiry asks the gateway first."""
    variant = VariantFactory(product=ProductFactory(shop=shop), on_hand=5, price="20.00")
    buyer = UserFactory()
    cart_add(cart=cart_get_or_create(user=buyer), variant_id=variant.pk, quantity=1)
    crash = crashable("payment_captured")
    browser = Browser(crash.server, buyer)
    form = browser.checkout_form()
    crash.fire_and_kill(lambda: browser.post("/checkout/", form))
    try:
        (order,) = Order.objects.filter(user=buyer)
        assert order.status == S.PENDING_PAYMENT  # the capture was never recorded
        Payment.objects.filter(order=order).update(created_at=timezone.now() - timezone.timedelta(hours=1))
        assert orders_expire_unpaid(older_than_minutes=0) == 0
        order.refresh_from_db()
        assert order.status in (S.PAID, S.FULFILLING)  # paid from the gateway's record (and packed)
        beat(recover=False)
        assert counts(user=buyer, variant=variant, crash=crash, mailoutbox=mailoutbox) == CLEAN
        assert_reconciled()
    finally:
        crash.server.stop()


def test_old_form_sent_after_a_newer_checkout_does_not_buy_the_cart_twice(crashable, mailoutbox):
    """Crash mid-checkout of three shops' items; the shopper checks out again (a new form) and pays;
    then the old form is sent again (the back button): 3 paid orders, not 6."""
    variants = [
        VariantFactory(product=ProductFactory(shop=ShopFactory()), on_hand=5, price="10.00") for _ in range(3)
    ]
    buyer = UserFactory()
    cart = cart_get_or_create(user=buyer)
    for variant in variants:
        cart_add(cart=cart, variant_id=variant.pk, quantity=1)
    crash = crashable("payment_before_gateway")
    browser = Browser(crash.server, buyer)
    old_form = browser.checkout_form()
    crash.fire_and_kill(lambda: browser.post("/checkout/", old_form))
    try:
        time.sleep(2.2)
        new = browser.post("/checkout/", browser.checkout_form())
        assert new.status_code == 302, new.text[:500]
        stale = browser.post("/checkout/", old_form)
        assert stale.status_code == 409 and "replaced by a newer one" in stale.text
        beat()
        paid = Order.objects.filter(user=buyer, status__in=(S.PAID, S.FULFILLING))
        assert paid.count() == 3
        assert Order.objects.filter(user=buyer, status=S.CANCELLED).count() == 3
        assert [Stock.objects.get(variant=v).allocated for v in variants] == [1, 1, 1]
        assert Payment.objects.filter(order__user=buyer, status=Payment.Status.CAPTURED).count() == 3
        assert not OrderEvent.objects.filter(
            order__user=buyer, to_status="paid", order__status=S.CANCELLED
        ).exists()
        assert_reconciled()
    finally:
        crash.server.stop()


def test_every_crash_case_is_catalogued():
    assert {p for p, _ in CRASH_POINTS} == {
        "payment_before_gateway",
        "payment_captured",
        "payment_recorded",
        "payment_committed",
    }
    assert {p for p, _ in CRASH_PATHS} == {"checkout", "one_tap"}
