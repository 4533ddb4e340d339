"""A tenant's brand: the logo upload (checked by content, re-encoded) and its public URL."""

from __future__ import annotations

import base64
import io
import re
import secrets

from flask import Blueprint, abort, current_app, has_request_context, send_file, url_for
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


def logo_data_uri(tenant) -> str | None:
    """The tenant's logo as a ``data:`` URI for PDFs (WeasyPrint needs no request for it);
    None when the tenant has no logo or the stored file is gone."""
    key = getattr(tenant, "logo_key", None)
    if not key:
        return None
    try:
        data = get_storage().read(key)
    except StorageError:
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def logo_url(tenant) -> str | None:
    """The absolute URL of the tenant's logo for e-mails; None without a logo.

    In a request the request's host is used; in a job (no request) ``PUBLIC_URL``."""
    key = getattr(tenant, "logo_key", None)
    if not key:
        return None
    values = {"tenant_slug": tenant.slug, "v": key[-16:-4]}
    if has_request_context():
        return url_for("branding.logo", _external=True, **values)
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    with current_app.test_request_context(base_url=base):
        return url_for("branding.logo", _external=True, **values)


def brand_color(tenant) -> str:
    """The tenant's brand colour, or the default when it is not a plain #rrggbb value (it
    goes into inline styles of e-mails)."""
    color = getattr(tenant, "brand_color", None) or ""
    return color if COLOR_PATTERN.match(color) else "#0f6cbd"


@blueprint.app_context_processor
def _brand_helpers():
    return {"brand_logo_data_uri": logo_data_uri, "brand_logo_url": logo_url,
            "brand_color": brand_color}


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
