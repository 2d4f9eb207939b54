"""Live auctions: lots, bids (with maximum/proxy bids and anti-sniping), closing, and settling.

Every bid is placed under a row lock on its lot, so bids are applied one at a time in commit order:
the highest valid bid wins and, at equal amounts, the first to commit. A lot's units are allocated
when it starts (so "buy now" and other lots can't take them); they become the winner's order, or go
back to stock when nobody bids or the seller releases them.

Proxy bidding follows the usual rule: each bidder may give a maximum; the leader's maximum answers
every challenge automatically, one increment above the challenger, up to the maximum. At equal
maxima the earlier one leads.

Bids are bounded above as well as below (`lot_bid_bounds`), so one troll can't win every lot with
999,999,999.99 and force the failed-payment path: from the lot's price P and increment I, a bid may
be at most max(T x P, P + K x I) and a maximum bid likewise with its own, wider T and K (settings
LIVEMARKET_BID_JUMP, LIVEMARKET_MAX_BID_JUMP); the seller's optional ceiling caps both.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.exceptions import InsufficientStock
from catalog.models import Product, Variant
from catalog.stock import stock_allocate
from config.faults import fault_point
from orders.reservations import stock_changed_announce, stock_release_to_waitlist_or_sale
from orders.selectors import bidding_ready
from orders.services import order_charge_saved_method, won_lot_order_place
from shops.selectors import user_is_shop_staff

from . import events
from .exceptions import (
    BidNotAllowed,
    BidTooHigh,
    BidTooLow,
    InvalidMessage,
    LotClosed,
    LotError,
    NotAllowed,
    RateLimited,
    ShowNotLive,
)
from .models import Bid, Lot, Show, ShowRole
from .permissions import AUCTION, is_banned, is_muted, show_rights
from .ratelimit import rate_limit_exceeded
from .services import show_pin_product, whole_number

logger = logging.getLogger(__name__)

LOT_SECONDS = (5, 3600)
EXTEND_SECONDS = (1, 120)
LOT_QUANTITY = (1, 1000)
MAX_PRICE = Decimal("1e9")
LOT_ORDER_NAMESPACE = uuid.UUID("6f1c3c52-8d0e-4a57-9d1b-4c1a7e0b2a11")


# --- Parsing and small rules -------------------------------------------------------------------


def money_parse(value, *, what: str) -> Decimal:
    """A positive amount with at most two decimals, from a number or a string; never a float sum."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidMessage(f"{what} must be an amount.")
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise InvalidMessage(f"{what} must be an amount.") from None
    if not amount.is_finite() or amount <= 0 or amount >= MAX_PRICE:
        raise InvalidMessage(f"{what} must be more than 0 and below {MAX_PRICE:,.0f}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidMessage(f"{what} can have at most two decimals.")
    return amount.quantize(Decimal("0.01"))


def increment_table_parse(table) -> list[list[str]]:
    """`[[from_price, increment], ...]`, sorted; an empty table means the fixed increment."""
    if not table:
        return []
    if not isinstance(table, list | tuple):
        raise InvalidMessage("The increment table must be a list of [from price, increment] pairs.")
    steps = []
    for step in table:
        if not isinstance(step, list | tuple) or len(step) != 2:
            raise InvalidMessage("Each increment step is a pair: [from price, increment].")
        start = Decimal("0") if step[0] in (0, "0") else money_parse(step[0], what="A step's price")
        steps.append((start, money_parse(step[1], what="A step's increment")))
    steps.sort()
    return [[str(start), str(inc)] for start, inc in steps]


def lot_increment(lot: Lot, price: Decimal) -> Decimal:
    step = lot.increment
    for start, inc in lot.increment_table or []:
        if price >= Decimal(start):
            step = Decimal(inc)
    return step


@dataclass(frozen=True)
class BidBounds:
    """What a lot accepts now: a bid in [minimum, bid_limit], a maximum bid up to max_limit; the room
    asks the shopper to confirm an amount above confirm_above (the server never asks)."""

    minimum: Decimal
    bid_limit: Decimal
    max_limit: Decimal
    confirm_above: Decimal


def _jump(price: Decimal, step: Decimal, rule: tuple[int, int]) -> Decimal:
    times, increments = rule
    return max(price * times, price + step * increments)


def lot_bid_bounds(lot: Lot) -> BidBounds:
    """From the current price (the starting price before the first bid) and the increment there.
    Below the seller's ceiling the next minimum never passes it, so a bid can reach it exactly."""
    price = lot.starting_price if lot.current_price is None else lot.current_price
    step = lot_increment(lot, price)
    minimum = price if lot.current_price is None else price + step
    bid_limit = max(_jump(price, step, settings.LIVEMARKET_BID_JUMP), minimum)
    max_limit = max(_jump(price, step, settings.LIVEMARKET_MAX_BID_JUMP), bid_limit)
    confirm_above = max(_jump(price, step, settings.LIVEMARKET_BID_CONFIRM_JUMP), minimum)
    ceiling = lot.bid_ceiling
    if ceiling is not None:
        if minimum > ceiling and (lot.current_price is None or lot.current_price < ceiling):
            minimum = ceiling
        bid_limit, max_limit = min(bid_limit, ceiling), min(max_limit, ceiling)
    return BidBounds(minimum, bid_limit, max_limit, min(confirm_above, max_limit))


def _bid_bounds_check(lot: Lot, *, amount: Decimal, ceiling: Decimal, leading: bool) -> BidBounds:
    """Refuse an amount or a maximum above what the lot accepts now, naming the allowed maximum. The
    leader only raises their maximum (their amount is not a new bid)."""
    bounds = lot_bid_bounds(lot)
    at_ceiling = lot.bid_ceiling is not None and bounds.minimum > lot.bid_ceiling
    if at_ceiling:
        raise BidTooHigh(
            f"This lot has reached the seller's ceiling of {lot.bid_ceiling} {lot.currency}: no higher bids."
        )
    if not leading and amount > bounds.bid_limit:
        raise BidTooHigh(
            f"Too high: a bid may be at most {bounds.bid_limit} {lot.currency} now"
            f"{_ceiling_note(lot, bounds.bid_limit)}."
        )
    if ceiling > bounds.max_limit:
        raise BidTooHigh(
            f"Too high: a maximum bid may be at most {bounds.max_limit} {lot.currency} now"
            f"{_ceiling_note(lot, bounds.max_limit)}."
        )
    return bounds


def _ceiling_note(lot: Lot, limit: Decimal) -> str:
    if lot.bid_ceiling is not None and limit == lot.bid_ceiling:
        return " (the seller's ceiling)"
    return " (it rises with the price)"


def lot_payload(lot: Lot) -> dict:
    now = timezone.now()
    is_open = lot.status == Lot.Status.OPEN
    bounds = lot_bid_bounds(lot)
    return {
        "id": lot.pk,
        "show_id": lot.show_id,
        "title": lot.title,
        "variant_id": lot.variant_id,
        "quantity": lot.quantity,
        "currency": lot.currency,
        "status": lot.status,
        "mode": lot.mode,
        "extend_seconds": lot.extend_seconds,
        "starting_price": str(lot.starting_price),
        "current_price": str(lot.current_price) if lot.current_price is not None else None,
        "next_minimum": str(bounds.minimum),
        "bid_limit": str(bounds.bid_limit),
        "max_limit": str(bounds.max_limit),
        "confirm_above": str(bounds.confirm_above),
        "bid_ceiling": str(lot.bid_ceiling) if lot.bid_ceiling is not None else None,
        "leader": lot.leader.public_name if lot.leader_id else None,
        "bid_count": lot.bid_count,
        "ends_at": lot.ends_at.isoformat(),
        "seconds_left": max(int((lot.ends_at - now).total_seconds() + 0.999), 0) if is_open else 0,
        "winner": lot.winner.public_name if lot.winner_id else None,
        "winning_price": str(lot.winning_price) if lot.winning_price is not None else None,
    }


def lot_event(lot: Lot) -> dict:
    return {"type": "lot", "lot": lot_payload(lot)}


def _broadcast_lot(lot: Lot, *, bid: Bid | None = None) -> None:
    lot = Lot.objects.select_related("leader", "winner").get(pk=lot.pk)
    if bid is None:
        events.broadcast_on_commit(lot.show_id, lot_event(lot))
    else:
        payload = lot_payload(lot)
        events.broadcast_on_commit(
            lot.show_id,
            {"type": "bid", "lot": payload, "amount": str(bid.amount), "bidder": payload["leader"]},
        )


def _notify_on_commit(user_id: int, payload: dict) -> None:
    transaction.on_commit(lambda: events.send_to_user(user_id, payload))


def _schedule_close(lot: Lot) -> None:
    from .tasks import lot_close_task

    lot_close_task.apply_async_on_commit((lot.pk,), eta=lot.ends_at)


def _schedule_charge(lot: Lot) -> None:
    # Call it after the "sold" broadcast: on-commit hooks run in order, and a charge that finished
    # first would have its "paid" event overtaken by the stale "charging" one (viewers stuck on it).
    from .tasks import lot_charge_task

    lot_charge_task.delay_on_commit(lot.pk)


def _require_auction_right(*, user, show: Show) -> None:
    if AUCTION not in show_rights(user=user, show=show):
        raise NotAllowed("Only the host or a co-host can run auctions.")


# --- Starting a lot ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LotTerms:
    starting_price: Decimal
    increment: Decimal
    increment_table: list
    duration_seconds: int
    mode: str
    extend_seconds: int
    quantity: int
    bid_ceiling: Decimal | None = None


def lot_terms_parse(
    *,
    starting_price,
    increment=None,
    increment_table=None,
    duration_seconds=30,
    mode=Lot.Mode.EXTEND,
    extend_seconds=10,
    quantity=1,
    bid_ceiling=None,
) -> LotTerms:
    if mode not in Lot.Mode.values:
        raise InvalidMessage("The mode must be 'extend' (anti-sniping) or 'sudden' (sudden death).")
    start = money_parse(starting_price, what="The starting price")
    return LotTerms(
        starting_price=start,
        increment=money_parse(increment if increment not in (None, "") else "1", what="The increment"),
        increment_table=increment_table_parse(increment_table),
        duration_seconds=whole_number(duration_seconds, *LOT_SECONDS, "The duration in seconds"),
        mode=mode,
        extend_seconds=whole_number(extend_seconds, *EXTEND_SECONDS, "The extension in seconds"),
        quantity=whole_number(quantity, *LOT_QUANTITY, "The quantity"),
        bid_ceiling=ceiling_parse(bid_ceiling, floor=start, floor_name="the starting price"),
    )


def ceiling_parse(value, *, floor: Decimal, floor_name: str) -> Decimal | None:
    """The seller's optional ceiling: empty means none; never below `floor`."""
    if value is None or value == "":
        return None
    ceiling = money_parse(value, what="The ceiling")
    if ceiling < floor:
        raise InvalidMessage(f"The ceiling can't be below {floor_name} ({floor}).")
    return ceiling


def lot_title(variant: Variant) -> str:
    """The product's title and the variant's name, cut to fit the column (a 200-character title
    plus a name would not)."""
    title = variant.product.title + (f" ({variant.name})" if variant.name else "")
    max_length = Lot._meta.get_field("title").max_length
    return title if len(title) <= max_length else title[: max_length - 1] + "…"


def _lot_open(*, show: Show, variant: Variant, terms: LotTerms, user) -> Lot:
    """Create the open lot (its units already allocated), pin its product, start its clock."""
    if Lot.objects.filter(show=show, status=Lot.Status.OPEN).exists():
        raise LotError("A lot is already open in this show: let it close first.")
    try:
        with transaction.atomic():
            lot = Lot.objects.create(
                show=show,
                variant=variant,
                quantity=terms.quantity,
                title=lot_title(variant),
                currency=show.shop.currency,
                starting_price=terms.starting_price,
                increment=terms.increment,
                increment_table=terms.increment_table,
                mode=terms.mode,
                duration_seconds=terms.duration_seconds,
                extend_seconds=terms.extend_seconds,
                bid_ceiling=terms.bid_ceiling,
                ends_at=timezone.now() + timedelta(seconds=terms.duration_seconds),
                created_by=user,
            )
    except IntegrityError:
        raise LotError("A lot is already open in this show: let it close first.") from None
    if user is not None and variant.product_id != show.pinned_product_id:
        show_pin_product(show=show, user=user, product_id=variant.product_id)
    _broadcast_lot(lot)
    _schedule_close(lot)
    return lot


@transaction.atomic
def lot_start(*, show: Show, user, variant_id, **terms) -> Lot:
    """Put units of a variant up for auction in a live show. The units are allocated now, so a unit
    held by someone else, sold, or in another lot can't be auctioned."""
    _require_auction_right(user=user, show=show)
    show = Show.objects.select_for_update(of=("self",)).select_related("shop").get(pk=show.pk)
    if show.status != Show.Status.LIVE:
        raise ShowNotLive("Auctions run when the show is live.")
    parsed = lot_terms_parse(**terms)
    variant = (
        Variant.objects.select_related("product")
        .filter(pk=variant_id, shop_id=show.shop_id, product__status=Product.Status.ACTIVE)
        .first()
        if isinstance(variant_id, int) and not isinstance(variant_id, bool)
        else None
    )
    if variant is None:
        raise InvalidMessage("That product is not in this shop.")
    if Lot.objects.filter(show=show, status=Lot.Status.OPEN).exists():
        raise LotError("A lot is already open in this show: let it close first.")
    try:
        stock_allocate(lines=[(variant.pk, parsed.quantity)])
    except InsufficientStock:
        raise LotError("Not enough free units to auction: they are sold, held or in another lot.") from None
    stock_changed_announce([variant.pk])
    return _lot_open(show=show, variant=variant, terms=parsed, user=user)


def lot_ceiling_parse(lot: Lot, value) -> Decimal | None:
    """A new ceiling for an open lot: not below its starting price, the price reached or the leader's
    maximum (those were accepted under the old ceiling)."""
    floor = max(lot.starting_price, lot.current_price or 0, lot.leader_max or 0)
    return ceiling_parse(
        value, floor=floor, floor_name="the starting price, the price reached or the leader's maximum"
    )


@transaction.atomic
def lot_ceiling_set(*, lot_id: int, user, bid_ceiling) -> Lot:
    """Change (or clear, with None) an open lot's ceiling, under the lot's lock. Never below the price
    reached or the leader's standing maximum: those were accepted under the old ceiling."""
    lot = Lot.objects.select_for_update(of=("self",)).select_related("show").filter(pk=lot_id).first()
    if lot is None:
        raise LotError("There is no such lot.")
    _require_auction_right(user=user, show=lot.show)
    if lot.status != Lot.Status.OPEN:
        raise LotClosed("Only an open lot's ceiling can be changed.")
    lot.bid_ceiling = lot_ceiling_parse(lot, bid_ceiling)
    lot.save(update_fields=["bid_ceiling"])
    _broadcast_lot(lot)
    return lot


# --- Bidding -----------------------------------------------------------------------------------


def bidder_check(*, show: Show, user) -> None:
    """Who may bid: logged in, ready to pay and ship, not muted or banned, not the seller's staff."""
    if not user.is_authenticated:
        raise BidNotAllowed("Log in to bid.")
    if is_banned(user=user, show=show):
        raise BidNotAllowed("You can't take part in this shop's shows.")
    if is_muted(user=user, show=show):
        raise BidNotAllowed("You have been muted in this show, so you can't bid.")
    if (
        user.is_superuser
        or user_is_shop_staff(user=user, shop_id=show.shop_id)
        or ShowRole.objects.filter(show=show, user=user).exists()
    ):
        raise BidNotAllowed("The seller's staff and the show's team can't bid on its lots.")
    if not bidding_ready(user=user):
        raise BidNotAllowed("Save a card and a shipping address before bidding (Account > Bidding).")


@dataclass(frozen=True)
class BidOutcome:
    lot: Lot
    leading: bool
    price: Decimal


def bid_place(*, show: Show, user, lot_id, amount, max_amount=None) -> BidOutcome:
    """Bid `amount` (and optionally a maximum the system may bid up to for you) on an open lot."""
    amount = money_parse(amount, what="Your bid")
    ceiling = amount if max_amount in (None, "") else money_parse(max_amount, what="Your maximum")
    if ceiling < amount:
        raise InvalidMessage("Your maximum must be at least your bid.")
    if not isinstance(lot_id, int) or isinstance(lot_id, bool):
        raise InvalidMessage("Say which lot you are bidding on.")
    bidder_check(show=show, user=user)
    limit, window = settings.LIVEMARKET_BID_RATE
    if rate_limit_exceeded(key=f"bid:{lot_id}:{user.pk}", limit=limit, window_seconds=window):
        raise RateLimited(f"Slow down: at most {limit} bids every {window} seconds.")
    with transaction.atomic():
        return _bid_apply(show=show, user=user, lot_id=lot_id, amount=amount, ceiling=ceiling)


def _bid_apply(*, show: Show, user, lot_id: int, amount: Decimal, ceiling: Decimal) -> BidOutcome:
    lot = Lot.objects.select_for_update(of=("self",)).filter(pk=lot_id, show=show).first()
    now = timezone.now()
    if lot is None:
        raise LotClosed("There is no such lot in this show.")
    if lot.status != Lot.Status.OPEN or lot.ends_at <= now:
        raise LotClosed("Bidding on this lot has closed.")
    new_bids: list[Bid] = []
    outbid_user_id = None
    if lot.leader_id == user.pk:
        if ceiling == amount or ceiling <= (lot.leader_max or Decimal(0)):
            raise LotError("You're already the highest bidder (you may raise your maximum).")
        _bid_bounds_check(lot, amount=amount, ceiling=ceiling, leading=True)
        lot.leader_max = ceiling  # raising your own maximum never raises the price
        new_bids.append(Bid(lot=lot, user=user, amount=lot.current_price, max_amount=ceiling))
    else:
        minimum = _bid_bounds_check(lot, amount=amount, ceiling=ceiling, leading=False).minimum
        if amount < minimum:
            raise BidTooLow(f"Too low: the next bid must be at least {minimum} {lot.currency}.")
        explicit_max = ceiling if ceiling > amount else None
        if lot.leader_id is None:
            lot.current_price, lot.leader_id, lot.leader_max = amount, user.pk, ceiling
            new_bids.append(Bid(lot=lot, user=user, amount=amount, max_amount=explicit_max))
        elif ceiling > lot.leader_max:
            if lot.leader_max > lot.current_price:
                new_bids.append(Bid(lot=lot, user_id=lot.leader_id, amount=lot.leader_max, is_auto=True))
            price = max(amount, min(ceiling, lot.leader_max + lot_increment(lot, lot.leader_max)))
            new_bids.append(Bid(lot=lot, user=user, amount=price, max_amount=explicit_max))
            outbid_user_id = lot.leader_id
            lot.current_price, lot.leader_id, lot.leader_max = price, user.pk, ceiling
        else:
            # The leader's maximum holds; at equal maxima the earlier one wins.
            new_bids.append(Bid(lot=lot, user=user, amount=ceiling, max_amount=explicit_max))
            price = min(lot.leader_max, ceiling + lot_increment(lot, ceiling))
            new_bids.append(Bid(lot=lot, user_id=lot.leader_id, amount=price, is_auto=True))
            lot.current_price = price
    extended = lot.mode == Lot.Mode.EXTEND and lot.ends_at - now < timedelta(seconds=lot.extend_seconds)
    if extended:
        lot.ends_at = now + timedelta(seconds=lot.extend_seconds)
    lot.bid_count += len(new_bids)
    Bid.objects.bulk_create(new_bids)
    lot.save(update_fields=["current_price", "leader", "leader_max", "bid_count", "ends_at"])
    _broadcast_lot(lot, bid=new_bids[-1])
    if outbid_user_id is not None:
        _notify_on_commit(
            outbid_user_id,
            {"type": "outbid", "lot_id": lot.pk, "message": f"You've been outbid on {lot.title}."},
        )
    if extended:
        _schedule_close(lot)
    return BidOutcome(lot=lot, leading=lot.leader_id == user.pk, price=lot.current_price)


# --- Closing and settling ------------------------------------------------------------------------


def _lot_order_key(lot: Lot, user_id: int) -> uuid.UUID:
    return uuid.uuid5(LOT_ORDER_NAMESPACE, f"lot:{lot.pk}:user:{user_id}")


def _award(*, lot: Lot, user_id: int, price: Decimal) -> None:
    """Give the lot to `user_id` at `price`: an order awaiting payment, charged after commit."""
    from shops.models import User

    winner = User.objects.get(pk=user_id)
    order = won_lot_order_place(
        user=winner,
        variant_id=lot.variant_id,
        quantity=lot.quantity,
        total=price,
        show_id=lot.show_id,
        checkout_key=_lot_order_key(lot, user_id),
        note=f"Won auction lot {lot.pk} at {price} {lot.currency}",
    )
    lot.status, lot.winner_id, lot.winning_price, lot.order_id = (
        Lot.Status.AWAITING_PAYMENT,
        user_id,
        price,
        order.pk,
    )
    _notify_on_commit(
        user_id,
        {
            "type": "lot_won",
            "lot_id": lot.pk,
            "order": order.number,
            "url": order.get_absolute_url(),
            "message": f"You won {lot.title} for {price} {lot.currency}!",
        },
    )


def lot_close(*, lot_id: int, force: bool = False) -> Lot | None:
    """Close a lot whose time is up (or now, with `force`): exactly once, whoever calls. The leader
    wins at the current price; with no bids the units go back to stock."""
    with transaction.atomic():
        lot = Lot.objects.select_for_update(of=("self",)).filter(pk=lot_id).first()
        if lot is None or lot.status != Lot.Status.OPEN:
            return lot
        now = timezone.now()
        if not force and lot.ends_at > now:
            return lot  # extended since this timer was set: a later timer (or the sweeper) closes it
        lot.closed_at = now
        if force and lot.ends_at > now:
            lot.ends_at = now
        if lot.leader_id is None:
            lot.status = Lot.Status.UNSOLD
            stock_release_to_waitlist_or_sale(lines=[(lot.variant_id, lot.quantity)])
        else:
            _award(lot=lot, user_id=lot.leader_id, price=lot.current_price)
        lot.save()
        fault_point("lot_close")  # tests/faults: killed here, the order and the close roll back together
        _broadcast_lot(lot)
        if lot.status == Lot.Status.AWAITING_PAYMENT:
            _schedule_charge(lot)
        logger.info("lot %s closed: %s", lot.pk, lot.status)
        return lot


def lot_charge(*, lot_id: int) -> Lot | None:
    """Charge the winner's saved card; on a decline the seller may offer the lot to the runner-up,
    relist it or release it. Safe to repeat: the order and the gateway call are idempotent."""
    lot = Lot.objects.filter(pk=lot_id).first()
    if lot is None or lot.status != Lot.Status.AWAITING_PAYMENT:
        return lot
    order = order_charge_saved_method(order_id=lot.order_id)
    with transaction.atomic():
        lot = Lot.objects.select_for_update(of=("self",)).get(pk=lot_id)
        if lot.status != Lot.Status.AWAITING_PAYMENT or lot.order_id != order.pk:
            return lot
        if order.status == order.Status.PENDING_PAYMENT:
            return lot
        if order.status == order.Status.CANCELLED:
            lot.status = Lot.Status.PAYMENT_FAILED
            lot.passed_over = [*lot.passed_over, lot.winner_id]
            _notify_on_commit(
                lot.winner_id,
                {"type": "lot_payment_failed", "lot_id": lot.pk, "message": "Your saved card was declined."},
            )
        else:
            lot.status = Lot.Status.PAID
        lot.save(update_fields=["status", "passed_over"])
        _broadcast_lot(lot)
        return lot


def _lot_for_seller(*, lot_id: int, user) -> Lot:
    lot = Lot.objects.select_for_update(of=("self",)).select_related("show__shop").filter(pk=lot_id).first()
    if lot is None:
        raise LotError("There is no such lot.")
    if AUCTION not in show_rights(user=user, show=lot.show):
        raise NotAllowed("Only the host or a co-host can settle lots.")
    if lot.status != Lot.Status.PAYMENT_FAILED:
        raise LotError("Only a lot whose payment failed can be offered again, relisted or released.")
    return lot


@transaction.atomic
def lot_offer_runner_up(*, lot_id: int, user) -> Lot:
    """Offer the lot to the highest other bidder, at their own highest bid."""
    lot = _lot_for_seller(lot_id=lot_id, user=user)
    runner_up = (
        Bid.objects.filter(lot=lot)
        .exclude(user_id__in=lot.passed_over)
        .order_by("-amount", "created_at", "id")
        .first()
    )
    if runner_up is None:
        raise LotError("No other bidder to offer it to: relist or release it.")
    _award(lot=lot, user_id=runner_up.user_id, price=runner_up.amount)
    lot.save()
    _broadcast_lot(lot)
    _schedule_charge(lot)
    return lot


@transaction.atomic
def lot_relist(*, lot_id: int, user) -> Lot:
    """Auction the same units again, on the same terms, in the show (which must be live)."""
    lot = _lot_for_seller(lot_id=lot_id, user=user)
    show = Show.objects.select_for_update(of=("self",)).select_related("shop").get(pk=lot.show_id)
    if show.status != Show.Status.LIVE:
        raise LotError("Relist during a live show, or release the units back to stock.")
    terms = LotTerms(
        starting_price=lot.starting_price,
        increment=lot.increment,
        increment_table=lot.increment_table,
        duration_seconds=lot.duration_seconds,
        mode=lot.mode,
        extend_seconds=lot.extend_seconds,
        quantity=lot.quantity,
        bid_ceiling=lot.bid_ceiling,
    )
    Lot.objects.filter(pk=lot.pk).update(status=Lot.Status.RELISTED)
    new_lot = _lot_open(
        show=show,
        variant=Variant.objects.select_related("product").get(pk=lot.variant_id),
        terms=terms,
        user=user,
    )
    Lot.objects.filter(pk=lot.pk).update(relisted_as=new_lot)
    return new_lot


@transaction.atomic
def lot_release(*, lot_id: int, user) -> Lot:
    """Give the units back to stock (waiting shoppers first)."""
    lot = _lot_for_seller(lot_id=lot_id, user=user)
    lot.status = Lot.Status.RELEASED
    lot.save(update_fields=["status"])
    stock_release_to_waitlist_or_sale(lines=[(lot.variant_id, lot.quantity)])
    _broadcast_lot(lot)
    return lot


LOT_AFTER_PAYMENT = {"runner_up": lot_offer_runner_up, "relist": lot_relist, "release": lot_release}


def lot_after_payment(*, show: Show, user, lot_id, op) -> Lot:
    """The seller's choice after a failed payment, from the host console or the admin."""
    action = LOT_AFTER_PAYMENT.get(op) if isinstance(op, str) else None
    if action is None:
        raise InvalidMessage("Choose runner_up, relist or release.")
    if not isinstance(lot_id, int) or not Lot.objects.filter(pk=lot_id, show=show).exists():
        raise LotError("There is no such lot in this show.")
    return action(lot_id=lot_id, user=user)


# --- Timers ------------------------------------------------------------------------------------


def lots_due(*, show_id: int | None = None) -> list[Lot]:
    due = Lot.objects.filter(status=Lot.Status.OPEN, ends_at__lte=timezone.now())
    if show_id is not None:
        due = due.filter(show_id=show_id)
    return list(due.order_by("ends_at", "pk"))


def lots_close_due() -> int:
    """The sweeper (beat, `run_timers`): close every open lot whose time is up."""
    closed = 0
    for lot_id in [lot.pk for lot in lots_due()]:
        lot = lot_close(lot_id=lot_id)
        closed += bool(lot and lot.closed_at and lot.status != Lot.Status.OPEN)
    return closed


def lots_charge_pending(*, older_than_seconds: int = 60) -> int:
    """Re-drive charges whose task was lost (the order is idempotent, so a double run is harmless)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = Lot.objects.filter(status=Lot.Status.AWAITING_PAYMENT, closed_at__lte=cutoff)
    charged = 0
    for lot_id in list(pending.values_list("pk", flat=True)):
        lot_charge(lot_id=lot_id)
        charged += 1
    return charged


def lot_sync(*, show: Show, user, lot_id) -> Lot | None:
    """A viewer's clock reached zero: close the lot if it is really due (never early), so the room
    learns the result even when no timer process can reach it (the embedded demo)."""
    if not isinstance(lot_id, int) or isinstance(lot_id, bool):
        raise InvalidMessage("Say which lot.")
    if not Lot.objects.filter(pk=lot_id, show=show).exists():
        raise LotError("There is no such lot in this show.")
    lot_close(lot_id=lot_id)
    return Lot.objects.select_related("leader", "winner").get(pk=lot_id)


def lots_close_for_show(*, show: Show) -> None:
    """When the show ends, the open lot closes at once, to its current leader."""
    for lot_id in Lot.objects.filter(show=show, status=Lot.Status.OPEN).values_list("pk", flat=True):
        lot_close(lot_id=lot_id, force=True)
