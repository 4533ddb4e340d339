"""Photos: the complaint's photos (the customer's and those of on-site visits), and the route
that serves each variant after the tenant check."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from portal.extensions import db
from portal.models import Photo

from .. import blueprint
from .base import Case, fast_url, panel


def photo_url(photo: Photo, variant: str) -> str | None:
    if photo.status != "stored":
        return None
    key = photo.thumb_key if variant == "thumb" else (photo.large_key or photo.thumb_key)
    if not key:
        return None
    return fast_url("internal.photo", complaint_id=photo.complaint_id, photo_id=photo.id,
                    variant=variant)


@panel("photos", "#photos")
def context(case: Case, forms: dict) -> dict:
    return {"photos": [p for p in case.photos if p.status != "rejected"], "photo_url": photo_url}


@blueprint.get("/complaints/<int:complaint_id>/photos/<int:photo_id>/<variant>")
def photo(complaint_id: int, photo_id: int, variant: str):
    from portal.photos import VARIANTS, photo_response

    item = db.session.scalar(select(Photo).where(Photo.id == photo_id,
                                                 Photo.complaint_id == complaint_id))
    if item is None or variant not in VARIANTS:
        abort(404)
    return photo_response(item, variant)
