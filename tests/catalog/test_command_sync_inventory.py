"""`manage.py sync_inventory`: summaries, dry runs, exit status and no tracebacks on user errors."""

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import InventorySyncRun, Stock
from tests.commands import run_manage


@pytest.fixture
def feed_file(tmp_path):
    def write(content: bytes | str, name="stock.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    return write


def call(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sync_inventory", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_sync_from_a_file_prints_a_summary(shop, variant, feed_file):
    out, err = call("--shop", shop.slug, "--file", feed_file("sku,quantity\nBT-LP,9\nNOPE,1\n"))
    assert (
        "succeeded" in out
        and "2 rows: 1 updated, 0 unchanged, 1 unknown SKU, 0 invalid, 0 in conflict" in out
    )
    assert "line 3: unknown SKU 'NOPE'" in err
    assert Stock.objects.get(variant=variant).on_hand == 9
    assert InventorySyncRun.objects.get().trigger == "command"


@pytest.mark.django_db
def test_dry_run_says_what_would_change(shop, variant, feed_file):
    out, _ = call(
        "--shop", shop.slug, "--file", feed_file('[{"sku": "BT-LP", "quantity": 2}]', "s.json"), "--dry-run"
    )
    assert "(dry run) succeeded" in out and "1 would update" in out
    assert Stock.objects.get(variant=variant).on_hand == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shop", "nope", "--file", "x.csv"], "No shop with the slug 'nope'."),
        (["--shop", "vinyl-vault", "--file", "/no/such/file.csv"], "No such file: /no/such/file.csv"),
        (["--shop", "vinyl-vault"], "The shop vinyl-vault has no stock feed"),
    ],
)
def test_user_errors_are_one_line_command_errors(shop, args, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(".", r"\.")):
        call(*args)


@pytest.mark.django_db
def test_a_failed_run_is_a_command_error_and_is_recorded(shop, variant, feed_file):
    with pytest.raises(CommandError, match="failed: 1 invalid row"):
        call("--shop", shop.slug, "--file", feed_file("sku,quantity\nBT-LP,-1\n"))
    assert InventorySyncRun.objects.get().status == "failed"


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.django_db
def test_progress_bar_shows_on_a_terminal_only(shop, variant, feed_file):
    path = feed_file("sku,quantity\nBT-LP,9\n")
    terminal = FakeTerminal()
    call_command("sync_inventory", "--shop", shop.slug, "--file", path, stdout=io.StringIO(), stderr=terminal)
    assert "applying" in terminal.getvalue()
    _, err = call("--shop", shop.slug, "--file", path)
    assert "applying" not in err and "\r" not in err


@pytest.mark.django_db(transaction=True)
def test_exit_status_and_no_traceback_from_a_real_process(shop, variant, feed_file):
    bad = feed_file("sku,quantity\nCAFÉ,1\n".encode("latin-1"))
    result = run_manage("sync_inventory", "--shop", shop.slug, "--file", bad)
    assert result.returncode == 1
    assert "CommandError: Sync run #" in result.stderr and "not UTF-8" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout

    result = run_manage("sync_inventory", "--shop", "missing-shop")
    assert (result.returncode, result.stderr.strip()) == (
        1,
        "CommandError: No shop with the slug 'missing-shop'.",
    )

    good = run_manage("sync_inventory", "--shop", shop.slug, "--file", feed_file("sku,quantity\nBT-LP,4\n"))
    assert good.returncode == 0, good.stderr
    assert "1 updated" in good.stdout and "Traceback" not in good.stderr and "applying" not in good.stderr
