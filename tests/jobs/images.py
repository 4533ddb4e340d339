"""Test and benchmark images: phone-like JPEG/HEIC with EXIF GPS, a decompression bomb, and a
file that only pretends to be a photo."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def exif_with_gps(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (31.0, 14.0, 5.5)
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 7.25)
    return exif


def phone_image(size=(4000, 3000), seed: int = 0) -> Image.Image:
    """A landscape picture with a red top-left marker (to check rotation) and noise (so
    files have phone-like sizes, a few MB)."""
    width, height = size
    noise = Image.effect_noise((width, height), 40 + seed % 7).convert("RGB")
    base = Image.new("RGB", size, (90 + seed % 50, 120, 160))
    image = Image.blend(base, noise, 0.35)
    image.paste((255, 0, 0), (0, 0, width // 5, height // 5))
    return image


def jpeg_bytes(size=(4000, 3000), orientation: int = 6, seed: int = 0, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    phone_image(size, seed).save(buffer, "JPEG", exif=exif_with_gps(orientation),
                                 quality=quality, comment=b"taken at home")
    return buffer.getvalue()


def heic_bytes(size=(4000, 3000), orientation: int = 6, seed: int = 0) -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    phone_image(size, seed).save(buffer, "HEIF", exif=exif_with_gps(orientation).tobytes(),
                                 quality=70)
    return buffer.getvalue()


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (1.6 billion by default)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def disguised_bytes() -> bytes:
    """A PDF (or anything) named photo.jpg: the name says image, the content does not."""
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n" * 20


def assert_no_metadata(data: bytes) -> Image.Image:
    """The JPEG carries no EXIF (so no GPS), XMP, ICC profile or comment."""
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    assert not image.getexif(), "EXIF left in"
    assert not image.getexif().get_ifd(GPS_IFD), "GPS left in"
    for key in ("exif", "xmp", "icc_profile", "comment", "XML:com.adobe.xmp"):
        assert key not in image.info, f"{key} left in"
    assert b"Exif\x00\x00" not in data and b"http://ns.adobe.com/xap" not in data
    assert b"taken at home" not in data
    return image
