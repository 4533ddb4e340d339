"""Files that arrived by e-mail with a complaint (portal/mailin keeps them as evidence and
lists them on an ``email.files`` timeline entry): staff download them here."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from portal.extensions import db
from portal.models import TimelineEvent
from portal.storage import attachment_response

from . import blueprint


@blueprint.get("/complaints/<int:complaint_id>/mail-files/<int:event_id>/<int:index>")
def mail_file(complaint_id: int, event_id: int, index: int):
    event = db.session.scalar(select(TimelineEvent).where(
        TimelineEvent.id == event_id, TimelineEvent.complaint_id == complaint_id,
        TimelineEvent.kind == "email.files"))
    files = (event.data or {}).get("files") or [] if event is not None else []
    if not 0 <= index < len(files):
        abort(404)
    item = files[index]
    return attachment_response(item["key"], item["name"])
