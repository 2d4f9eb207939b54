"""What the money tests attack and what must come out, read by the tests and by docs/reliability.md.

Importable without a database: plain data only."""

# Every placement path and money transition, fired N times at once with one key.
RACE_SIZES = (2, 8, 32)

# (key, what a shopper or the system does, how the N requests arrive, the counts that must each be 1)
MONEY_RACES = (
    (
        "checkout",
        "Checkout: one item in the cart, the same form (same `checkout_key`) posted N times",
        "HTTP POST /checkout/ to a running uvicorn",
    ),
    (
        "buy_now_checkout",
        "Buy now in a live show (a hold), then the checkout form posted N times",
        "HTTP POST /checkout/ to a running uvicorn",
    ),
    (
        "one_tap",
        "1-tap in a live show: the same tap (same `checkout_key`) N times",
        "HTTP POST /shows/<id>/buy/ one_tap=1 to a running uvicorn",
    ),
    (
        "won_lot",
        "Won auction lot: the winner's charge run N times (the charge job, its redelivery, beat's re-drive)",
        "threads calling the lot-charge task on PostgreSQL (no HTTP endpoint charges a lot)",
    ),
    (
        "giveaway",
        "Giveaway draw: the timer and the host's draw N times",
        "threads calling the draw on PostgreSQL (the room socket and the timer call it)",
    ),
    (
        "shopper_cancel",
        "Shopper cancels a paid order: the cancel form posted N times",
        "HTTP POST /orders/<number>/cancel/ to a running uvicorn",
    ),
    (
        "admin_refund",
        "Merchant refunds in full from the admin: the confirm form (same request key) posted N times",
        "HTTP POST to the admin's order changelist action on a running uvicorn",
    ),
    (
        "payment_webhook",
        "The gateway's signed `payment.succeeded` for an order awaiting confirmation, delivered N times",
        "HTTP POST /payments/webhooks/test/ to a running uvicorn",
    ),
)

# A prize costs nothing: no payment is taken for it, so its payment counts are 0, not 1.
NOTHING_TO_PAY = {"giveaway"}

# What is counted after each race; every count must be exactly 1 (refunds: 1 for the two refund rows).
MONEY_COUNTS = (
    ("orders", "orders placed for the key (per shop)"),
    ("captured", "captured `Payment` rows"),
    ("gateway_captures", "captures the gateway's own ledger holds"),
    ("paid_events", "`paid` status events"),
    ("webhooks", "outgoing `order.paid` webhook deliveries"),
    ("shipments", "shipments"),
    ("emails", "confirmation e-mails sent"),
)
# The two transitions that take money back are counted on the refund: one Refund row, one refund at the
# gateway, one `cancelled`/`refunded` status event and one e-mail about it.
REFUND_COUNTS = (
    ("refunds", "`Refund` rows"),
    ("gateway_refunds", "refunds the gateway's ledger holds"),
    ("end_events", "`cancelled` or `refunded` status events"),
    ("emails", "cancellation or refund e-mails"),
)

# Crash points (config.faults) on the way from the gateway to the commit, with the process SIGKILLed there.
CRASH_POINTS = (
    ("payment_before_gateway", "attempt recorded, gateway not called"),
    ("payment_captured", "gateway captured, nothing recorded"),
    ("payment_recorded", "payment and paid status written, not committed"),
    ("payment_committed", "committed, e-mail and packing jobs not started"),
)
CRASH_PATHS = (
    ("checkout", "checkout over HTTP; after the restart the shopper sends the same form again"),
    ("one_tap", "1-tap over HTTP (the charge runs after commit); after the restart beat's recovery runs"),
)
# Counted before (a run with no crash) and after (crash, restart, recovery); the two must be equal.
CRASH_COUNTS = (
    "orders paid",
    "captured payments",
    "gateway captures",
    "units allocated",
    "e-mails",
    "shipments",
)
