"""Uploads are checked with Pillow; renditions are made by a task after commit."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from catalog.models import ProductImage
from catalog.services import product_image_add, product_image_renditions_make
from shops.images import validate_image_upload
from tests.catalog.factories import ProductFactory


def _png(size=(640, 480), color=(200, 40, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(data: bytes, name="photo.png", content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _pixel_bomb() -> bytes:
    """A few hundred bytes whose PNG header claims 100000 x 100000 pixels (10 gigapixels)."""
    png = bytearray(_png(size=(10, 10)))
    ihdr = png[12:29]  # b"IHDR" + 13 bytes of header data
    ihdr[4:12] = struct.pack(">II", 100_000, 100_000)
    png[12:29] = ihdr
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(png)


def test_valid_image_passes():
    validate_image_upload(_upload(_png()))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 definitely not a picture", "not an image"),
        (_png()[:300], "damaged or incomplete"),
        (_pixel_bomb(), "pixels"),
    ],
    ids=["non-image", "truncated", "pixel-bomb"],
)
def test_bad_uploads_are_refused_with_a_clear_message(data, message):
    with pytest.raises(ValidationError) as excinfo:
        validate_image_upload(_upload(data))
    assert message in excinfo.value.messages[0]


def test_oversize_upload_is_refused(monkeypatch):
    monkeypatch.setattr("shops.images.MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(ValidationError, match="limit is"):
        validate_image_upload(_upload(_png()))


def test_svg_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationError, match="not an image"):
        validate_image_upload(_upload(svg, name="x.svg", content_type="image/svg+xml"))


@pytest.mark.django_db
def test_upload_gets_thumbnail_card_and_full_renditions(django_capture_on_commit_callbacks, shop):
    product = ProductFactory(shop=shop)
    with django_capture_on_commit_callbacks(execute=True):
        image = product_image_add(product=product, image=_upload(_png(size=(2000, 1000))), alt_text="Front")
    image.refresh_from_db()
    sizes = {}
    for name in ("thumbnail", "card", "full"):
        with Image.open(getattr(image, name).path) as rendered:
            sizes[name] = rendered.size
    assert sizes == {"thumbnail": (160, 80), "card": (480, 240), "full": (1200, 600)}
    assert image.card_url.endswith(".jpg") and image.card_url != image.image.url
    assert product_image_renditions_make(image_id=image.pk) is False  # already current: nothing redone


def _product_form(shop, product) -> dict:
    """The admin's product change form with no variants and one image row (the caller adds the file)."""
    return {
        "shop": shop.pk,
        "title": "Poster",
        "slug": product.slug,
        "status": "active",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
    }


@pytest.mark.django_db
def test_admin_upload_of_a_non_image_shows_a_form_error(client, merchant, shop):
    product = ProductFactory(shop=shop, title="Poster")
    client.force_login(merchant)
    data = {
        **_product_form(shop, product),
        "images-0-image": _upload(b"GIF89a not really", name="fake.gif", content_type="image/gif"),
        "images-0-alt_text": "fake",
        "images-0-position": "0",
    }
    response = client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 200
    assert "Upload a valid image" in response.content.decode() or "not an image" in response.content.decode()
    assert not ProductImage.objects.filter(product=product).exists()


# --- Every hostile upload, through every path a merchant uploads by -----------------------------------

SCRIPTED_SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" '
    b'onload="alert(document.cookie)"><script>fetch("/admin/")</script><rect width="10" height="10"/></svg>'
)
HOSTILE = {
    # name: (bytes, file name, content type, what the refusal says)
    "non-image": (b"%PDF-1.4 definitely not a picture", "photo.png", "image/png", "not an image"),
    "truncated": (_png()[:300], "photo.png", "image/png", "damaged or incomplete"),
    "pixel-bomb": (_pixel_bomb(), "photo.png", "image/png", "pixels"),
    # Over the real cap (shops.images.MAX_UPLOAD_BYTES, 10 MB): a valid PNG with 11 MB appended.
    "oversize": (_png() + b"\0" * (11 * 1024 * 1024), "photo.png", "image/png", "the limit is 10 MB"),
    "svg-with-script": (SCRIPTED_SVG, "logo.svg", "image/svg+xml", "not an image"),
}


def _hostile(case: str) -> tuple[SimpleUploadedFile, str]:
    data, name, content_type, message = HOSTILE[case]
    return _upload(data, name=name, content_type=content_type), message


def _stored_files(root) -> set:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.parametrize("case", list(HOSTILE))
def test_the_validator_refuses_each_hostile_upload(case):
    upload, message = _hostile(case)
    with pytest.raises(ValidationError) as excinfo:
        validate_image_upload(upload)
    assert message in " ".join(excinfo.value.messages)


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE))
def test_admin_product_image_upload_refuses_each_hostile_file(client, merchant, shop, media_root, case):
    product = ProductFactory(shop=shop, title="Poster")
    upload, message = _hostile(case)
    client.force_login(merchant)
    data = {
        **_product_form(shop, product),
        "images-0-image": upload,
        "images-0-alt_text": "hostile",
        "images-0-position": "0",
    }
    response = client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 200  # the form again, with the error
    page = response.content.decode()
    assert "Upload a valid image" in page or message in page
    assert not ProductImage.objects.filter(product=product).exists()
    assert _stored_files(media_root) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE))
