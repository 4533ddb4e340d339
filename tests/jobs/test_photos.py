"""The photo job in process (local storage): stored, rejected, idempotent, verified."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from jobs.photos import photo_keys, process_photo
from portal import imaging
from portal.models import Photo, TimelineEvent
from portal.storage import StorageError, get_storage, tenant_key
from portal.tenancy import activate

from .images import assert_no_metadata, bomb_png, disguised_bytes, heic_bytes, jpeg_bytes


def stage(db, tenant, complaint, data: bytes, filename="photo.jpg") -> Photo:
    """What portal/photos.accept_upload leaves behind: staged bytes and a staged row."""
    with activate(tenant):
        key = tenant_key(tenant.id, "staging", uuid.uuid4().hex)
        get_storage().put(key, data, "application/octet-stream")
        photo = Photo(complaint_id=complaint.id, uploaded_by="visitor", original_filename=filename,
                      size_bytes=len(data), staging_key=key)
        db.session.add(photo)
        db.session.flush()
    return photo


@pytest.fixture
def complaint(make_tenant, make_complaint):
    tenant = make_tenant()
    return tenant, make_complaint(tenant)


def reload(db, tenant, photo_id) -> Photo:
    with activate(tenant):
        db.session.expire_all()
        return db.session.get(Photo, photo_id)


def test_jpeg_is_stored_upright_without_metadata(db, complaint):
    tenant, c = complaint
    photo = stage(db, tenant, c, jpeg_bytes((1200, 900), orientation=6))
    staging_key = photo.staging_key
    assert process_photo(tenant.id, photo.id) == "stored"
    photo = reload(db, tenant, photo.id)
    storage = get_storage()
    assert photo.status == "stored" and photo.stored_at is not None
    assert (photo.width, photo.height) == (900, 1200)  # turned upright by EXIF orientation 6
    assert photo.original_key == photo_keys(tenant.id, photo.id)["original"]
    assert photo.original_key.startswith(f"t/{tenant.id}/photos/{photo.id}/")
    original = storage.read(photo.original_key)
    assert imaging.sha256(original) == photo.checksum_sha256
    image = assert_no_metadata(original)
    assert image.getpixel((image.width - 3, 3))[0] > 200  # the red corner went top-right
    assert max(assert_no_metadata(storage.read(photo.large_key)).size) == 1200
    assert max(assert_no_metadata(storage.read(photo.thumb_key)).size) == 320
    assert photo.staging_key is None and not storage.exists(staging_key)


def test_heic_becomes_jpeg(db, complaint):
    tenant, c = complaint
    photo = stage(db, tenant, c, heic_bytes((800, 600)), filename="IMG_0001.HEIC")
    assert process_photo(tenant.id, photo.id) == "stored"
    photo = reload(db, tenant, photo.id)
    for key in (photo.original_key, photo.large_key, photo.thumb_key):
        assert_no_metadata(get_storage().read(key))


@pytest.mark.parametrize("data, reason", [
    (bomb_png(), imaging.REASON_TOO_LARGE),
    (disguised_bytes(), imaging.REASON_NOT_IMAGE),
    (jpeg_bytes((600, 400))[:3000], imaging.REASON_DAMAGED),
])
def test_bad_files_are_rejected_with_a_reason_on_the_timeline(db, complaint, data, reason):
    tenant, c = complaint
    photo = stage(db, tenant, c, data)
    staging_key = photo.staging_key
    assert process_photo(tenant.id, photo.id) == "rejected"
    photo = reload(db, tenant, photo.id)
    assert photo.status == "rejected" and photo.rejection_reason == reason
    assert photo.original_key is None and not get_storage().exists(staging_key)
    with activate(tenant):
        event = db.session.query(TimelineEvent).filter_by(complaint_id=c.id,
                                                          kind="photo.rejected").one()
    assert event.message == reason and event.customer_visible


def test_rerun_is_a_no_op_and_cleans_leftover_staging(db, complaint):
    tenant, c = complaint
    photo = stage(db, tenant, c, jpeg_bytes((640, 480)))
    assert process_photo(tenant.id, photo.id) == "stored"
    # A crash between "stored" being committed and the staged bytes being deleted:
    with activate(tenant):
        leftover = tenant_key(tenant.id, "staging", "leftover")
        get_storage().put(leftover, b"x", "application/octet-stream")
        reload(db, tenant, photo.id).staging_key = leftover
        db.session.flush()
    assert process_photo(tenant.id, photo.id) == "already stored"
    assert not get_storage().exists(leftover)
    assert reload(db, tenant, photo.id).staging_key is None
    assert process_photo(tenant.id, 999_999_999) == "missing"


def test_missing_staged_bytes_raise_so_rq_retries(db, complaint):
    tenant, c = complaint
    photo = stage(db, tenant, c, jpeg_bytes((640, 480)))
    get_storage().delete(photo.staging_key)
    with pytest.raises(StorageError):
        process_photo(tenant.id, photo.id)
    assert reload(db, tenant, photo.id).status == "staged"


def test_a_corrupted_stored_copy_is_not_marked_stored(db, complaint, monkeypatch):
    tenant, c = complaint
    photo = stage(db, tenant, c, jpeg_bytes((640, 480)))
    storage = get_storage()
    real_read = storage.read
    monkeypatch.setattr(storage, "read", lambda key: real_read(key)[:-1]
                        if key.endswith("large.jpg") else real_read(key))
    with pytest.raises(StorageError):
        process_photo(tenant.id, photo.id)
    photo = reload(db, tenant, photo.id)
    assert photo.status == "staged" and storage.exists(photo.staging_key)


def test_another_tenants_photo_is_not_found(db, complaint, make_tenant):
    tenant, c = complaint
    photo = stage(db, tenant, c, jpeg_bytes((64, 48)))
    other = make_tenant()
    assert process_photo(other.id, photo.id) == "missing"
    assert reload(db, tenant, photo.id).status == "staged"


def test_transparent_png_is_flattened_to_white():
    buffer = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(buffer, "PNG")
    result = imaging.process(buffer.getvalue())
    image = Image.open(io.BytesIO(result.original.data))
    assert image.mode == "RGB" and image.getpixel((10, 10)) == (255, 255, 255)


def test_unaccepted_format_is_refused():
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20)).save(buffer, "BMP")
    with pytest.raises(imaging.ImageRejected) as info:
        imaging.process(buffer.getvalue())
    assert info.value.reason == imaging.REASON_FORMAT


def test_photos_left_staged_are_queued_again_once_per_period(db, complaint):
    from datetime import timedelta

    from portal.models import utcnow
    from portal.photos import requeue_stale

    tenant, c = complaint
    fresh = stage(db, tenant, c, jpeg_bytes((64, 48)))
    stale = stage(db, tenant, c, jpeg_bytes((64, 48)))
    with activate(tenant):
        stale.created_at = utcnow() - timedelta(hours=2)
        db.session.flush()
    stale_id, fresh_id = stale.id, fresh.id
    # Embedded default: the re-queued job runs in process right after the commit.
    assert requeue_stale() == 1
    assert reload(db, tenant, stale_id).status == "stored"
    assert reload(db, tenant, fresh_id).status == "staged"
    assert requeue_stale() == 0


def test_truncated_photo_is_refused_even_if_another_library_allows_truncation(monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint sets it
    with pytest.raises(imaging.ImageRejected) as info:
        imaging.process(jpeg_bytes((600, 400))[:3000])
    assert info.value.reason == imaging.REASON_DAMAGED
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # left as it was found
