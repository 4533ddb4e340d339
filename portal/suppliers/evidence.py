"""Evidence files a supplier uploads with an answer: JPEG, PNG or PDF by their first bytes
(not their name or declared type), at most MAX_MB each and MAX_FILES per request, stored
through portal/storage.py under the tenant's prefix."""

from __future__ import annotations

import uuid

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import SupplierEvidence, SupplierRequest
from ..photos import clean_filename
from ..storage import get_storage, tenant_key
from .requests import RequestError

MAX_MB = 10
MAX_BYTES = MAX_MB * 1024 * 1024
MAX_FILES = 10
KINDS = {"jpeg": ("image/jpeg", "jpg"), "png": ("image/png", "png"),
         "pdf": ("application/pdf", "pdf")}


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def attach(scar: SupplierRequest, files) -> list[SupplierEvidence]:
    """Check every file first (nothing is stored when one is refused), then store them."""
    files = [f for f in files if f and getattr(f, "filename", "")]
    if len(scar.evidence) + len(files) > MAX_FILES:
        raise RequestError("evidence", _l("At most %(max)d files.", max=MAX_FILES))
    checked = []
    for upload in files:
        data = upload.read(MAX_BYTES + 1)
        name = clean_filename(upload.filename)
        if len(data) > MAX_BYTES:
            raise RequestError("evidence", _l("%(name)s is larger than %(max)d MB.",
                                              name=name, max=max(MAX_BYTES // 1024 // 1024, 1)))
        kind = sniff(data[:16])
        if kind is None or not data:
            raise RequestError("evidence", _l(
                "%(name)s is not a JPEG, PNG or PDF file.", name=name))
        checked.append((name, kind, data))
    stored = []
    storage = get_storage()
    for name, kind, data in checked:
        content_type, ext = KINDS[kind]
        key = tenant_key(scar.tenant_id, "supplier-evidence", str(scar.id),
                         f"{uuid.uuid4().hex}.{ext}")
        storage.put(key, data, content_type)
        row = SupplierEvidence(request_id=scar.id, storage_key=key, filename=name,
                               content_type=content_type, size_bytes=len(data))
        db.session.add(row)
        stored.append(row)
    db.session.flush()
    return stored
