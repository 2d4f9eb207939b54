"""Image uploads for shops and products: strict validation with Pillow, and resized renditions.

Uploads are checked for a real image type (by content, not name), byte size, pixel count (a
decompression-bomb guard that runs before any pixel is decoded) and truncation.
"""

import contextlib
import io
import warnings
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels, e.g. 8000 x 5000
MAX_SIDE = 12_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}

# name -> longest side in pixels
RENDITIONS = {"thumbnail": 160, "card": 480, "full": 1200}


def validate_image_upload(upload) -> None:
    """Raise ValidationError with a message a merchant can act on; leaves the file position at 0."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            f"The image is {size / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1024 // 1024} MB."
        )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in ALLOWED_FORMATS:
                    raise ValidationError(
                        f"{image_format or 'This'} images are not accepted; upload a JPEG, PNG, WebP or GIF."
                    )
                if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                    raise ValidationError(
                        f"The image is {width}×{height} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels "
                        f"and {MAX_SIDE} pixels a side."
                    )
                image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()  # verify() misses truncated pixel data; decoding it does not
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("The image has too many pixels to process safely.") from None
    except UnidentifiedImageError:
        raise ValidationError(
            "The file is not an image we can read; upload a JPEG, PNG, WebP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise ValidationError("The image file is damaged or incomplete; please export it again.") from None
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            upload.seek(0)


def render_rendition(source, *, longest_side: int) -> ContentFile:
    """A JPEG no larger than `longest_side`, with EXIF rotation applied and transparency flattened."""
    source.seek(0)
    with Image.open(source) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
        if image.mode in ("RGBA", "LA", "P"):
            image = image.convert("RGBA")
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.getchannel("A"))
            image = background
        elif image.mode != "RGB":
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=85, optimize=True, progressive=True)
    stem = PurePath(source.name).stem
    return ContentFile(buffer.getvalue(), name=f"{stem}-{longest_side}.jpg")
