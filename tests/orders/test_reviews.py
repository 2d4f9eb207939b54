"""Shop reviews: the buyer rates the shop once an order has shipped; the shop page shows the visible
ones; shop staff hide them in their (scoped) admin."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.http import Http404
from django.urls import reverse

from orders.exceptions import ReviewError, ReviewNotAllowed
from orders.models import Review
from orders.selectors import reviews_for_shop, shop_rating
from orders.services import order_mark_delivered, order_ship, review_save, review_set_hidden
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.orders.test_admin_orders import place_order

pytestmark = pytest.mark.django_db


def _delivered(user, variant, merchant, capture):
    order = place_order(user, variant, capture=capture)
    order_ship(order=order, actor=merchant, carrier="Post", tracking_number="TRK1")
    return order_mark_delivered(order=order, actor=merchant)


def _review_url(order) -> str:
    return reverse("order_review", args=[order.number])


def _messages(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def test_buyer_reviews_a_delivered_order_and_can_edit_it(
    client, shopper, merchant, shop, variant, django_capture_on_commit_callbacks
):
    order = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    client.force_login(shopper)
    page = client.get(order.get_absolute_url()).content.decode()
    assert _review_url(order) in page and 'name="rating"' in page

    response = client.post(_review_url(order), {"rating": "5", "text": "  Fast and well packed  "})
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    review = Review.objects.get(order=order)
    assert (review.user, review.shop, review.rating, review.text) == (
        shopper,
        shop,
        5,
        "Fast and well packed",
    )

    response = client.post(_review_url(order), {"rating": "3", "text": "Sleeve was bent"})
    assert response.status_code == 302
    assert "Your review was updated." in _messages(response)
    assert Review.objects.count() == 1
    review.refresh_from_db()
    assert (review.rating, review.text) == (3, "Sleeve was bent")
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Sleeve was bent" in page and "Update review" in page


def test_a_shipped_order_can_be_reviewed_through_the_service(
    shopper, merchant, variant, django_capture_on_commit_callbacks
):
    order = place_order(shopper, variant, capture=django_capture_on_commit_callbacks)
    order_ship(order=order, actor=merchant, carrier="Post", tracking_number="TRK1")
    review = review_save(user=shopper, order_number=order.number, rating=4, text="")
    assert review.rating == 4 and review.text == ""


def test_cannot_review_before_the_order_ships(client, shopper, variant, django_capture_on_commit_callbacks):
    order = place_order(shopper, variant, capture=django_capture_on_commit_callbacks)
    assert order.status == "fulfilling"
    with pytest.raises(ReviewNotAllowed, match="once your order has shipped"):
        review_save(user=shopper, order_number=order.number, rating=5, text="Too early")
    client.force_login(shopper)
    assert 'name="rating"' not in client.get(order.get_absolute_url()).content.decode()
    response = client.post(_review_url(order), {"rating": "5", "text": "Too early"})
    assert response.status_code == 409
    assert any("once your order has shipped" in m for m in _messages(response))
    assert not Review.objects.exists()


def test_another_shopper_gets_404_for_someone_elses_order(
    client, shopper, other_shopper, merchant, variant, django_capture_on_commit_callbacks
):
    order = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    with pytest.raises(Http404):
        review_save(user=other_shopper, order_number=order.number, rating=1, text="Spite")
    client.force_login(other_shopper)
    assert client.post(_review_url(order), {"rating": "1", "text": "Spite"}).status_code == 404
    client.logout()
    response = client.post(_review_url(order), {"rating": "1"})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("rating", "text", "message"),
    [
        ("0", "ok", "Choose a rating from 1 to 5 stars."),
        ("6", "ok", "Choose a rating from 1 to 5 stars."),
        ("five", "ok", "Choose a rating from 1 to 5 stars."),
        ("", "ok", "Choose a rating from 1 to 5 stars."),
        ("4", "bad\x00byte", "Null characters are not allowed."),
        ("4", "x" * 2001, "Ensure this value has at most 2000 characters (it has 2001)."),
    ],
)
def test_bad_input_is_a_clear_400_and_nothing_is_saved(
    client, shopper, merchant, variant, django_capture_on_commit_callbacks, rating, text, message
):
    order = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    client.force_login(shopper)
    response = client.post(_review_url(order), {"rating": rating, "text": text})
    assert response.status_code == 400
    assert message in _messages(response)
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("rating", "text", "message"),
    [
        (0, "", "from 1 to 5"),
        (6, "", "from 1 to 5"),
        (True, "", "from 1 to 5"),
        ("x", "", "from 1 to 5"),
        (3, "nul\x00", "null character"),
        (3, "y" * 2001, "2000 characters"),
    ],
)
def test_the_service_refuses_bad_input_itself(
    shopper, merchant, variant, django_capture_on_commit_callbacks, rating, text, message
):
    order = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    with pytest.raises(ReviewError, match=message):
        review_save(user=shopper, order_number=order.number, rating=rating, text=text)
    assert not Review.objects.exists()


def test_shop_page_shows_average_and_escaped_text_and_hides_hidden_reviews(
    client, shopper, other_shopper, merchant, shop, variant, django_capture_on_commit_callbacks
):
    first = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    second = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    third = _delivered(other_shopper, variant, merchant, django_capture_on_commit_callbacks)
    review_save(user=shopper, order_number=first.number, rating=5, text="<script>alert(1)</script>")
    review_save(user=shopper, order_number=second.number, rating=4, text="Good")
    hidden = review_save(user=other_shopper, order_number=third.number, rating=1, text="Rude seller!")
    review_set_hidden(review=hidden, hidden=True)

    assert shop_rating(shop=shop) == (Decimal("4.5"), 2)
    assert [r.text for r in reviews_for_shop(shop=shop)] == ["Good", "<script>alert(1)</script>"]
    html = client.get(shop.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    assert "★ 4.5 (2 reviews)" in html
    assert shopper.public_name in html  # "Ada", never the e-mail address
    assert shopper.email not in html
    assert "Rude seller!" not in html


def test_a_shop_without_reviews_has_no_rating(client, shop):
    assert shop_rating(shop=shop) == (None, 0)
    assert "No reviews yet" in client.get(shop.get_absolute_url()).content.decode()


@pytest.fixture
def two_reviews(shopper, merchant, other_merchant, variant, other_shop, django_capture_on_commit_callbacks):
    other_variant = VariantFactory(product=ProductFactory(shop=other_shop), on_hand=5)
    own = _delivered(shopper, variant, merchant, django_capture_on_commit_callbacks)
    foreign = _delivered(shopper, other_variant, other_merchant, django_capture_on_commit_callbacks)
    return {
        "own": review_save(user=shopper, order_number=own.number, rating=5, text="Own shop review"),
        "foreign": review_save(user=shopper, order_number=foreign.number, rating=2, text="Other shop review"),
    }


def test_merchant_admin_lists_only_its_own_shops_reviews(client, merchant, two_reviews):
    client.force_login(merchant)
    html = client.get(reverse("admin:orders_review_changelist")).content.decode()
    assert "Own shop review" in html and "Other shop review" not in html
    url = reverse("admin:orders_review_change", args=[two_reviews["foreign"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"hidden": "on"}).status_code == 404
    two_reviews["foreign"].refresh_from_db()
    assert two_reviews["foreign"].hidden is False


def test_merchant_hides_a_review_but_cannot_edit_its_rating_or_text(client, merchant, shop, two_reviews):
    review = two_reviews["own"]
    client.force_login(merchant)
    url = reverse("admin:orders_review_change", args=[review.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"hidden": "on", "rating": "1", "text": "Rewritten by the shop"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.hidden, review.rating, review.text) == (True, 5, "Own shop review")
    assert shop_rating(shop=shop) == (None, 0)
    assert client.get(reverse("admin:orders_review_add")).status_code == 403
    delete = reverse("admin:orders_review_delete", args=[review.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Review.objects.filter(pk=review.pk).exists()


def test_ops_sees_every_shops_reviews(client, two_reviews):
    from tests.shops.factories import UserFactory

    ops = UserFactory(username="ops", is_superuser=True)
    client.force_login(ops)
    html = client.get(reverse("admin:orders_review_changelist")).content.decode()
    assert "Own shop review" in html and "Other shop review" in html
