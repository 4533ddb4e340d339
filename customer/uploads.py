"""Photos travelling with a portal form: staged before the form is valid, carried as signed
tokens through error re-renders, attached once the complaint (or the answer) is recorded."""

from __future__ import annotations

from flask import jsonify, request, session
from flask_babel import gettext as _

from portal import photos
from portal.photos import PhotoRefused, StagedUpload

from . import blueprint
from .forms import KEY_PATTERN

# How many photos one browser may stage per hour through the JavaScript uploader.
STAGE_LIMIT_PER_HOUR = 60


def gather(tenant, form_key: str, existing: int = 0) -> tuple[list[StagedUpload], list[str]]:
    """Staged uploads of this form (tokens kept from earlier attempts, minus those the person
    removed) plus the files sent with this request, checked and staged now.

    Returns ``(staged, errors)``; each refused file has its own message naming it. Files over
    the tenant's photo limit are refused before they are stored.
    """
    staged: list[StagedUpload] = []
    errors: list[str] = []
    removed = set(request.form.getlist("drop_photo"))
    for token in request.form.getlist("staged_photo"):
        if token in removed:
            continue
        upload = photos.load_staged(token, tenant.id, form_key)
        if upload is None:
            errors.append(_("A photo sent earlier could not be used any more. Attach it again."))
        elif all(s.key != upload.key for s in staged):
            staged.append(upload)
    max_photos = int(tenant.setting("max_photos"))
    for file in request.files.getlist("photos"):
        if not file or not file.filename:
            continue
        if existing + len(staged) >= max_photos:
            file.close()
            errors.append(_("%(name)s was not added: at most %(max)d photos per complaint.",
                            name=photos.clean_filename(file.filename), max=max_photos))
            continue
        try:
            data, upload = photos.inspect_upload(tenant, file)
        except PhotoRefused as refused:
            errors.append(str(refused.message))
            continue
        finally:
            file.close()  # large parts are spooled to temporary files
        staged.append(photos.stage(tenant.id, data, upload))
    return staged, errors


def tokens(staged: list[StagedUpload], tenant, form_key: str) -> list[tuple[str, StagedUpload]]:
    return [(photos.sign_staged(s, tenant.id, form_key), s) for s in staged]


def valid_key(value: str | None) -> str | None:
    return value if value and KEY_PATTERN.match(value) else None


def _stage_allowed() -> bool:
    import time

    now = int(time.time())
    start, count = session.get("stage_window", (now, 0))
    if now - start > 3600:
        start, count = now, 0
    if count >= STAGE_LIMIT_PER_HOUR:
        return False
    session["stage_window"] = (start, count + 1)
    return True


@blueprint.post("/photos/stage")
def public_stage_photo():
    """The JavaScript uploader sends one photo at a time here (with a progress bar) and gets a
    token to put in the form. Same checks as the plain form."""
    from portal.tenancy import current_tenant

    tenant = current_tenant._get_current_object()
    form_key = valid_key(request.form.get("form_key"))
    file = request.files.get("photo")
    if form_key is None or file is None or not file.filename:
        return jsonify(error=_("No photo received. Try again.")), 400
    if not _stage_allowed():
        return jsonify(error=_("Too many photos sent from this browser. Wait an hour, or send "
                               "the form without more photos.")), 429
    try:
        data, upload = photos.inspect_upload(tenant, file)
    except PhotoRefused as refused:
        return jsonify(error=str(refused.message)), 422
    finally:
        file.close()
    photos.stage(tenant.id, data, upload)
    return jsonify(token=photos.sign_staged(upload, tenant.id, form_key), name=upload.filename,
                   size=upload.size)
