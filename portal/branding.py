"""A tenant's brand: the logo upload (checked by content, re-encoded) and its public URL."""

from __future__ import annotations

import io
import re
import secrets

from flask import Blueprint, abort, send_file
from flask_babel import gettext as _

from .storage import StorageError, get_storage, tenant_key
from .tenancy import current_tenant

blueprint = Blueprint("branding", __name__)

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = 4096
_LOGO_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}


class LogoError(ValueError):
    """The upload is not a usable logo; the message says why in the user's language."""


def store_logo(tenant, data: bytes) -> str:
    """Check that ``data`` is a PNG/JPEG/GIF/WebP image (by content, not by name), shrink it
    to at most 512 px high, re-encode it as PNG (dropping metadata and anything hidden in
    the file), store it and return the storage key. Raises LogoError."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise LogoError(_("Choose an image file."))
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError(_("The logo may be at most 2 MB."))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            probe.verify()
        if fmt not in _LOGO_FORMATS:
            raise LogoError(_("Upload a PNG, JPEG, GIF or WebP image."))
        with Image.open(io.BytesIO(data)) as image:
            if max(image.size) > MAX_LOGO_PIXELS:
                raise LogoError(_("The image is too large (at most 4096 pixels a side)."))
            image.load()
            image = image.convert("RGBA")
            image.thumbnail((1536, 512))
            out = io.BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, LogoError):
            raise
        raise LogoError(_("This file is not an image we can read.")) from exc
    key = tenant_key(tenant.id, "brand", f"logo-{secrets.token_hex(6)}.png")
    get_storage().put(key, out.getvalue(), "image/png")
    return key


@blueprint.get("/logo")
def logo():
    """The tenant's logo (public: the portal header shows it to visitors)."""
    key = current_tenant.logo_key
    if not key:
        abort(404)
    try:
        data = get_storage().read(key)
    except StorageError:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype="image/png", max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
