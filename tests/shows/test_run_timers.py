from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import Reservation
from orders.services import reservation_create


@pytest.mark.django_db
def test_run_timers_once_releases_expired_holds(shopper, variant, capsys):
    hold = reservation_create(user=shopper, variant_id=variant.pk)
    Reservation.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("run_timers", "--once")
    assert "1 hold(s) released" in capsys.readouterr().out
    assert Reservation.objects.get(pk=hold.pk).status == "expired"
