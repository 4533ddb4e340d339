"""The photo job: staged upload -> upright, metadata-free JPEG + thumbnails on storage."""

from __future__ import annotations

import logging

from sqlalchemy import select

from portal import imaging, uow
from portal.complaints.timeline import SYSTEM, record
from portal.extensions import db
from portal.models import Photo, utcnow
from portal.storage import StorageError, get_storage, tenant_key

from . import tenant_job

log = logging.getLogger(__name__)

RENDITIONS = ("original", "large", "thumb")


class VerificationError(StorageError):
    """What storage holds is not what was written (size or checksum differ)."""


def photo_keys(tenant_id: int, photo_id: int) -> dict[str, str]:
    """Deterministic keys, so a re-run overwrites its own objects instead of adding more."""
    return {name: tenant_key(tenant_id, "photos", str(photo_id), f"{name}.jpg")
            for name in RENDITIONS}


@tenant_job
def process_photo(photo_id: int) -> str:
    """Process one staged photo. Returns what happened ("stored", "rejected", or why nothing
    was done).

    Guarantees: the stored copies are read back and checked (size, sha256) before the photo
    is marked stored, and the staged bytes are deleted only after that mark is committed.
    Idempotent: a photo already stored or rejected only has leftover staged bytes removed;
    keys come from the photo id, so a re-run after a crash overwrites, never duplicates.
    Storage or network errors raise, and RQ retries the job (portal.queueing sets Retry).
    Commits itself (twice: the result, then the staging clean-up).
    """
    # Row lock: a job relayed twice and run by two workers at once waits here, then no-ops.
    photo = db.session.scalar(select(Photo).where(Photo.id == photo_id).with_for_update())
    if photo is None:
        return "missing"
    if photo.status != "staged":
        _discard_staged(photo)
        return f"already {photo.status}"
    if not photo.staging_key:
        raise StorageError(f"photo {photo.id} is staged but has no staging key")

    storage = get_storage()
    data = storage.read(photo.staging_key)  # StorageError / network error: retried
    try:
        result = imaging.process(data)
    except imaging.ImageRejected as exc:
        photo.status = "rejected"
        photo.rejection_reason = exc.reason
        record(photo.complaint, SYSTEM, "photo.rejected", message=exc.reason,
               data={"photo_id": photo.id, "filename": photo.original_filename,
                     "detail": exc.detail[:200]},
               shown=photo.customer_visible)
        uow.commit()
        _discard_staged(photo)
        log.info("photo %s rejected: %s", photo_id, exc)
        return "rejected"

    keys = photo_keys(photo.tenant_id, photo.id)
    renditions = {"original": result.original, "large": result.large, "thumb": result.thumb}
    for name, rendition in renditions.items():
        storage.put(keys[name], rendition.data, rendition.content_type)
    for name, rendition in renditions.items():
        _verify(storage, keys[name], rendition)

    photo.original_key = keys["original"]
    photo.large_key = keys["large"]
    photo.thumb_key = keys["thumb"]
    photo.width = result.original.width
    photo.height = result.original.height
    photo.checksum_sha256 = result.original.sha256
    photo.content_type = "image/jpeg"
    photo.status = "stored"
    photo.stored_at = utcnow()
    uow.commit()
    _discard_staged(photo)
    return "stored"


def _verify(storage, key: str, rendition: imaging.Rendition) -> None:
    stored = storage.read(key)
    if len(stored) != len(rendition.data) or imaging.sha256(stored) != rendition.sha256:
        raise VerificationError(f"stored copy of {key} differs from what was written")


def _discard_staged(photo: Photo) -> None:
    """Remove the staged bytes once the photo's outcome is committed; forget the key."""
    if not photo.staging_key:
        return
    get_storage().delete(photo.staging_key)
    photo.staging_key = None
    uow.commit()
