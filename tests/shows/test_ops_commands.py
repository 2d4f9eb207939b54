"""Ops commands: reconcile_stock, healthcheck, show_report's range and JSON, and their error handling."""

import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from catalog.models import Stock
from orders.services import cart_add, cart_get_or_create, checkout_complete, reservation_create
from shows.auctions import lot_start
from shows.models import Show
from shows.reconcile import ALLOCATION_HOLDERS, units_held
from shows.services import show_create, show_end, show_go_live
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.commands import run_manage
from tests.orders.test_services_checkout import ADDRESS


def call(name, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def held_everywhere(shop, merchant, shopper, other_shopper):
    """Units held by each kind of holder: an open order (2), a hold (1) and an open auction lot (1)."""
    product = ProductFactory(shop=shop, title="Rare pressing")
    ordered, held, auctioned = (VariantFactory(product=product, on_hand=5) for _ in range(3))
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=ordered.pk, quantity=2)
    checkout_complete(
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    reservation_create(user=other_shopper, variant_id=held.pk, quantity=1)
    show = show_go_live(
        show=show_create(shop=shop, title="Auction", scheduled_start=timezone.now(), products=[product])
    )
    lot_start(show=show, user=merchant, variant_id=auctioned.pk, starting_price="5.00", duration_seconds=60)
    return {"ordered": ordered, "held": held, "auctioned": auctioned}


def allocated(variant) -> int:
    return Stock.objects.get(variant=variant).allocated


@pytest.mark.django_db
def test_every_kind_of_holder_is_counted_and_consistent_stock_passes(held_everywhere):
    assert [name for name, _ in ALLOCATION_HOLDERS] == ["open orders", "active holds", "auction lots"]
    v = held_everywhere
    assert units_held() == {v["ordered"].pk: 2, v["held"].pk: 1, v["auctioned"].pk: 1}
    out, _ = call("reconcile_stock")
    assert "Stock is consistent" in out


@pytest.mark.django_db
def test_drift_is_reported_then_fixed_in_one_go(held_everywhere, shop):
    v = held_everywhere
    # Corruption from outside the services (a crash between writes, a hand edit in the database).
    Stock.objects.filter(variant=v["ordered"]).update(allocated=5)
    Stock.objects.filter(variant=v["auctioned"]).update(allocated=0)

    with pytest.raises(CommandError, match=r"2 stock row\(s\) drifted; nothing changed"):
        call("reconcile_stock")
    assert allocated(v["ordered"]) == 5

    out, _ = call("reconcile_stock", "--fix", "--shop", shop.slug)
    assert f"{v['ordered'].sku} (variant {v['ordered'].pk}): allocated 5, held 2 -> fixed" in out
    assert f"{v['auctioned'].sku} (variant {v['auctioned'].pk}): allocated 0, held 1 -> fixed" in out
    assert "Fixed 2 stock row(s) in one transaction." in out
    assert (allocated(v["ordered"]), allocated(v["auctioned"]), allocated(v["held"])) == (2, 1, 1)
    assert "Stock is consistent" in call("reconcile_stock")[0]


@pytest.mark.django_db
def test_a_row_holding_more_than_on_hand_is_not_fixed_and_fails(held_everywhere):
    v = held_everywhere
    Stock.objects.filter(variant=v["ordered"]).update(allocated=0, on_hand=1)  # 2 are held
    with pytest.raises(CommandError, match=r"Fixed 0 stock row\(s\); 1 could not be fixed"):
        call("reconcile_stock", "--fix")
    assert allocated(v["ordered"]) == 0


@pytest.mark.django_db
def test_healthcheck_reports_every_check(capsys):
    out, _ = call("healthcheck")
    assert out.split() == ["database", "ok", "redis", "ok", "broker", "eager", "migrations", "ok", "healthy"]
    data = json.loads(call("healthcheck", "--format", "json")[0])
    assert data["healthy"] is True and data["migrations"] == "ok"


@pytest.mark.django_db
def test_healthcheck_fails_on_unapplied_migrations(monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("app", False)])
    with pytest.raises(CommandError, match="unhealthy: migrations"):
        call("healthcheck")


@pytest.mark.django_db(transaction=True)
def test_healthcheck_exits_non_zero_without_a_traceback_when_redis_is_down():
    result = run_manage(
        "healthcheck", env={"REDIS_URL": "redis://127.0.0.1:1/0", "CELERY_TASK_ALWAYS_EAGER": "false"}
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "CommandError: unhealthy: redis, broker"
    assert "Traceback" not in result.stderr
    assert "redis       error" in result.stdout


@pytest.fixture
def two_ended_shows(shop):
    shows = []
    for days_ago, title in ((3, "Older show"), (0, "Today's show")):
        show = show_end(
            show=show_go_live(show=show_create(shop=shop, title=title, scheduled_start=timezone.now()))
        )
        Show.objects.filter(pk=show.pk).update(ended_at=timezone.now() - timedelta(days=days_ago))
        shows.append(show)
    return shows


@pytest.mark.django_db
def test_show_report_date_range_and_json(two_ended_shows):
    today = timezone.localdate()
    out, err = call(
        "show_report",
        "--since",
        (today - timedelta(days=4)).isoformat(),
        "--until",
        (today - timedelta(days=1)).isoformat(),
        "--format",
        "json",
    )
    rows = json.loads(out)
    assert [r["title"] for r in rows] == ["Older show"]
    assert set(rows[0]) >= {"peak_viewers", "orders", "units_sold", "sales_total", "currency"}
    assert "\r" not in err  # no progress bar off a terminal

    with pytest.raises(CommandError, match=r"--until \(2025-01-01\) is before --since \(2025-02-01\)"):
        call("show_report", "--since", "2025-02-01", "--until", "2025-01-01")


@pytest.mark.django_db
def test_fulfill_orders_refuses_a_negative_age():
    with pytest.raises(CommandError, match="--older-than must be 0 or more."):
        call("fulfill_orders", "--older-than", "-1")


@pytest.mark.django_db
def test_every_ops_command_has_help():
    for name in (
        "seed_demo",
        "sync_inventory",
        "release_reservations",
        "fulfill_orders",
        "close_auctions",
        "show_report",
        "reconcile_stock",
        "healthcheck",
        "run_timers",
    ):
        from django.core.management import get_commands, load_command_class

        command = load_command_class(get_commands()[name], name)
        assert "Example:" in command.help or name in ("run_timers", "seed_demo"), name
        assert command.create_parser("manage.py", name).format_help()


@pytest.mark.django_db
def test_the_daily_drift_report_logs_each_drifted_row_and_changes_nothing(held_everywhere, caplog):
    from shows.tasks import stock_reconcile_report_task

    v = held_everywhere
    assert stock_reconcile_report_task() == 0
    Stock.objects.filter(variant=v["held"]).update(allocated=3)
    assert stock_reconcile_report_task() == 1
    assert allocated(v["held"]) == 3
    assert f"{v['held'].sku} (variant {v['held'].pk}) allocated 3 but 1 held" in caplog.text
