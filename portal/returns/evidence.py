"""The appraisal's evidence photos: JPEG or PNG by their first bytes (never their name or
declared type), at most MAX_MB each and MAX_FILES per return, every file checked before any is
stored, stored through portal/storage.py under the tenant's prefix. The row keeps keys, never
URLs; downloads go through the panel's permission check (``attachment_response``)."""

from __future__ import annotations

import uuid

from ..complaints.permissions import Refused
from ..i18n import lazy_gettext as _l
from ..models import GoodsReturn
from ..photos import clean_filename
from ..storage import get_storage, tenant_key
from ..suppliers.evidence import sniff

MAX_MB = 10
MAX_BYTES = MAX_MB * 1024 * 1024
MAX_FILES = 6
TYPES = {"jpeg": ("image/jpeg", "jpg"), "png": ("image/png", "png")}


def check(files) -> list[tuple[str, str, bytes]]:
    """``[(name, kind, bytes)]`` of the chosen files; Refused ("evidence") naming the first
    file that is too large or not a photo, or when there are too many."""
    files = [f for f in files or () if f and getattr(f, "filename", "")]
    if len(files) > MAX_FILES:
        raise Refused("evidence", _l("At most %(max)d files.", max=MAX_FILES))
    checked = []
    for upload in files:
        data = upload.read(MAX_BYTES + 1)
        name = clean_filename(upload.filename)
        if len(data) > MAX_BYTES:
            raise Refused("evidence", _l("%(name)s is larger than %(max)d MB.", name=name,
                                         max=MAX_MB))
        kind = sniff(data[:16])
        if kind not in TYPES or not data:
            raise Refused("evidence", _l("%(name)s is not a JPEG or PNG photo.", name=name))
        checked.append((name, kind, data))
    return checked


def store(ret: GoodsReturn, checked: list[tuple[str, str, bytes]]) -> list[dict]:
    """Put the checked photos on storage; returns the entries for ``GoodsReturn.evidence``."""
    storage, entries = get_storage(), []
    for name, kind, data in checked:
        content_type, ext = TYPES[kind]
        key = tenant_key(ret.tenant_id, "return-evidence", str(ret.id),
                         f"{uuid.uuid4().hex}.{ext}")
        storage.put(key, data, content_type)
        entries.append({"key": key, "name": name, "type": content_type, "size": len(data)})
    return entries
