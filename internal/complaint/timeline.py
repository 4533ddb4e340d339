"""The timeline: the complaint's whole history, newest first (drawn when scrolled to)."""

from __future__ import annotations

from sqlalchemy import select

from portal.complaints import vocabulary
from portal.extensions import db
from portal.models import TimelineEvent

from .. import blueprint
from .base import Case, panel


@blueprint.app_template_global("event_label")
def event_label(kind: str) -> str:
    """How a timeline entry reads for staff (portal/complaints/vocabulary.py)."""
    return str(vocabulary.event_label(kind))


@panel("timeline", "#timeline", deferred="revealed")
def context(case: Case, forms: dict) -> dict:
    events = db.session.scalars(select(TimelineEvent)
                                .where(TimelineEvent.complaint_id == case.complaint.id)
                                .order_by(TimelineEvent.id.desc())).all()
    return {"events": events, "labels": case.labels}
