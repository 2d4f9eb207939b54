"""The fault tests, in one list: what breaks, how the test breaks it, and what it asserts.

`FAULTS` is plain data (no database, no imports of the project), read by the test that writes
docs/reliability.md; tests/faults/test_catalogue.py checks that it names every test in tests/faults
and nothing else.
"""

FAULTS: list[dict[str, str]] = [
    {
        "fault": "Redis (the Celery broker) down while orders are placed",
        "how": "The broker URL points at a private redis-server that is not started yet; orders are "
        "checked out; then the server is started and the outbox drained.",
        "expected": "Checkout succeeds and the order is paid; its fulfilment and e-mail jobs wait in the "
        "outbox table (written in the order's transaction), one failed try opens the breaker, draining "
        "while Redis is down keeps them, and once Redis is up both reach the queue exactly once.",
        "test": "tests/faults/test_outbox.py::test_jobs_of_an_order_placed_while_redis_is_down_are_sent_when_it_returns",
    },
    {
        "fault": "None (control for the outbox test): Redis up",
        "how": "The same checkout with the private redis-server running.",
        "expected": "Jobs go straight to the broker; nothing is left in the outbox.",
        "test": "tests/faults/test_outbox.py::test_with_redis_up_jobs_go_straight_to_the_broker",
    },
    {
        "fault": "The database lost (restore from backup)",
        "how": "`pg_dump -Fc` of a database with a show, chat and an order, restored with `pg_restore` into "
        "a fresh database.",
        "expected": "The restored database has the same orders, order lines, payments and chat messages.",
        "test": "tests/faults/test_backup.py::test_pg_dump_and_restore_into_a_fresh_database_keeps_orders_and_chat",
    },
    {
        "fault": "PostgreSQL restarted, then stopped for 6 s, during checkouts",
        "how": "A private PostgreSQL cluster (initdb, own port) behind a production-settings uvicorn (psycopg "
        "pool, CONN_HEALTH_CHECKS, pool timeout 3 s); four buyer threads check out through the pages while "
        "the test runs `pg_ctl restart -m fast`, then `pg_ctl stop -m fast`, waits 6 s and starts it.",
        "expected": "During the outage requests get a clean 503 page with Retry-After (never a 500 or a "
        "dropped connection); afterwards every buyer checks out again with no restart of the server; every "
        "order has its lines, totals that add up and one captured payment, each confirmed checkout is "
        "exactly one order, and `reconcile_stock` reports stock consistent.",
        "test": "tests/faults/test_postgres_restart.py::test_checkouts_fail_cleanly_while_postgres_is_away_and_recover_by_themselves",
    },
    {
        "fault": "The database unreachable inside a request (handler unit test)",
        "how": "handler500 called while OperationalError, InterfaceError or another exception is being handled.",
        "expected": "A database error is a 503 with Retry-After (JSON under /api/, a page elsewhere); any "
        "other error stays a 500.",
        "test": "tests/faults/test_postgres_restart.py::test_the_error_handler_answers_503_only_when_the_database_is_unreachable",
    },
    {
        "fault": "A Celery worker SIGKILLed during fulfilment",
        "how": "A real worker pauses inside the packing transaction (fault point `order_fulfil`) and its "
        "process group is SIGKILLed; a new worker is started (visibility timeout 2 s).",
        "expected": "The transaction rolls back (no shipment, order still paid); the unacknowledged message "
        "is redelivered and packs the order; beat's re-drive then finds nothing: one shipment, one "
        "paid->fulfilling event.",
        "test": "tests/faults/test_worker_kill.py::test_worker_killed_mid_fulfilment_rolls_back_and_the_next_worker_packs_the_order_once",
    },
    {
        "fault": "A Celery worker SIGKILLed during an inventory sync",
        "how": "A 2,500-row URL feed; the worker is killed after the first 1,000-row batch committed (fault "
        "point `inventory_sync_batch`); a new worker gets the redelivered job; the clock is moved past "
        "STALE_RUN and beat's `stock-feeds-sync` job is sent.",
        "expected": "Only whole batches were applied; the redelivered job leaves the claimed run alone; the "
        "sweeper marks the killed run failed (abandoned) and starts one new run that succeeds (1,500 updated, "
        "1,000 unchanged): every stock row is exactly the feed's value.",
        "test": "tests/faults/test_worker_kill.py::test_worker_killed_mid_inventory_sync_the_run_is_abandoned_and_the_next_run_applies_the_feed",
    },
    {
        "fault": "Celery workers SIGKILLed while closing an auction lot and while charging the winner",
        "how": "One worker is killed inside the close transaction (fault point `lot_close`); the next is "
        "killed after the gateway captured but before the payment was recorded (`saved_card_captured`); a "
        "third finishes. Redelivered jobs race beat's `show-timers-sweep` at each step.",
        "expected": "The first close rolls back whole; the lot then closes once with one order; the charge "
        "is retried with the same idempotency key: one captured payment with the key's reference, one "
        "pending->paid move, the order packed once, stock allocation consistent.",
        "test": "tests/faults/test_worker_kill.py::test_workers_killed_mid_close_and_mid_charge_the_lot_gets_one_order_and_one_charge",
    },
    {
        "fault": "An ASGI process SIGKILLed with viewers connected",
        "how": "nginx (least_conn) in front of two production-settings uvicorn processes on a private Redis "
        "(deploy/cluster.py without Celery); six viewers connect through nginx; one process is SIGKILLed.",
        "expected": "Its viewers drop and reconnect with the page's backoff through nginx to the survivor, "
        "catch up on the chat they missed from the replay without duplicates, and receive later events; "
        "the count reads high (the dead process's stale presence entries) and comes back to the right "
        "number within PRESENCE_TTL (30 s) plus a margin, in Redis and on every socket.",
        "test": "tests/faults/test_asgi_kill.py::test_viewers_of_a_killed_asgi_process_reconnect_catch_up_and_the_count_recovers",
    },
]
