"""Fixtures of the customer portal tests: photos made on the spot, a catalogue with shipments,
and a form filler that posts the complaint form like a browser without JavaScript."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from PIL import Image

from portal.models import Shipment
from portal.tenancy import activate
from tests.conftest import csrf_from


def image_bytes(fmt: str = "JPEG", size=(64, 48), color=(200, 30, 30)) -> bytes:
    """A small picture (a lit disc on a dark plate) in ``fmt``, so screenshots show something."""
    from PIL import ImageDraw, ImageOps

    buffer = io.BytesIO()
    shade = Image.radial_gradient("L").resize(size)
    image = ImageOps.colorize(shade, black=color, white=(40, 44, 52))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.rectangle((w // 8, h // 3, w * 7 // 8, h * 2 // 3), outline=(240, 240, 240),
                   width=max(1, w // 60))
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def jpeg(size=(64, 48)) -> bytes:
    return image_bytes("JPEG", size)


def heic(size=(64, 48)) -> bytes:
    return image_bytes("HEIF", size)


@pytest.fixture
def catalogue(db, make_tenant, make_product):
    """A tenant with two models; model A shipped lot L1 with serials AB000100..AB000199."""
    tenant = make_tenant()
    model_a = make_product(tenant, code="PX-100")
    model_b = make_product(tenant, code="PX-200")
    with activate(tenant):
        shipment = Shipment(product_model_id=model_a.id, lot="L1", quantity=100,
                            shipped_on=date(2026, 3, 2), serial_first="AB000100",
                            serial_last="AB000199")
        listed = Shipment(product_model_id=model_b.id, lot="L9", quantity=3,
                          shipped_on=date(2026, 4, 5), serials=["ZX-1001", "ZX-1002", "ZX-1003"])
        db.session.add_all([shipment, listed])
        db.session.flush()
    return {"tenant": tenant, "a": model_a, "b": model_b, "shipment": shipment,
            "listed": listed}


VALID = {
    "reporter_name": "Li Wei",
    "reporter_company": "Sample Works",
    "reporter_email": "li.wei@sample-works.example.com",
    "reporter_phone": "+86 21 5555 0101",
    "product": "PX-100",
    "specification": "",
    "shipped_on": "",
    "lot": "",
    "serials": "AB000101\nAB000102\nAB000103",
    "defect_quantity": "3",
    "found_at_place": "Incoming inspection",
    "found_on": "",
    "description": "Display stays dark after power on.\nAll three units.",
    "demands": ["replacement"],
    "claim_amount": "",
}


class Filer:
    """Posts the complaint form the way a browser without JavaScript does."""

    def __init__(self, client, tenant):
        self.client = client
        self.tenant = tenant
        self.path = f"/t/{tenant.slug}/complaints/new"

    def page(self):
        response = self.client.get(self.path)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    def post(self, photos=(("photo.jpg", None),), page=None, **changes):
        page = page or self.page()
        data = dict(VALID)
        data["csrf_token"] = csrf_from(page)
        data["submission_key"] = re.search(r'name="submission_key" type="hidden" value="([^"]+)"'
                                           r'|id="submission_key" name="submission_key" '
                                           r'type="hidden" value="([^"]+)"', page).group(0)
        data["submission_key"] = re.search(r'value="([^"]+)"', data["submission_key"]).group(1)
        data.update(changes)
        data = {k: v for k, v in data.items() if v is not None}
        files = [(io.BytesIO(content if content is not None else jpeg()), name)
                 for name, content in photos]
        if files:
            data["photos"] = files
        return self.client.post(self.path, data=data, content_type="multipart/form-data")


@pytest.fixture
def filer(client, catalogue):
    return Filer(client, catalogue["tenant"])


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header declares a gigantic picture (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def staged_files(app) -> list:
    from pathlib import Path

    root = Path(app.config["LOCAL_STORAGE_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file() and "/staging/" in str(p))
