import pytest
from django.utils import timezone

from shops.models import Follow, Shop
from shops.services import shop_set_status
from shows.exceptions import ShopNotActive
from shows.services import show_create, show_go_live


@pytest.mark.django_db
def test_follow_button_toggles_and_counts(client, shopper, shop):
    client.force_login(shopper)
    assert client.post(f"/shops/{shop.slug}/follow/").status_code == 302
    assert Follow.objects.filter(user=shopper, shop=shop).exists()
    fragment = client.post(f"/shops/{shop.slug}/follow/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert not Follow.objects.filter(user=shopper, shop=shop).exists()
    assert "<html" not in fragment.content.decode()  # only the button is swapped


@pytest.mark.django_db
def test_anonymous_follow_goes_to_login_and_get_is_refused(client, shopper, shop):
    assert client.post(f"/shops/{shop.slug}/follow/")["Location"].startswith("/accounts/login/")
    client.force_login(shopper)
    assert client.get(f"/shops/{shop.slug}/follow/").status_code == 405


@pytest.mark.django_db
def test_suspended_shop_disappears_and_cannot_go_live(client, shop, variant):
    show = show_create(shop=shop, title="Tonight", scheduled_start=timezone.now(), products=[variant.product])
    shop_set_status(shop=shop, status=Shop.Status.SUSPENDED)
    assert client.get(f"/shops/{shop.slug}/").status_code == 404
    assert client.get(variant.product.get_absolute_url()).status_code == 404
    assert client.get(f"/shows/{show.pk}/").status_code == 404
    assert "Blue Train LP" not in client.get("/").content.decode()
    with pytest.raises(ShopNotActive):
        show_go_live(show=show)
