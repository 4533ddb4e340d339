"""The timeline: the complaint's whole history, newest first (drawn when scrolled to)."""

from __future__ import annotations

from sqlalchemy import select

from portal.complaints import workflow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import TimelineEvent

from .. import blueprint
from .base import Case, panel

EVENT_LABELS = {
    "submitted": _l("Complaint received"),
    "filed_by_staff": _l("Recorded by staff"),
    "classified": _l("Classified"),
    "verification.checklist": _l("Verification checklist saved"),
    "onsite.visit": _l("On-site visit recorded"),
    "problem.linked": _l("Linked to a problem"),
    "action.added": _l("Action added"),
    "action.done": _l("Action done"),
    "root_cause.recorded": _l("Root cause recorded"),
    "effectiveness.verified": _l("Actions verified effective"),
    "request.created": _l("Request created"),
    "request.approval": _l("Approval signed"),
    "request.shipped": _l("Goods shipped"),
    "request.received": _l("Returned goods received"),
    "request.paid": _l("Claim paid"),
    "cost.added": _l("Cost recorded"),
    "eight_d.started": _l("8D report started"),
    "eight_d.section": _l("8D section written"),
    "eight_d.summary": _l("8D summary for the customer"),
    "contact_linked": _l("Linked to the customer's account"),
    "photo.rejected": _l("Photo refused"),
    "report.opened": _l("Escalation report opened"),
    "survey.scheduled": _l("Satisfaction survey scheduled"),
    "survey.answered": _l("Satisfaction survey answered"),
    "survey.low_score": _l("Low satisfaction score: follow-up opened"),
    "deadline.warning": _l("Deadline near: owner warned"),
    "deadline.breached": _l("Deadline missed: escalated"),
    "deadline.escalated": _l("Deadline missed: escalated again"),
}


@blueprint.app_template_global("event_label")
def event_label(kind: str) -> str:
    if kind.startswith("transition."):
        name = kind.split(".", 1)[1]
        found = next((t for t in workflow.TRANSITIONS if t.name == name), None)
        if found is not None:
            return str(found.label)
    label = EVENT_LABELS.get(kind)
    return str(label) if label else kind.replace("_", " ").replace(".", ": ")


@panel("timeline", "#timeline", deferred="revealed")
def context(case: Case, forms: dict) -> dict:
    events = db.session.scalars(select(TimelineEvent)
                                .where(TimelineEvent.complaint_id == case.complaint.id)
                                .order_by(TimelineEvent.id.desc())).all()
    return {"events": events, "labels": case.labels}
