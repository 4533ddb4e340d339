"""Complaint photos, the upload side and serving: check what a phone sends (size, real type by
its bytes, declared dimensions), stage it on storage, record the Photo and queue its
processing (``jobs.photos.process_photo`` turns it into JPEG and thumbnails); and send a
photo's bytes to someone the caller has already allowed to see its complaint.

Nothing here commits. Every function assumes the complaint's tenant is active.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask import current_app, redirect, send_file
from itsdangerous import BadSignature, URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import func, select

from .extensions import db
from .i18n import lazy_gettext as _l
from .models import Complaint, Photo, Tenant, utcnow
from .queueing import enqueue
from .storage import StorageUnavailable, get_storage, tenant_key

# A phone's largest ordinary photo is 50 MP (some take 200 MP in a special mode; the browser
# shrinks those before upload). Decoding more would let one upload exhaust a worker's memory.
MAX_PIXELS = 100_000_000
MAX_SIDE = 20_000
STAGED_MAX_AGE = 24 * 3600  # seconds a staged upload may wait for its form

TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp", "heic": "image/heic",
         "heif": "image/heif"}
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}
_PIL_FORMATS = {"jpeg": {"JPEG", "MPO"}, "png": {"PNG"}, "webp": {"WEBP"},
                "heic": {"HEIF"}, "heif": {"HEIF"}}

_heif_registered = False


class PhotoRefused(Exception):
    """An upload was refused before anything was stored. ``message`` names the file."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class StorageDown(PhotoRefused):
    """The file store did not answer, so the photo was not stored (nor anything sent with
    it). A refusal like the others, so every form shows it and keeps what was typed."""


def sniff(head: bytes) -> str | None:
    """The image kind the first bytes say, whatever the file is called: jpeg, png, webp,
    heic, heif, or None (SVG, PDF, executables, AVIF and everything else)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        size = int.from_bytes(head[:4], "big")
        box = head[8:max(16, min(size, len(head)))]
        major = box[:4]
        compatible = {box[i:i + 4] for i in range(8, len(box) - 3, 4)}
        if b"avif" in compatible or major == b"avif":
            return None
        if major in _HEIC_BRANDS or compatible & _HEIC_BRANDS:
            return "heic"
        if major in _HEIF_BRANDS:
            return "heif"
    return None


def clean_filename(name: str | None) -> str:
    """The file's own name for display: no path, no control characters, at most 255 chars."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:255] or "photo"


@dataclass
class StagedUpload:
    """An accepted upload whose bytes are on storage under ``key``, waiting for its Photo row."""

    key: str
    filename: str
    content_type: str
    size: int
    sha256: str
    width: int
    height: int


def _limits(tenant: Tenant) -> tuple[int, int]:
    return int(tenant.setting("max_photo_mb")), int(tenant.setting("max_photos"))


def inspect_upload(tenant: Tenant, file_storage) -> tuple[bytes, StagedUpload]:
    """Read and check one upload; raise PhotoRefused (naming the file) when it is empty, larger
    than the tenant's ``max_photo_mb``, not really a JPEG/PNG/WebP/HEIC/HEIF, unreadable, or
    declares more pixels than a photo has. Reads dimensions without decoding the pixels."""
    filename = clean_filename(getattr(file_storage, "filename", None))
    max_mb, _ = _limits(tenant)
    limit = max_mb * 1024 * 1024
    data = file_storage.stream.read(limit + 1)
    if not data:
        raise PhotoRefused(_l("%(name)s is empty. Take or choose the photo again.", name=filename))
    if len(data) > limit:
        raise PhotoRefused(_l("%(name)s is larger than %(mb)d MB. Send a smaller photo.",
                              name=filename, mb=max_mb))
    kind = sniff(data[:64])
    if kind is None:
        raise PhotoRefused(_l("%(name)s is not a photo we can take. Send JPEG, PNG, WebP or "
                              "HEIC photos.", name=filename))
    width, height = _dimensions(data, kind, filename)
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise PhotoRefused(_l("%(name)s declares %(width)d × %(height)d pixels, more than a "
                              "photo has. Send the photo as the camera took it.",
                              name=filename, width=width, height=height))
    return data, StagedUpload(
        key="", filename=filename, content_type=TYPES[kind], size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), width=width, height=height)


