import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Stock
from orders.models import Order, Reservation
from orders.services import cart_add, cart_get_or_create, checkout_complete, reservation_create
from tests.orders.test_services_checkout import ADDRESS


@pytest.mark.django_db
def test_release_reservations_command_frees_expired_holds(shopper, variant, capsys):
    hold = reservation_create(user=shopper, variant_id=variant.pk, quantity=2)
    Reservation.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("release_reservations")
    assert "Released 1 expired hold(s)." in capsys.readouterr().out
    assert Stock.objects.get(variant=variant).allocated == 0
    assert Reservation.objects.get(pk=hold.pk).status == "expired"


@pytest.mark.django_db
def test_fulfill_orders_packs_paid_orders_left_behind(shopper, variant, capsys):
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=1)
    (order,) = checkout_complete(  # on_commit never runs here: the fulfilment job is "lost"
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    call_command("fulfill_orders", "--older-than", "0")
    assert "Fulfilment re-driven for 1 order(s)." in capsys.readouterr().out
    assert Order.objects.get(pk=order.pk).status == "fulfilling"
    call_command("fulfill_orders", "--older-than", "0")
    assert "for 0 order(s)" in capsys.readouterr().out
