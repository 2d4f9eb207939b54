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


@pytest.mark.django_db
def test_admin_upload_of_a_non_image_shows_a_form_error(client, merchant, shop):
    product = ProductFactory(shop=shop, title="Poster")
    client.force_login(merchant)
    data = {
        "shop": shop.pk,
        "title": "Poster",
        "slug": product.slug,
        "status": "active",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "images-TOTAL_FORMS": "1",
        "images-INITIAL_FORMS": "0",
        "images-0-image": _upload(b"GIF89a not really", name="fake.gif", content_type="image/gif"),
        "images-0-alt_text": "fake",
        "images-0-position": "0",
    }
    response = client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 200
    assert "Upload a valid image" in response.content.decode() or "not an image" in response.content.decode()
    assert not ProductImage.objects.filter(product=product).exists()
