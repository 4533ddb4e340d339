"""Turning an uploaded photo into what we keep: upright, metadata-free JPEGs in three sizes.

Pure functions (no database, no storage, no Flask): bytes in, ``ProcessedPhoto`` out, or
``ImageRejected`` with a reason meant for the person who uploaded the file.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .complaints import vocabulary

try:  # HEIC/HEIF (iPhones) through libheif; registered once, at import.
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover — a dependency; the job then rejects HEIC as unknown
    pillow_heif = None

# A 200-megapixel phone sensor is the largest real photo we expect; above this a file is
# treated as a decompression bomb (a few KB claiming billions of pixels) and refused before
# any pixel is decoded.
MAX_PIXELS = 200_000_000
# Pillow's own guard (warning at the limit, error at twice it) backs our explicit check up.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

ACCEPTED_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF"}
LARGE_EDGE = 1600
THUMB_EDGE = 320
JPEG_QUALITY = 85

# Reasons are stored in English and shown in the reader's language (the vocabulary's).
REASON_NOT_IMAGE = vocabulary.PHOTO_NOT_IMAGE
REASON_FORMAT = vocabulary.PHOTO_FORMAT
REASON_TOO_LARGE = vocabulary.PHOTO_TOO_LARGE
REASON_DAMAGED = vocabulary.PHOTO_DAMAGED
REASONS = vocabulary.PHOTO_REJECTION_LABELS


def rejection_label(reason: str | None):
    """The stored reason in the reader's language (unknown reasons are shown as stored)."""
    return REASONS.get(reason or "", reason)


class ImageRejected(ValueError):
    """The bytes are not an acceptable photo. ``reason`` is one of the REASON_* sentences."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason} {detail}".strip())
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int
    sha256: str
    content_type: str = "image/jpeg"


@dataclass(frozen=True)
class ProcessedPhoto:
    source_format: str
    original: Rendition  # full resolution, upright, re-encoded, no metadata
    large: Rendition  # about LARGE_EDGE px on the long side
    thumb: Rendition  # about THUMB_EDGE px on the long side


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def process(data: bytes, *, max_pixels: int = MAX_PIXELS) -> ProcessedPhoto:
    """Decode ``data``, turn it upright by its EXIF orientation, and re-encode it as JPEG
    without EXIF, GPS, XMP, ICC or comments, at full size and as two thumbnails.

    Raises ImageRejected for anything that is not an accepted, intact image within
    ``max_pixels``. Never touches storage or the database.
    """
    image = _open(data, max_pixels)
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 — a corrupt EXIF block still leaves good pixels
        upright = image
    rgb = _to_srgb(upright)
    original = _encode(rgb)
    large = _encode(_fit(rgb, LARGE_EDGE))
    thumb = _encode(_fit(rgb, THUMB_EDGE))
    return ProcessedPhoto(source_format=image.format or "", original=original, large=large,
                          thumb=thumb)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow only warns between the limit and twice it; we refuse at the limit.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(REASON_TOO_LARGE) from exc
        except UnidentifiedImageError as exc:
            raise ImageRejected(REASON_NOT_IMAGE) from exc
        except (OSError, ValueError, SyntaxError) as exc:
            raise ImageRejected(REASON_DAMAGED, repr(exc)) from exc
        if image.format not in ACCEPTED_FORMATS:
            raise ImageRejected(REASON_FORMAT, str(image.format))
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageRejected(REASON_DAMAGED, "empty image")
        if width * height > max_pixels:
            raise ImageRejected(REASON_TOO_LARGE, f"{width}x{height}")
        # Another library in the process may allow truncated images globally (WeasyPrint
        # does, at import); a photo cut off in transit must be refused, not grey-filled.
        truncated_ok = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(REASON_TOO_LARGE) from exc
        except (OSError, ValueError, SyntaxError, MemoryError) as exc:
            raise ImageRejected(REASON_DAMAGED, repr(exc)) from exc
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_ok
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Plain RGB pixels in sRGB: the ICC profile is applied (Display P3 from iPhones), then
    dropped; transparency is flattened onto white."""
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            image = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                              outputMode="RGB")
        except Exception:  # noqa: BLE001 — a broken profile: keep the pixels as they are
            pass
    # A fresh image carries no info dict at all: nothing of the source can leak into the save.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def _fit(image: Image.Image, edge: int) -> Image.Image:
    if max(image.size) <= edge:
        return image
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return copy


def _encode(image: Image.Image) -> Rendition:
    buffer = io.BytesIO()
    image.info = {}
    image.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True,
               exif=b"", subsampling="4:2:0")
    data = buffer.getvalue()
    return Rendition(data=data, width=image.width, height=image.height, sha256=sha256(data))
