"""Photos travelling with a portal form: staged before the form is valid, carried as signed
tokens through error re-renders, attached once the complaint (or the answer) is recorded."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from portal import photos, ratelimits
from portal.client import client_ip
from portal.photos import PhotoRefused, StagedUpload

from . import blueprint
from .forms import KEY_PATTERN


def gather(tenant, form_key: str, existing: int = 0) -> tuple[list[StagedUpload], list[str]]:
    """Staged uploads of this form (tokens kept from earlier attempts, minus those the person
    removed) plus the files sent with this request, checked and staged now.

    Returns ``(staged, errors)``; each refused file has its own message naming it. Files over
    the tenant's photo limit are refused before they are stored. When the file store does
    not answer, the error says so and that nothing was sent: the caller re-renders the form
    with what was typed (and the photos staged before), never a page claiming it is safe.
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
    store_down = limited = False
    for file in request.files.getlist("photos"):
        if not file or not file.filename:
            continue
        if store_down or limited:  # one timeout (or refusal) is enough for this request
            file.close()
            continue
        if existing + len(staged) >= max_photos:
            file.close()
            errors.append(_("%(name)s was not added: at most %(max)d photos per complaint.",
                            name=photos.clean_filename(file.filename), max=max_photos))
            continue
        if _stage_limit_hit(tenant, form_key) is not None:  # the same counts as the uploader
            file.close()
            errors.append(_("Too many photos were sent from here. Send the form with the "
                            "photos already added, or try more later."))
            limited = True
            continue
        try:
            data, upload = photos.inspect_upload(tenant, file)
            staged.append(photos.stage(tenant.id, data, upload))
        except photos.StorageDown as down:
            errors.append(str(down.message))
            store_down = True
        except PhotoRefused as refused:
            errors.append(str(refused.message))
        finally:
            file.close()  # large parts are spooled to temporary files
    return staged, errors


def tokens(staged: list[StagedUpload], tenant, form_key: str) -> list[tuple[str, StagedUpload]]:
    return [(photos.sign_staged(s, tenant.id, form_key), s) for s in staged]


def valid_key(value: str | None) -> str | None:
    return value if value and KEY_PATTERN.match(value) else None


def _stage_limit_hit(tenant, form_key: str) -> int | None:
    """Count this upload server-side (Redis; memory embedded), never in the browser's cookie,
    so a replayed cookie buys nothing: per client address (``STAGE_LIMIT_PER_ADDRESS``) and
    per form (three times the tenant's photos per complaint a day: enough to replace each
    photo twice). Returns the seconds to wait when either is used up."""
    per_form = f"{3 * int(tenant.setting('max_photos'))} per day"
    return (ratelimits.hit(current_app.config["STAGE_LIMIT_PER_ADDRESS"], "stage-address",
                           client_ip())
            or ratelimits.hit(per_form, "stage-form", str(tenant.id), form_key))


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
    wait = _stage_limit_hit(tenant, form_key)
    if wait is not None:
        file.close()
        response = jsonify(error=_("Too many photos were sent from here. Send the form with "
                                   "the photos already added, or try more later.")
                           + " " + ratelimits.wait_text(wait))
        response.headers["Retry-After"] = str(wait)
        return response, 429
    try:
        data, upload = photos.inspect_upload(tenant, file)
        photos.stage(tenant.id, data, upload)
    except photos.StorageDown as down:
        return jsonify(error=str(down.message)), 503
    except PhotoRefused as refused:
        return jsonify(error=str(refused.message)), 422
    finally:
        file.close()
    return jsonify(token=photos.sign_staged(upload, tenant.id, form_key), name=upload.filename,
                   size=upload.size)
