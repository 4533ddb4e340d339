"""Evidence files staff may attach: an allow-list by bytes and name, a clear refusal for the
rest, the declared type never kept, and downloads as attachments of a safe type."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlalchemy import select

from portal.evidence import EvidenceRefused, content_type_of
from portal.models import Action
from portal.tenancy import activate

from .test_validation import _setup


def _zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("name, data, expected", [
    ("8D report.pdf", b"%PDF-1.7\n...", "application/pdf"),
    ("现场.jpg", _jpeg(), "image/jpeg"),
    ("chart.gif", b"GIF89a" + b"\0" * 20, "image/gif"),
    ("cost.xlsx", _zip(**{"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"}),
     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("plan.docx", _zip(**{"[Content_Types].xml": b"<Types/>"}),
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "application/vnd.ms-excel"),
    ("minutes.odt", _zip(mimetype=b"application/vnd.oasis.opendocument.text"),
     "application/vnd.oasis.opendocument.text"),
    ("readings.csv", "批次,扭矩\nL1,12.5\n".encode(), "text/csv"),
    ("readings-gbk.txt", "扭矩记录".encode("gb18030"), "text/plain"),
    ("bundle.zip", _zip(**{"a.txt": b"a"}), "application/zip"),
])
def test_allowed_kinds_get_the_type_of_what_they_are(name, data, expected):
    assert content_type_of(name, data) == expected


@pytest.mark.parametrize("name, data", [
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("note.txt", b"<!DOCTYPE html><script>alert(1)</script>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
    ("setup.exe", b"MZ\x90\x00" + b"\0" * 60),
    ("report.pdf", b"MZ\x90\x00 not a pdf"),  # the name says PDF, the bytes do not
    ("photo.jpg", b"%PDF-1.4 a pdf called jpg"),
    ("sheet.xlsx", b"PK\x03\x04 broken zip"),
    ("sheet.xlsx", _zip(**{"x.html": b"<html/>"})),  # a zip, not an Office file
    ("binary.txt", b"text\x00with NUL"),
    ("empty.pdf", b""),
    ("noextension", b"%PDF-1.4"),
])
def test_everything_else_is_refused_with_its_name(name, data):
    with pytest.raises(EvidenceRefused) as refused:
        content_type_of(name, data)
    assert name in str(refused.value.message)


def test_refused_evidence_is_explained_and_nothing_stored(shop, as_role, make_complaint, db):
    cid = _setup(db, shop, make_complaint, "corrective_action")
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.kind == "corrective"))
    response = as_role("responder").post(
        f"/complaints/{cid}/actions/{action_id}/done",
        {"result": "Instruction updated",
         "evidence": [(io.BytesIO(b"<html><script>alert(1)</script></html>"), "fix.html")]},
        page=f"/complaints/{cid}", content_type="multipart/form-data")
    assert response.status_code == 422
    assert "fix.html is not a kind of file we keep as evidence" in response.get_data(as_text=True)
    with activate(shop.tenant):
        assert db.session.get(Action, action_id).evidence in (None, [])


def test_evidence_keeps_the_recognised_type_and_downloads_as_attachment(shop, as_role,
                                                                      make_complaint, db):
    cid = _setup(db, shop, make_complaint, "corrective_action")
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.kind == "corrective"))
    responder = as_role("responder")
    response = responder.post(
        f"/complaints/{cid}/actions/{action_id}/done",
        {"result": "Instruction updated",
         "evidence": [(io.BytesIO(b"%PDF-1.4 evidence"), "instruction.pdf", "text/html")]},
        page=f"/complaints/{cid}", content_type="multipart/form-data")
    assert response.status_code == 303
    with activate(shop.tenant):
        (item,) = db.session.get(Action, action_id).evidence
    assert item["content_type"] == "application/pdf"  # not the declared text/html
    download = responder.get(f"/complaints/{cid}/evidence/{action_id}/0")
    assert download.data == b"%PDF-1.4 evidence"
    download.close()
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
