"""The bid bounds the suite tries: each row is placed through the real `bid_place` by
`tests/shows/test_bid_bounds.py`, which asserts the outcome, and docs/reliability.md renders the list.
Plain data: importing it needs no database.

The rules under test (README "Live auctions", settings in config/settings/base.py), with the lot's price
P (its current bid, or its starting price before the first one) and its increment I:
a bid may be at most max(10 x P, P + 50 x I), a maximum (proxy) bid at most max(25 x P, P + 250 x I),
and neither above the seller's ceiling, if the lot has one; below the ceiling the next minimum never
passes it, so a bid can reach it exactly.
"""

from typing import NamedTuple

BID_JUMP = (10, 50)  # LIVEMARKET_BID_JUMP's default: (times the price, increments above it)
MAX_BID_JUMP = (25, 250)  # LIVEMARKET_MAX_BID_JUMP's default


class BidBoundCase(NamedTuple):
    """`price`: the lot's current bid (placed by another bidder), or its starting price when `opened`
    is False. `outcome`: "accepted", or the error code, then the amount its message must name."""

    description: str
    price: str
    increment: str
    ceiling: str | None
    amount: object
    max_amount: str | None
    outcome: str
    opened: bool = True


# One case a line, as a table (the formatter would spread each over eight lines).
# fmt: off
BID_BOUNDS_TRIED: list[BidBoundCase] = [
    BidBoundCase("the troll's bid (issue 17)", "10.00", "1.00", None, "999999999.99", None, "bid_too_high 100.00"),
    BidBoundCase("a bid at exactly 10 x the price", "10.00", "1.00", None, "100.00", None, "accepted"),
    BidBoundCase("one cent above 10 x the price", "10.00", "1.00", None, "100.01", None, "bid_too_high 100.00"),
    BidBoundCase("a 1.00 start: 50 increments is the larger bound", "1.00", "1.00", None, "51.00", None, "accepted", False),
    BidBoundCase("a 1.00 start: one cent above 50 increments", "1.00", "1.00", None, "51.01", None, "bid_too_high 51.00", False),
    BidBoundCase("a 0.01 start with a 1.00 increment", "0.01", "1.00", None, "50.01", None, "accepted", False),
    BidBoundCase("a 0.01 start: one cent more", "0.01", "1.00", None, "50.02", None, "bid_too_high 50.01", False),
    BidBoundCase("a dear lot: 10 x the price", "500.00", "10.00", None, "5000.00", None, "accepted"),
    BidBoundCase("a dear lot: one cent more", "500.00", "10.00", None, "5000.01", None, "bid_too_high 5000.00"),
    BidBoundCase("a maximum at exactly P + 250 increments", "10.00", "1.00", None, "11.00", "260.00", "accepted"),
    BidBoundCase("a maximum one cent above it", "10.00", "1.00", None, "11.00", "260.01", "bid_too_high 260.00"),
    BidBoundCase("a troll's maximum", "10.00", "1.00", None, "11.00", "999999999.99", "bid_too_high 260.00"),
    BidBoundCase("a maximum within bounds, its bid above them", "10.00", "1.00", None, "150.00", "200.00", "bid_too_high 100.00"),
    BidBoundCase("a bid at exactly the seller's ceiling", "10.00", "1.00", "50.00", "50.00", None, "accepted"),
    BidBoundCase("one cent above the ceiling", "10.00", "1.00", "50.00", "50.01", None, "bid_too_high 50.00"),
    BidBoundCase("a maximum above the ceiling", "10.00", "1.00", "50.00", "11.00", "60.00", "bid_too_high 50.00"),
    BidBoundCase("a maximum at exactly the ceiling", "10.00", "1.00", "50.00", "11.00", "50.00", "accepted"),
    BidBoundCase("the next minimum stops at the ceiling", "49.50", "1.00", "50.00", "50.00", None, "accepted"),
    BidBoundCase("a lot already at its ceiling", "50.00", "1.00", "50.00", "51.00", None, "bid_too_high 50.00"),
    BidBoundCase("below the next minimum", "10.00", "1.00", None, "10.99", None, "bid_too_low 11.00"),
    BidBoundCase("a negative amount", "10.00", "1.00", None, "-5", None, "invalid"),
    BidBoundCase("NaN", "10.00", "1.00", None, "NaN", None, "invalid"),
    BidBoundCase("Infinity", "10.00", "1.00", None, "Infinity", None, "invalid"),
    BidBoundCase("1e9 as a string", "10.00", "1.00", None, "1e9", None, "invalid"),
    BidBoundCase("40 nines", "10.00", "1.00", None, "9" * 40, None, "invalid"),
    BidBoundCase("a float too large for any price", "10.00", "1.00", None, 1e308, None, "invalid"),
    BidBoundCase("three decimals", "10.00", "1.00", None, "12.001", None, "invalid"),
]
# fmt: on
