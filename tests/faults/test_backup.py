"""Backups as the README describes them: `pg_dump -Fc` of the database, restored with `pg_restore`
into a fresh database, keeps every order, order line, payment and chat message."""

import subprocess
import uuid

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from orders.services import cart_add, cart_get_or_create, checkout_complete
from shows.services import chat_post, show_create, show_go_live
from tests.shows.roomkit import ADDRESS

pytestmark = pytest.mark.django_db(transaction=True)

TABLES = ("orders_order", "orders_orderline", "orders_payment", "shows_chatmessage")


def _libpq(dbname: str) -> str:
    db = connection.settings_dict
    return f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname={dbname}"


def _counts(dbname: str) -> dict[str, int]:
    with psycopg.connect(_libpq(dbname)) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608


def test_pg_dump_and_restore_into_a_fresh_database_keeps_orders_and_chat(tmp_path, shop, variant, shopper):
    show = show_go_live(show=show_create(shop=shop, title="Backed up", scheduled_start=timezone.now()))
    for n in range(3):
        chat_post(show=show, user=shopper, text=f"message {n}")
    cart = cart_get_or_create(user=shopper)
    cart_add(cart=cart, variant_id=variant.pk, quantity=2, show_id=show.pk)
    checkout_complete(
        user=shopper,
        cart=cart,
        checkout_key=uuid.uuid4(),
        email=shopper.email,
        address=ADDRESS,
        card_number="4242424242424242",
    )
    source = connection.settings_dict["NAME"]
    before = _counts(source)
    assert before["orders_order"] == 1 and before["shows_chatmessage"] == 3

    dump = tmp_path / "livemarket.dump"
    db = connection.settings_dict
    common = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    subprocess.run(["pg_dump", *common, "-Fc", "-f", str(dump), source], check=True, timeout=120)  # noqa: S603,S607
    restored = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_libpq("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(  # noqa: S603
            ["pg_restore", *common, "--no-owner", "-d", restored, str(dump)],  # noqa: S607
            check=True,
            timeout=120,
        )
        assert _counts(restored) == before
    finally:
        with psycopg.connect(_libpq("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')
