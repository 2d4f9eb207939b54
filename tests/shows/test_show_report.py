"""`manage.py show_report`: per ended show, its numbers from the stored summary (computed when missing)."""

import csv
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.services import cart_add, cart_get_or_create, checkout_complete
from shows.models import ShowSummary
from shows.services import chat_post, show_create, show_end, show_go_live, show_summary_compute
from tests.orders.test_services_checkout import ADDRESS

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended_show(shop, merchant, variant, shopper):
    """A show that sold two units in one order and had one chat message, then ended."""
    show = show_go_live(
        show=show_create(
            shop=shop,
            title="Friday Crate Digging",
            scheduled_start=timezone.now(),
            products=[variant.product],
        ),
        user=merchant,
    )
    chat_post(show=show, user=shopper, text="Two please!")
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=2, show_id=show.pk)
    (order,) = checkout_complete(
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    assert order.show_id == show.pk
    show = show_end(show=show, user=merchant)  # the summary task runs on commit, so not in this test
    show.order_total = order.total
    return show


def _report(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("show_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_table_lists_an_ended_show_with_its_orders_and_computes_the_missing_summary(ended_show, shop):
    assert not ShowSummary.objects.exists()

    out, err = _report()

    summary = ShowSummary.objects.get(show=ended_show)
    assert (summary.orders, summary.units_sold, summary.chat_messages) == (1, 2, 1)
    assert summary.sales_total == ended_show.order_total >= Decimal("63.00")
    row = next(line for line in out.splitlines() if "Friday Crate Digging" in line)
    assert shop.slug in row
    assert timezone.localdate().isoformat() in row
    assert f"{ended_show.order_total} USD" in row
    assert row.split()[-6:-2] == ["0", "1", "1", "2"]  # peak, chat, orders, units
    assert "1 show, 1 orders, 2 units" in out
    assert "Computing 1 missing summary" in err


def test_csv_uses_the_stored_summary(ended_show, monkeypatch):
    show_summary_compute(show_id=ended_show.pk)

    def boom(**kwargs):
        raise AssertionError("a stored summary is not recomputed")

    monkeypatch.setattr("shows.management.commands.show_report.show_summary_compute", boom)
    out, err = _report("--format", "csv", "--shop", "vinyl-vault", "--show", str(ended_show.pk))

    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row == {
        "show_id": str(ended_show.pk),
        "shop": "vinyl-vault",
        "title": "Friday Crate Digging",
        "date": timezone.localdate().isoformat(),
        "peak_viewers": "0",
        "chat_messages": "1",
        "orders": "1",
        "units_sold": "2",
        "sales_total": str(ended_show.order_total),
        "currency": "USD",
    }
    assert err == ""


def test_only_ended_shows_in_range_are_listed(ended_show, shop):
    show_create(shop=shop, title="Next week", scheduled_start=timezone.now())
    tomorrow = (timezone.localdate() + timezone.timedelta(days=1)).isoformat()

    out, _ = _report()
    assert "Next week" not in out and "Friday Crate Digging" in out
    out, _ = _report("--since", tomorrow)
    assert out.strip() == "No ended shows match."
    out, _ = _report("--since", tomorrow, "--format", "csv")
    assert out.splitlines() == [
        "show_id,shop,title,date,peak_viewers,chat_messages,orders,units_sold,sales_total,currency"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--shop", "no-such-shop"), "No shop with the slug 'no-such-shop'."),
        (("--show", "999999"), "No show with the id 999999."),
        (("--since", "01/05/2025"), "--since must be a date as YYYY-MM-DD"),
        (("--since", "2025-02-30"), "--since must be a date as YYYY-MM-DD"),
        (("--format", "xml"), "invalid choice: 'xml'"),
    ],
)
def test_bad_arguments_are_clear_errors(db, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        _report(*args)


def test_a_show_that_has_not_ended_is_an_error(shop, other_shop):
    show = show_create(shop=shop, title="Later", scheduled_start=timezone.now())

    with pytest.raises(CommandError, match="is scheduled; the report covers ended shows"):
        _report("--show", str(show.pk))
    with pytest.raises(CommandError, match="belongs to vinyl-vault, not sneaker-sanctum"):
        _report("--show", str(show.pk), "--shop", other_shop.slug)


def test_a_show_id_that_is_not_a_number_is_an_error(db):
    with pytest.raises(CommandError, match="invalid int value"):
        _report("--show", "abc")


@pytest.mark.parametrize(
    "title",
    ['=HYPERLINK("http://evil.example","Open")', "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"],
    ids=["equals", "plus", "minus", "at", "tab", "carriage-return"],
)
def test_csv_neutralises_a_title_a_spreadsheet_would_run_as_a_formula(ended_show, title):
    ended_show.title = title
    ended_show.save(update_fields=["title"])

    out, _ = _report("--format", "csv", "--show", str(ended_show.pk))

    (row,) = list(csv.DictReader(io.StringIO(out, newline="")))
    assert row["title"] == f"'{title}"  # shown as text, never run
    assert row["orders"] == "1" and row["sales_total"] == str(ended_show.order_total)  # numbers as they are
    json_out, _ = _report("--format", "json", "--show", str(ended_show.pk))
    assert title.replace("\t", "\\t").replace("\r", "\\r").replace('"', '\\"') in json_out  # JSON keeps it
