"""What a contact may see: the complaints of their own company, and what the portal shows of
each (the customer-visible timeline, containment, promised times)."""

from __future__ import annotations

from flask import abort
from sqlalchemy import func, or_, select

from portal.complaints import audience, vocabulary
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Action,
    Complaint,
    Photo,
    ProductModel,
    SerialNumber,
    ServiceRequest,
    TimelineEvent,
)

# Status filter of "My complaints": groups people think in, then every single state.
STATUS_GROUPS = {
    "needs_you": ("waiting_customer", "answered"),
    "open": ("received", "verifying", "waiting_customer", "accepted", "containment", "analysis",
             "corrective_action", "verifying_effectiveness", "answered"),
    "done": ("closed", "rejected"),
}
STATUS_GROUP_LABELS = {
    "needs_you": _l("Waiting for you"),
    "open": _l("Open"),
    "done": _l("Closed or not accepted"),
}
PAGE_SIZE = 30


def company_complaints(contact):
    """The select of complaints ``contact`` may see: those of their company, nobody else's."""
    return select(Complaint).where(Complaint.customer_company_id == contact.company_id)


def visible_complaint_or_404(contact, number: str) -> Complaint:
    complaint = db.session.scalar(company_complaints(contact).where(Complaint.number == number))
    if complaint is None:
        abort(404)
    return complaint


def search_complaints(contact, q: str | None, status: str | None, page: int):
    """(complaints, has_more) for the list page, newest first."""
    statement = company_complaints(contact)
    if status in STATUS_GROUPS:
        statement = statement.where(Complaint.status.in_(STATUS_GROUPS[status]))
    elif status:
        statement = statement.where(Complaint.status == status)
    q = (q or "").strip()[:100]
    if q:
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        serial_hit = select(SerialNumber.complaint_id).where(
            func.lower(SerialNumber.value).like(like, escape="\\"))
        model_hit = select(ProductModel.id).where(or_(
            func.lower(ProductModel.code).like(like, escape="\\"),
            func.lower(ProductModel.name_zh).like(like, escape="\\"),
            func.lower(ProductModel.name_en).like(like, escape="\\")))
        statement = statement.where(or_(
            func.lower(Complaint.number).like(like, escape="\\"),
            func.lower(Complaint.title).like(like, escape="\\"),
            func.lower(Complaint.description).like(like, escape="\\"),
            Complaint.id.in_(serial_hit), Complaint.product_model_id.in_(model_hit)))
    rows = list(db.session.scalars(
        statement.order_by(Complaint.created_at.desc(), Complaint.id.desc())
        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def next_promises(complaints) -> dict[int, object]:
    """The next open promise (a deadline's due time) of each complaint, from the deadline
    engine."""
    from portal.deadlines import next_promise

    found = {}
    for complaint in complaints:
        promise = next_promise(complaint)
        if promise is not None:
            found[complaint.id] = promise.due_at
    return found


def event_label(event: TimelineEvent):
    """How a timeline entry reads for the customer (the vocabulary's customer words)."""
    return vocabulary.event_label(event.kind, customer=True)


def customer_timeline(complaint: Complaint) -> list[TimelineEvent]:
    """The entries the audience rule shows the customer (their texts: ``customer_text``)."""
    return audience.customer_events(complaint.id)


def customer_photos(complaint: Complaint) -> list[Photo]:
    return list(db.session.scalars(
        select(Photo).where(Photo.complaint_id == complaint.id,
                            Photo.customer_visible.is_(True)).order_by(Photo.id)))


def visible_photo_or_404(complaint: Complaint, photo_id: int) -> Photo:
    photo = db.session.scalar(select(Photo).where(
        Photo.id == photo_id, Photo.complaint_id == complaint.id,
        Photo.customer_visible.is_(True)))
    if photo is None:
        abort(404)
    return photo


def containment_actions(complaint: Complaint) -> list[Action]:
    return list(db.session.scalars(
        select(Action).where(Action.complaint_id == complaint.id, Action.kind == "containment",
                             Action.customer_visible.is_(True))
        .order_by(Action.id)))


def service_requests(complaint: Complaint) -> list[ServiceRequest]:
    """What the customer's demands became (replacement, return, claim, on-site service…),
    each with whether it is chargeable (asked for out of warranty)."""
    return list(db.session.scalars(
        select(ServiceRequest).where(ServiceRequest.complaint_id == complaint.id)
        .order_by(ServiceRequest.id)))


def latest_question(complaint: Complaint) -> TimelineEvent | None:
    return db.session.scalar(
        select(TimelineEvent).where(TimelineEvent.complaint_id == complaint.id,
                                    TimelineEvent.kind == "transition.request_information")
        .order_by(TimelineEvent.id.desc()).limit(1))


def sent_eight_d(complaint: Complaint):
    """The 8D report sent to this complaint's customer (its PDF's storage key set), or None."""
    from portal.models import EightDReport

    return db.session.scalar(select(EightDReport).where(
        EightDReport.complaint_id == complaint.id, EightDReport.customer_pdf_key.is_not(None)))