def _dimensions(data: bytes, kind: str, filename: str) -> tuple[int, int]:
    global _heif_registered
    if kind in ("heic", "heif") and not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True
    unreadable = PhotoRefused(_l("%(name)s could not be read as a photo. It may be damaged; "
                                 "take or choose it again.", name=filename))
    try:
        with warnings.catch_warnings():
            # Pillow warns (and beyond twice its limit raises) on huge declared sizes; we
            # check the size ourselves with a clearer message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header, not the pixels
                if image.format not in _PIL_FORMATS[kind]:
                    raise unreadable
                return image.size
    except Image.DecompressionBombError as exc:
        raise PhotoRefused(_l("%(name)s declares more pixels than a photo has. Send the photo "
                              "as the camera took it.", name=filename)) from exc
    except PhotoRefused:
        raise
    except Exception as exc:  # noqa: BLE001 — any parser failure means "not a usable photo"
        raise unreadable from exc


def stage(tenant_id: int, data: bytes, upload: StagedUpload) -> StagedUpload:
    """Put the checked bytes on storage under ``t/<tenant>/staging/<uuid>``. Raises
    StorageDown (a PhotoRefused saying so) when the store does not answer."""
    upload.key = tenant_key(tenant_id, "staging", uuid.uuid4().hex)
    try:
        get_storage().put(upload.key, data, upload.content_type)
    except StorageUnavailable as exc:
        current_app.logger.warning("staging %s failed: %s", upload.key, exc)
        raise StorageDown(_l("%(name)s could not be stored: our file store is not answering "
                             "just now. Nothing was sent yet, and what you typed is kept "
                             "here. In a few minutes, attach the photo again and send.",
                             name=upload.filename)) from exc
    return upload


def attach(complaint: Complaint, upload: StagedUpload, uploaded_by, event=None,
           customer_visible: bool = True) -> Photo:
    """Record a staged upload as the complaint's Photo (status "staged") and queue its
    processing on the "photos" queue. Flushes."""
    photo = Photo(
        complaint_id=complaint.id, event_id=getattr(event, "id", None),
        uploaded_by=_principal(uploaded_by), customer_visible=customer_visible,
        status="staged", original_filename=upload.filename, content_type=upload.content_type,
        size_bytes=upload.size, checksum_sha256=upload.sha256, staging_key=upload.key,
        width=upload.width, height=upload.height,
    )
    db.session.add(photo)
    db.session.flush()
    enqueue("jobs.photos.process_photo", photo.id, queue="photos")
    return photo


def photo_count(complaint: Complaint) -> int:
    return db.session.scalar(select(func.count()).select_from(Photo).where(
        Photo.complaint_id == complaint.id, Photo.status != "rejected")) or 0


def check_room(tenant: Tenant, existing: int, adding: int) -> None:
    _, max_photos = _limits(tenant)
    if existing + adding > max_photos:
        raise PhotoRefused(_l("A complaint can have at most %(max)d photos.", max=max_photos))


def accept_upload(complaint: Complaint, file_storage, uploaded_by, event=None) -> Photo:
    """Check one uploaded file, stage its bytes and record it as a Photo of ``complaint``.

    Raises PhotoRefused (nothing stored) when the complaint already has the tenant's
    ``max_photos``, or the file is refused by ``inspect_upload``. ``uploaded_by`` is a
    principal string ("contact:9") or an actor with ``get_id()``. Flushes, never commits;
    the processing job is queued in the same transaction.
    """
    tenant = db.session.get(Tenant, complaint.tenant_id)
    check_room(tenant, photo_count(complaint), 1)
    data, upload = inspect_upload(tenant, file_storage)
    return attach(complaint, stage(tenant.id, data, upload), uploaded_by, event)


def _principal(uploaded_by) -> str:
    if isinstance(uploaded_by, str):
        return uploaded_by[:40]
    get_id = getattr(uploaded_by, "get_id", None)
    return (get_id() if get_id else "visitor")[:40]


# -- staged uploads travelling in a form ---------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="closeloop.staged-photo")


def sign_staged(upload: StagedUpload, tenant_id: int, form_key: str) -> str:
    """A token for a hidden form field: the staged upload, bound to this tenant and form."""
    return _serializer().dumps({"u": asdict(upload), "t": tenant_id, "f": form_key})