def test_admin_shop_logo_upload_refuses_each_hostile_file(client, merchant, shop, media_root, case):
    upload, message = _hostile(case)
    client.force_login(merchant)
    data = {"name": shop.name, "description": "", "logo": upload, "show_shipping_cap": ""}
    response = client.post(reverse("admin:shops_shop_change", args=[shop.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Upload a valid image" in page or message in page
    shop.refresh_from_db()
    assert not shop.logo
    assert _stored_files(media_root) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE))
def test_admin_show_cover_upload_refuses_each_hostile_file(client, merchant, shop, media_root, case):
    from django.utils import timezone

    from shows.models import Show
    from shows.services import show_create
    from tests.shows.test_admin_shows import _show_form

    show = show_create(
        shop=shop, title="Covers", scheduled_start=timezone.now() + timezone.timedelta(hours=1)
    )
    upload, message = _hostile(case)
    client.force_login(merchant)
    response = client.post(
        reverse("admin:shows_show_change", args=[show.pk]), _show_form(show, lineup=[], cover=upload)
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Upload a valid image" in page or message in page
    assert not Show.objects.get(pk=show.pk).cover
    assert _stored_files(media_root) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE))
def test_api_image_upload_refuses_each_hostile_file(merchant, shop, media_root, case):
    from rest_framework.test import APIClient

    from shops.apikeys import api_key_create

    product = ProductFactory(shop=shop)
    _, raw = api_key_create(shop=shop, name="uploads", created_by=merchant)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    upload, message = _hostile(case)
    response = api.post(
        "/api/v1/merchant/images/", {"product": product.pk, "image": upload}, format="multipart"
    )
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "invalid" and "image" in body["fields"]
    assert "Upload a valid image" in str(body["fields"]["image"]) or message in str(body["fields"]["image"])
    assert not ProductImage.objects.filter(product=product).exists()
    assert _stored_files(media_root) == set()


@pytest.mark.django_db
def test_a_good_cover_and_logo_still_upload(client, merchant, shop, media_root):
    from django.utils import timezone

    from shows.models import Show
    from shows.services import show_create
    from tests.shows.test_admin_shows import _show_form

    show = show_create(
        shop=shop, title="Covers", scheduled_start=timezone.now() + timezone.timedelta(hours=1)
    )
    client.force_login(merchant)
    response = client.post(
        reverse("admin:shows_show_change", args=[show.pk]), _show_form(show, lineup=[], cover=_upload(_png()))
    )
    assert response.status_code == 302
    logo = client.post(
        reverse("admin:shops_shop_change", args=[shop.pk]),
        {"name": shop.name, "description": "", "logo": _upload(_png()), "show_shipping_cap": ""},
    )
    assert logo.status_code == 302
    shop.refresh_from_db()
    assert Show.objects.get(pk=show.pk).cover and shop.logo
    assert len(_stored_files(media_root)) == 2


@pytest.mark.django_db
def test_admin_image_rows_are_added_replaced_relabelled_and_deleted_through_the_services(
    client, merchant, shop, media_root, django_capture_on_commit_callbacks
):
    product = ProductFactory(shop=shop, title="Poster")
    kept = product_image_add(product=product, image=_upload(_png(), name="front.png"), alt_text="Front")
    gone = product_image_add(product=product, image=_upload(_png(), name="back.png"), alt_text="Back")
    client.force_login(merchant)
    data = {
        **_product_form(shop, product),
        "images-TOTAL_FORMS": "3",
        "images-INITIAL_FORMS": "2",
        "images-0-id": kept.pk,
        "images-0-product": product.pk,
        "images-0-image": _upload(_png(color=(0, 0, 255)), name="front-v2.png"),
        "images-0-alt_text": "Front, blue",
        "images-0-position": "1",
        "images-1-id": gone.pk,
        "images-1-product": product.pk,
        "images-1-alt_text": "Back",
        "images-1-position": "0",
        "images-1-DELETE": "on",
        "images-2-image": _upload(_png(size=(300, 300)), name="side.png"),
        "images-2-alt_text": "Side",
        "images-2-position": "0",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    images = list(ProductImage.objects.filter(product=product).order_by("position", "id"))
    assert [(i.alt_text, i.position) for i in images] == [("Side", 0), ("Front, blue", 1)]
    assert not ProductImage.objects.filter(pk=gone.pk).exists()
    kept.refresh_from_db()
    assert "front-v2" in kept.image.name
    assert all(i.renditions_source == i.image.name and i.card for i in images)  # made again after commit
