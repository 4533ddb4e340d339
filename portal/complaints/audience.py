"""Who reads what: the one audience rule for everything written on a complaint.

Every timeline kind declares whether its entry is on the customer's timeline and whether its
text is; every free text a complaint's models hold declares who it is written for. Staff
texts are internal unless someone chose to show them ("the customer sees this" on the form,
stored as the entry's ``customer_text_visible``). ``timeline.record`` asks ``resolve()`` for
both flags, so no caller decides visibility on its own; the customer's page, e-mails, PDFs
and the API's customer scope read ``customer_events()`` / ``customer_text()`` only.
``tests/portal/test_audience.py`` fails on a timeline kind or a text column without an
audience here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db

CUSTOMER = "customer"  # always meant for the customer (a question, a reason, the answer)
INTERNAL = "internal"  # staff only, whatever anyone ticks
CHOSEN = "chosen"      # staff only unless someone chose "the customer sees this"
NONE = "none"          # the entry has no text

AUDIENCES = (CUSTOMER, INTERNAL, CHOSEN, NONE)


@dataclass(frozen=True)
class Rule:
    """``event``: CUSTOMER (the entry is on the customer's timeline), INTERNAL (never), CHOSEN
    (only when its text was chosen to be shown), or a predicate of the entry's data and
    whether its text was chosen to be shown. ``text``: the audience of the entry's message."""

    event: str | Callable[[dict, bool], bool]
    text: str


def _final_decision_or_shown(data: dict, shown: bool) -> bool:
    """An approval step: the customer sees the chain's final decision, and a step whose note
    someone chose to show them."""
    return shown or data.get("status") in ("approved", "refused")


_C, _I = Rule(CUSTOMER, CUSTOMER), Rule(INTERNAL, INTERNAL)
_SILENT_INTERNAL = Rule(INTERNAL, NONE)
_STEP = Rule(CUSTOMER, CHOSEN)  # a step the customer sees; its optional note only if chosen
_NOTE = Rule(CHOSEN, CHOSEN)    # staff's note: shown (entry and text) only if chosen

EVENTS: dict[str, Rule] = {
    # the workflow's transitions (workflow.TRANSITIONS)
    "transition.start_verification": _STEP,
    "transition.request_information": _C,  # the question
    "transition.provide_information": _C,  # the customer's own answer
    "transition.resume_verification": _I,
    "transition.accept": _STEP,
    "transition.reject": _C,  # the reason
    "transition.start_containment": _STEP,
    "transition.start_analysis": _STEP,
    "transition.start_corrective_action": _STEP,
    "transition.submit_for_verification": _STEP,
    "transition.not_effective": _I,
    "transition.answer": _C,
    "transition.customer_accept": _C,
    "transition.dispute": _C,  # the customer's own reason
    "transition.close": _STEP,
    "transition.reopen": _STEP,
    # intake
    "submitted": _C,
    "filed_by_staff": _SILENT_INTERNAL,
    "contact_linked": Rule(CUSTOMER, NONE),
    "email.reply": _C,
    "email.files": _SILENT_INTERNAL,
    # photos: a customer's refused photo is theirs to see (with the reason); a visit photo not
    "photo.rejected": Rule(CHOSEN, CUSTOMER),
    # verification
    "verification.checklist": _NOTE,
    "onsite.visit": _NOTE,
    "classified": _SILENT_INTERNAL,
    "problem.linked": _I,
    # actions: a containment measure shown to the customer carries its title
    "action.added": _NOTE,
    "action.done": _NOTE,
    "root_cause.recorded": _I,
    "effectiveness.verified": _I,
    # requests and their approvals: the customer sees a request and its final decision, the
    # notes only when chosen; the tracking number is for them
    "request.created": _STEP,
    "request.approval": Rule(_final_decision_or_shown, CHOSEN),
    "request.shipped": _C,
    "request.received": _STEP,
    "request.paid": _STEP,
    "cost.added": _I, "cost.corrected": _I, "cost.voided": _I,
    "serial.installed": _I,
    # a returned part's record (portal/returns/): the customer follows its steps (no text);
    # the analysis, the scrapping and the closing stay with staff
    "return.opened": Rule(CUSTOMER, NONE), "return.received": Rule(CUSTOMER, NONE),
    "return.appraised": Rule(CUSTOMER, NONE), "return.issued": Rule(CUSTOMER, NONE),
    "return.analysed": _I, "return.scrapped": _I, "return.closed": _I,
    # 8D: everything internal but the report's summary for the customer
    "eight_d.started": _SILENT_INTERNAL,
    "eight_d.section": _I,
    "eight_d.summary": _C,
    "eight_d.member": _I, "eight_d.signed": _I, "eight_d.containment_checked": _I,
    "eight_d.sent": Rule(CUSTOMER, NONE),  # the customer's PDF is on their page
    "effectiveness.recurrence_check": _I,
    # the house's own bookkeeping
    "report.opened": _I,
    "survey.scheduled": _SILENT_INTERNAL,
    "survey.answered": _SILENT_INTERNAL,
    "survey.low_score": _I,
    "deadline.warning": _I,
    "deadline.breached": _I,
    "deadline.escalated": _I,
    "supplier_request.opened": _I,
    "supplier_request.link_sent": _I,
    "supplier_request.link_revoked": _I,
    "supplier_request.answered": _I,
    "supplier_request.accepted": _I,
    "supplier_request.rejected": _I,
    "supplier_request.parts_delivered": _I,
    "supplier_request.charged_back": _I,
    "supplier_request.closed": _I,
    "supplier_request.overdue": _I,
}

# Every free text the complaint's records hold, by "Model.attribute": who it is written for.
# CHOSEN texts reach the customer only through an entry or a record someone marked shown
# (``TimelineEvent.customer_text_visible``, ``Action.customer_visible``).
TEXTS: dict[str, str] = {
    "Complaint.title": CUSTOMER, "Complaint.description": CUSTOMER,  # the customer's own
    "Complaint.rejection_reason": CUSTOMER, "Complaint.answer": CUSTOMER,
    "Complaint.root_cause": INTERNAL, "Complaint.effectiveness_note": INTERNAL,
    "TimelineEvent.message": "per kind: EVENTS",
    "Photo.rejection_reason": CUSTOMER,
    "Problem.analysis": INTERNAL, "Problem.title": INTERNAL,
    "Action.title": CHOSEN, "Action.description": CHOSEN,
    "Action.result": INTERNAL, "Action.verification_note": INTERNAL,
    "EightDReport.customer_summary": CUSTOMER, "EightDSection.text": INTERNAL,
    "ServiceRequest.note": CHOSEN, "ServiceRequest.tracking_number": CUSTOMER,
    "ApprovalStep.note": CHOSEN,
    "CostEntry.note": INTERNAL, "CostEntry.state_reason": INTERNAL,
    "EffectivenessCheck.note": INTERNAL, "EffectivenessCheck.follow_up_note": INTERNAL,
    # a returned part's record: the customer sees its steps and the verdict's customer words
    "GoodsReturn.receipt_note": INTERNAL, "GoodsReturn.analysis": INTERNAL,
    "GoodsReturn.appraisal": INTERNAL, "GoodsReturn.issue_note": INTERNAL,
    "EscalationReport.body": INTERNAL, "EscalationReportEvent.message": INTERNAL,
    "SupplierRequest.defect": INTERNAL, "SupplierRequest.containment": INTERNAL,
    "SupplierRequest.root_cause": INTERNAL, "SupplierRequest.corrective_action": INTERNAL,
    "SupplierRequest.decision_reason": INTERNAL,
    "Survey.comments": CUSTOMER,  # the customer's own
    "DeadlineClock.stop_reason": INTERNAL,
}


def rule(kind: str) -> Rule:
    """The kind's rule; a kind nobody declared is internal (and fails the audience test)."""
    return EVENTS.get(kind, _I)


def resolve(kind: str, data: dict | None, shown: bool) -> tuple[bool, bool]:
    """(entry on the customer's timeline, its text shown to the customer) for an entry of
    ``kind`` whose text someone chose to show (``shown``) or not."""
    r = rule(kind)
    text = r.text == CUSTOMER or (r.text == CHOSEN and shown)
    if callable(r.event):
        event = r.event(data or {}, shown)
    else:
        event = r.event == CUSTOMER or (r.event == CHOSEN and shown)
    return event, event and text


def may_choose(kind: str) -> bool:
    """Whether a form writing an entry of ``kind`` offers "the customer sees this"."""
    return rule(kind).text == CHOSEN


def customer_text(event) -> str | None:
    """The entry's text as the customer may read it (None when it is not for them)."""
    if not event.customer_visible or not event.customer_text_visible:
        return None
    from .vocabulary import event_text

    return event_text(event)


def customer_events(complaint_id: int) -> list:
    """The complaint's timeline as the customer sees it, oldest first."""
    from ..models import TimelineEvent

    return list(db.session.scalars(
        select(TimelineEvent).where(TimelineEvent.complaint_id == complaint_id,
                                    TimelineEvent.customer_visible.is_(True))
        .order_by(TimelineEvent.created_at, TimelineEvent.id)))