def load_staged(token: str, tenant_id: int, form_key: str) -> StagedUpload | None:
    """The staged upload a token names, or None if it was forged, is too old, or belongs to
    another tenant or form."""
    if not token or len(token) > 2000:
        return None
    try:
        payload = _serializer().loads(token, max_age=STAGED_MAX_AGE)
    except BadSignature:
        return None
    if payload.get("t") != tenant_id or payload.get("f") != form_key:
        return None
    try:
        upload = StagedUpload(**payload["u"])
    except (TypeError, KeyError):
        return None
    if not upload.key.startswith(f"t/{tenant_id}/staging/"):
        return None
    return upload


# -- staged uploads that never became photos -------------------------------------------------

# A staged upload's token lives STAGED_MAX_AGE; an hour more and no form can still attach it.
ORPHAN_AFTER = timedelta(seconds=STAGED_MAX_AGE + 3600)


def purge_orphaned_staging(now: datetime | None = None, batch: int = 500) -> int:
    """Delete staged uploads that never became part of a complaint: older than ORPHAN_AFTER
    and named by no Photo row (a photo still waiting for its job keeps its bytes, however
    old). Every tenant, so it reads unscoped (platform tooling, run by the clock's hourly
    job). Idempotent: a second run finds nothing. Writes no rows; returns how many it
    deleted. Storage errors propagate (the next run tries again)."""
    from .tenancy import unscoped

    cutoff = (now or utcnow()) - ORPHAN_AFTER
    storage = get_storage()
    with unscoped():
        tenant_ids = db.session.scalars(select(Tenant.id).order_by(Tenant.id)).all()
    deleted = 0
    for tenant_id in tenant_ids:
        old = [key for key, written in storage.list(f"t/{tenant_id}/staging/") if written < cutoff]
        for start in range(0, len(old), batch):
            keys = old[start:start + batch]
            with unscoped():
                kept = set(db.session.scalars(select(Photo.staging_key)
                                              .where(Photo.staging_key.in_(keys))))
            for key in keys:
                if key not in kept:
                    storage.delete(key)
                    deleted += 1
    return deleted


# -- serving -------------------------------------------------------------------------------

VARIANTS = ("thumb", "large", "original")


def photo_response(photo: Photo, variant: str):
    """Send a processed photo. The caller has checked that the user may see its complaint;
    this only refuses variants that do not exist (404). Unprocessed photos are never sent:
    their staged bytes still carry the camera's metadata (location)."""
    from flask import abort

    key = {"thumb": photo.thumb_key, "large": photo.large_key or photo.thumb_key,
           "original": photo.original_key or photo.large_key}.get(variant)
    if photo.status != "stored" or not key:
        abort(404)
    storage = get_storage()
    # JPEG the photo job encoded itself, so it may show inline, typed as what it is.
    url = storage.download_url(key, filename=f"photo-{photo.id}-{variant}.jpg", expires=300,
                               content_type="image/jpeg", inline=True)
    if url:
        response = redirect(url, code=302)
    else:
        response = send_file(storage.open(key), mimetype="image/jpeg", max_age=300,
                             conditional=False, etag=False)
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def requeue_stale(older_than_minutes: int = 30) -> int:
    """Safety net, run by the outbox relay loop (portal/cli.py): queue again every photo
    still staged long after its upload. Its first job may be gone — Redis restarted without persistence, the retries ran
    out while S3 was down, or a worker died in the instant before RQ marked the job started
    (which RQ's cleanup then skips). The job is idempotent, so a spare run costs nothing.
    At most one re-queue per photo per period. Commits. Returns how many were queued."""
    from datetime import timedelta

    from . import uow
    from .models import OutboxMessage, utcnow
    from .tenancy import activate, unscoped

    now = utcnow()
    period = int(now.timestamp() // (older_than_minutes * 60))
    with unscoped():
        stale = db.session.execute(
            select(Photo.id, Photo.tenant_id).where(
                Photo.status == "staged",
                Photo.created_at < now - timedelta(minutes=older_than_minutes))
            .order_by(Photo.id).limit(1000)).all()
        job_ids = {f"photo-{pid}-again-{period}": (pid, tid) for pid, tid in stale}
        known = set(db.session.scalars(select(OutboxMessage.job_id).where(
            OutboxMessage.job_id.in_(list(job_ids))))) if job_ids else set()
    queued = 0
    for job_id, (photo_id, tenant_id) in job_ids.items():
        if job_id in known:
            continue
        with activate(tenant_id):
            enqueue("jobs.photos.process_photo", photo_id, queue="photos", job_id=job_id)
        queued += 1
    if queued:
        uow.commit()
    return queued
