"""Shop reviews: a buyer rates the shop once per order, after it has shipped (re-exported by
orders.services). Shop staff and ops may hide a review from the shop page; only the buyer edits it."""

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from .exceptions import ReviewError, ReviewNotAllowed
from .models import Order, Review

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
    # The buyer's own order, locked so two submissions of a first review can't race into the unique
    # constraint; anyone else's is not found, as on the order page.
    order = Order.objects.select_for_update().filter(user=user, number=order_number).first()
    if order is None:
        raise Http404("No such order")
    rating = _clean_rating(rating)
    text = _clean_text(text)
    if not order_can_be_reviewed(order):
        raise ReviewNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}: you can review the shop "
            "once your order has shipped."
        )
    review, created = Review.objects.get_or_create(
        order=order, defaults={"user": user, "shop_id": order.shop_id, "rating": rating, "text": text}
    )
    if not created:
        review.rating, review.text, review.updated_at = rating, text, timezone.now()
        review.save(update_fields=["rating", "text", "updated_at"])
    return review


def review_set_hidden(*, review: Review, hidden: bool) -> Review:
    """Moderation from the admin: hide the review from (or show it again on) the shop page."""
    Review.objects.filter(pk=review.pk).update(hidden=hidden)
    review.hidden = hidden
    return review
