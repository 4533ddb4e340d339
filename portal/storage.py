"""File storage behind one interface: local disk (embedded default) or S3.

Rows store keys, never URLs. Keys start with the tenant id (``t/<id>/…``). Downloads
go through the app's permission check first, then ``download_url`` (a short-lived
presigned URL on S3) or ``open`` (a stream from local disk). Either way a user's file
leaves as an attachment with a type the browser will not render or sniff (``SAFE_TYPE``
unless the caller wrote the bytes itself), whatever type the uploader declared.
A store that does not answer raises ``StorageUnavailable`` from ``put``: callers tell the
person it was not stored rather than a generic error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_\-.]{0,299}$")


class StorageError(RuntimeError):
    pass


class StorageUnavailable(StorageError):
    """The store did not answer (connection refused, timeout, 5xx): nothing was written."""


# What every user file is served as, unless the caller knows better (processed photos are
# JPEG we wrote ourselves): a type no browser renders or sniffs, always as an attachment.
SAFE_TYPE = "application/octet-stream"


def attachment_disposition(filename: str | None) -> str:
    """``attachment`` with the name in plain ASCII and in RFC 5987 form (Chinese names)."""
    from urllib.parse import quote

    name = (filename or "file").replace("\\", "_").replace('"', "_")
    name = "".join(ch for ch in name if ch.isprintable())[:200] or "file"
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root (``..``, absolute, odd characters)."""
    if not _KEY.match(key) or ".." in key.split("/") or "//" in key:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def open(self, key: str) -> BinaryIO: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def list(self, prefix: str) -> Iterator[tuple[str, datetime]]: ...
    def download_url(self, key: str, filename: str | None = None, expires: int = 300,
                     content_type: str = SAFE_TYPE, inline: bool = False) -> str | None: ...
    def check(self) -> None: ...


class LocalStorage:
    """Files under a directory; ``download_url`` is None (the app streams the file)."""

    def __init__(self, root: str):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except OSError as exc:  # disk full, read-only, permissions
            raise StorageUnavailable(f"could not write {key}: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StorageError(f"missing: {key}") from exc

    def read(self, key: str) -> bytes:
        with self.open(key) as fh:
            return fh.read()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Keys under ``prefix`` (a folder-like prefix ending in /) with their write times."""
        base = self._path(prefix.rstrip("/"))
        if not base.is_dir():
            return
        for path in base.rglob("*"):
            if path.is_file() and not path.name.endswith(".part"):
                yield (path.relative_to(self.root).as_posix(),
                       datetime.fromtimestamp(path.stat().st_mtime, tz=UTC))

    def download_url(self, key, filename=None, expires=300, content_type=SAFE_TYPE,
                     inline=False):
        return None

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")


def get_storage() -> Storage:
    """The configured storage, built once per app (S3 when S3_BUCKET is set)."""
    app = current_app._get_current_object()
    storage = app.extensions.get("closeloop_storage")
    if storage is None:
        if app.config.get("S3_BUCKET"):
            from .storage_s3 import S3Storage

            storage = S3Storage.from_config(app.config)
        else:
            storage = LocalStorage(app.config["LOCAL_STORAGE_DIR"])
        app.extensions["closeloop_storage"] = storage
    return storage


def tenant_key(tenant_id: int, *parts: str) -> str:
    return check_key("/".join(["t", str(tenant_id), *parts]))


def attachment_response(key: str, filename: str):
    """A stored user file as a download, for a view that has checked the reader's right to it:
    a short-lived presigned link where the store has one, else the bytes streamed; always an
    attachment typed ``SAFE_TYPE`` with ``nosniff`` (a file's declared type is never trusted).
    A file missing from the store is a 404, a store that does not answer a 503."""
    from flask import abort, redirect, send_file

    storage = get_storage()
    try:
        url = storage.download_url(key, filename=filename, expires=300)
        if url:
            return redirect(url, code=302)
        stream = storage.open(key)
    except StorageUnavailable:
        abort(503)
    except (StorageError, FileNotFoundError):
        abort(404)
    response = send_file(stream, mimetype=SAFE_TYPE, as_attachment=True, download_name=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
