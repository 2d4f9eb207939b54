"""Shop reviews: a buyer rates the shop once per order, after it has shipped (re-exported by
orders.services). Shop staff and ops may hide a review from the shop page; only the buyer edits it."""

from django.db import transaction
from django.utils import timezone

from .exceptions import ReviewError, ReviewNotAllowed
from .models import Order, Review
from .selectors import order_get_for_user

REVIEWABLE = frozenset({Order.Status.SHIPPED, Order.Status.DELIVERED})


def order_can_be_reviewed(order: Order) -> bool:
    return order.status in REVIEWABLE


def _clean_rating(rating) -> int:
    if isinstance(rating, bool):
        raise ReviewError("Choose a rating from 1 to 5 stars.")
    try:
        value = int(str(rating).strip())
    except (TypeError, ValueError):
        raise ReviewError("Choose a rating from 1 to 5 stars.") from None
    if not 1 <= value <= 5:
        raise ReviewError("Choose a rating from 1 to 5 stars.")
    return value


def _clean_text(text) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        raise ReviewError("Your review contains a null character; remove it and try again.")
    if len(text) > Review.MAX_TEXT:
        raise ReviewError(f"Keep your review to {Review.MAX_TEXT} characters (it has {len(text)}).")
    return text


@transaction.atomic
def review_save(*, user, order_number: str, rating, text: str = "") -> Review:
    """Create or update the buyer's review of the shop for this order.

    Another shopper's order is a 404 (Http404, as on the order page); an order that has not shipped
    (or was cancelled or refunded) raises ReviewNotAllowed; bad input raises ReviewError.
    """
    order = order_get_for_user(user=user, number=order_number)
    rating = _clean_rating(rating)
    text = _clean_text(text)
    # Lock the order row so two submissions of a first review can't race into the unique constraint.
    order = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
    if not order_can_be_reviewed(order):
        raise ReviewNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}: you can review the shop "
            "once your order has shipped."
        )
    review, created = Review.objects.get_or_create(
        order=order, defaults={"user": user, "shop_id": order.shop_id, "rating": rating, "text": text}
    )
    if not created:
        Review.objects.filter(pk=review.pk).update(rating=rating, text=text, updated_at=timezone.now())
        review.refresh_from_db()
    return review


def review_set_hidden(*, review: Review, hidden: bool) -> Review:
    """Moderation from the admin: hide the review from (or show it again on) the shop page."""
    Review.objects.filter(pk=review.pk).update(hidden=hidden)
    review.hidden = hidden
    return review
