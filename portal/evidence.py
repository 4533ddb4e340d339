"""What staff may attach as evidence to an action: an allow-list of kinds recognised by their
bytes and agreeing with their file name — PDF, photos and GIF, Office and OpenDocument files,
plain text and CSV, ZIP archives. Anything else (HTML, SVG, scripts, executables, a file
whose name and contents disagree) is refused with a message naming it.

The declared type of an upload is never trusted or kept: the stored type is the one that
belongs to the recognised kind, and downloads go out as attachments of a type browsers do
not render (``portal.storage.SAFE_TYPE``) in any case.
"""

from __future__ import annotations

import io
import zipfile

from .i18n import lazy_gettext as _l
from .photos import sniff

_OOXML = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
_ODF = {"odt": "application/vnd.oasis.opendocument.text",
        "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "odp": "application/vnd.oasis.opendocument.presentation"}
_OLE = {"doc": "application/msword", "xls": "application/vnd.ms-excel",
        "ppt": "application/vnd.ms-powerpoint", "msg": "application/vnd.ms-outlook"}
_TEXT = {"txt": "text/plain", "csv": "text/csv", "log": "text/plain"}
_IMAGES = {"jpeg": ("jpg", "jpeg"), "png": ("png",), "webp": ("webp",),
           "heic": ("heic", "heif"), "heif": ("heic", "heif")}
_IMAGE_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp",
                "heic": "image/heic", "heif": "image/heif"}

ALLOWED_EXTENSIONS = sorted({"pdf", "gif", "zip", *_OOXML, *_ODF, *_OLE, *_TEXT,
                             *(e for exts in _IMAGES.values() for e in exts)})


class EvidenceRefused(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def _refuse(name: str) -> EvidenceRefused:
    return EvidenceRefused(_l(
        "%(name)s is not a kind of file we keep as evidence. Attach PDF, photos (JPEG, PNG, "
        "WebP, HEIC, GIF), Word, Excel, PowerPoint or OpenDocument files, plain text or CSV, "
        "or a ZIP archive.", name=name))


def _zip_names(data: bytes) -> set[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            data.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def content_type_of(filename: str, data: bytes) -> str:
    """The stored content type of an evidence file, or EvidenceRefused when its kind is not
    on the allow-list or its bytes are not what its name says."""
    if not data:
        raise EvidenceRefused(_l("%(name)s is empty. Attach the file again.", name=filename))
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    head = data[:64]
    if head.startswith(b"%PDF-") and ext == "pdf":
        return "application/pdf"
    kind = sniff(head)
    if kind and ext in _IMAGES[kind]:
        return _IMAGE_TYPES[kind]
    if head[:6] in (b"GIF87a", b"GIF89a") and ext == "gif":
        return "image/gif"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") and ext in _OLE:
        return _OLE[ext]
    if head.startswith(b"PK\x03\x04") and ext in ("zip", *_OOXML, *_ODF):
        names = _zip_names(data)
        if names is not None:
            if ext == "zip":
                return "application/zip"
            if ext in _OOXML and "[Content_Types].xml" in names:
                return _OOXML[ext]
            if ext in _ODF and "mimetype" in names:
                return _ODF[ext]
    if ext in _TEXT and _is_text(data) and not head.lstrip().lower().startswith(
            (b"<!doctype", b"<html", b"<svg", b"<script", b"<?xml")):
        return _TEXT[ext]
    raise _refuse(filename)
