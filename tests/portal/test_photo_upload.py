"""portal.photos, the upload side: the real type by its bytes, sizes and declared dimensions
checked before anything is stored, the Photo row and its queued job, staged-upload tokens."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal import photos
from portal.models import OutboxMessage, Photo
from portal.photos import PhotoRefused
from portal.tenancy import activate
from tests.customer.conftest import EXE, PDF, SVG, heic, image_bytes, png_bomb, staged_files


@pytest.fixture(autouse=True)
def english(db, app):
    """Messages are checked in English (outside a request the default is Chinese)."""
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        yield


def upload(data: bytes, name: str = "p.jpg") -> FileStorage:
    return FileStorage(io.BytesIO(data), name)


@pytest.mark.parametrize("fmt,kind", [("JPEG", "jpeg"), ("PNG", "png"), ("WEBP", "webp"),
                                      ("HEIF", "heic")])
def test_sniff_knows_the_photo_types(fmt, kind):
    assert photos.sniff(image_bytes(fmt)[:64]) == kind


@pytest.mark.parametrize("head", [SVG, PDF, EXE, b"GIF89a....", b"",
                                  b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00mif1avif"])
def test_sniff_refuses_everything_else(head):
    assert photos.sniff(head[:64]) is None


def test_accept_upload_stages_and_queues(db, make_tenant, make_complaint, app):
    tenant = make_tenant()
    complaint = make_complaint(tenant)
    with activate(tenant):
        photo = photos.accept_upload(complaint, upload(heic((80, 60)), "IMG_1.HEIC"), "contact:7")
        assert photo.status == "staged" and photo.content_type == "image/heic"
        assert (photo.width, photo.height) == (80, 60) and photo.uploaded_by == "contact:7"
        assert photo.staging_key.startswith(f"t/{tenant.id}/staging/")
        assert len(photo.checksum_sha256) == 64
        job = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.job == "jobs.photos.process_photo"))
        assert job.queue == "photos" and job.args == [photo.id] and job.tenant_id == tenant.id
        from portal.storage import get_storage

        assert get_storage().read(photo.staging_key) == heic((80, 60))


@pytest.mark.parametrize("data,message", [
    (EXE, "evil.jpg is not a photo we can take"),
    (SVG, "evil.jpg is not a photo we can take"),
    (PDF, "evil.jpg is not a photo we can take"),
    (b"", "evil.jpg is empty"),
    (png_bomb(), "evil.jpg declares"),
    (png_bomb(20_001, 100), "evil.jpg declares 20001 × 100 pixels"),
    (image_bytes("PNG")[:30], "evil.jpg could not be read"),
])
def test_refused_before_anything_is_stored(db, make_tenant, make_complaint, app, data, message):
    tenant = make_tenant()
    complaint = make_complaint(tenant)
    before = staged_files(app)
    with activate(tenant), pytest.raises(PhotoRefused) as refused:
        photos.accept_upload(complaint, upload(data, "evil.jpg"), "visitor")
    assert message in str(refused.value.message)
    assert staged_files(app) == before
    with activate(tenant):
        assert db.session.scalar(select(Photo)) is None


def test_size_and_count_limits_come_from_the_tenant(db, make_tenant, make_complaint):
    tenant = make_tenant(settings={"max_photo_mb": 1, "max_photos": 1})
    complaint = make_complaint(tenant)
    with activate(tenant):
        with pytest.raises(PhotoRefused, match="larger than 1 MB"):
            photos.accept_upload(complaint, upload(image_bytes() + b"\0" * 1_048_576), "visitor")
        photos.accept_upload(complaint, upload(image_bytes()), "visitor")
        with pytest.raises(PhotoRefused, match="at most 1 photos"):
            photos.accept_upload(complaint, upload(image_bytes()), "visitor")


def test_staged_tokens_are_bound_to_tenant_and_form(app):
    if True:
        staged = photos.StagedUpload(key="t/5/staging/abc", filename="a.jpg",
                                     content_type="image/jpeg", size=3, sha256="0" * 64,
                                     width=1, height=1)
        token = photos.sign_staged(staged, 5, "form-a")
        assert photos.load_staged(token, 5, "form-a") == staged
        assert photos.load_staged(token, 6, "form-a") is None
        assert photos.load_staged(token, 5, "form-b") is None
        assert photos.load_staged(token[:-2] + "xx", 5, "form-a") is None
        forged = photos.StagedUpload(**{**staged.__dict__, "key": "t/6/staging/abc"})
        assert photos.load_staged(photos.sign_staged(forged, 5, "f"), 5, "f") is None


@pytest.mark.parametrize("raw,clean", [("C:\\Users\\me\\IMG 1.jpg", "IMG 1.jpg"),
                                       ("../../etc/passwd", "passwd"), ("a\x00b\nc.jpg", "abc.jpg"),
                                       ("", "photo"), ("x" * 300, "x" * 255)])
def test_clean_filename(raw, clean):
    assert photos.clean_filename(raw) == clean
