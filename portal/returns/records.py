"""The return as a record: its RMA number, logistics' receipt into quarantine, after-sales'
first analysis and grade, closing it, and what the complaint's workflow and the customer's
page ask of it. The appraisal and the good parts issued are ``appraisal.py``'s.

Every step checks ``permissions.require`` (raises ``Refused``), validates what was typed
(``Refused`` with the field's name as code), is signed with the user and the time, writes the
timeline (the customer's part without internal notes), moves the return's deadline clocks and
flushes; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..complaints.operations import next_counter_value
from ..complaints.permissions import NOT_NOW, Refused, require
from ..complaints.timeline import record
from ..complaints.vocabulary import RETURN_CONDITIONS, RETURN_GRADES
from ..events import announce
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, GoodsReturn, ServiceRequest, Tenant, utcnow
from . import clocks

KINDS = ("return", "exchange")
TEXT_LIMIT = 4000
QUANTITY_LIMIT = 1_000_000


def text(value: str | None, field: str, limit: int = TEXT_LIMIT,
         required: bool = True) -> str | None:
    """The typed text stripped; Refused (code ``field``) when missing or too long."""
    value = (value or "").strip()
    if not value:
        if required:
            raise Refused(field, _l("This field is required."))
        return None
    if len(value) > limit:
        raise Refused(field, _l("At most %(max)d characters.", max=limit))
    return value


def quantity(value, field: str, high: int, low: int = 1) -> int:
    """A whole number between ``low`` and ``high``; Refused (code ``field``) otherwise."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Refused(field, _l("Enter a whole number from %(low)d to %(high)d.",
                                low=low, high=high))
    return value


def choice(value, allowed, field: str) -> str:
    if value not in allowed:
        raise Refused(field, _l("Choose a value from the list."))
    return value


def _local_today(tenant_id: int) -> date:
    tenant = db.session.get(Tenant, tenant_id)
    return datetime.now(ZoneInfo(tenant.timezone)).date()


def touch(complaint: Complaint) -> None:
    complaint.updated_at = utcnow()
    db.session.flush()


def open_for_request(complaint: Complaint, request: ServiceRequest, actor) -> GoodsReturn:
    """A return or exchange request's record with its RMA number (the tenant's own sequence
    per year), and the clock for the goods to arrive. Called by requests.create_request."""
    now = utcnow()
    number = f"RMA-{now.year}-{next_counter_value(f'rma-{now.year}'):05d}"
    ret = GoodsReturn(rma_number=number, complaint_id=complaint.id, request_id=request.id,
                      kind=request.kind, quantity_requested=request.quantity or 1)
    db.session.add(ret)
    db.session.flush()
    record(complaint, actor, "return.opened", customer_visible=True,
           data={"return_id": ret.id, "rma": number, "quantity": ret.quantity_requested})
    clocks.start(complaint, ret, "return_receipt")
    return ret


def on_request_refused(request: ServiceRequest) -> None:
    """The approval chain refused the return: nothing will arrive, its clocks stop."""
    ret = db.session.scalar(select(GoodsReturn).where(GoodsReturn.request_id == request.id))
    if ret is not None:
        clocks.stop(ret, None, "refused")


def returns_of(complaint_id: int) -> list[GoodsReturn]:
    return list(db.session.scalars(select(GoodsReturn).where(
        GoodsReturn.complaint_id == complaint_id).order_by(GoodsReturn.id)))


def return_of(complaint_id: int, return_id: int) -> GoodsReturn | None:
    """The complaint's return ``return_id`` (None when it is not this complaint's)."""
    return db.session.scalar(select(GoodsReturn).where(
        GoodsReturn.id == return_id, GoodsReturn.complaint_id == complaint_id))


def for_supplier_request(scar_id: int) -> GoodsReturn | None:
    """The appraised return a supplier request was opened from (None if opened by hand)."""
    return db.session.scalar(select(GoodsReturn).where(
        GoodsReturn.supplier_request_id == scar_id))


def waiting_on(user):
    """A select of the returns whose next step is one ``user``'s roles may sign (the
    permission table's abilities): goods to receive, to analyse, to appraise, good parts to
    issue. For the user's "My work"."""
    from sqlalchemy import and_, false, or_

    from ..complaints.permissions import ABILITIES

    def holds(ability: str) -> bool:
        return bool(set(user.roles or ()) & ABILITIES[ability][0])

    waiting = []
    if holds("return_receive"):
        waiting.append(and_(GoodsReturn.state == "awaiting_goods", or_(
            and_(GoodsReturn.kind == "return", ServiceRequest.status == "approved"),
            and_(GoodsReturn.kind == "exchange", ServiceRequest.status.in_(("open", "shipped"))))))
    if holds("return_analyse"):
        waiting.append(GoodsReturn.state == "received")
    if holds("return_appraise"):
        waiting.append(GoodsReturn.state == "analysed")
    if holds("return_issue"):
        waiting.append(and_(GoodsReturn.state == "appraised",
                            GoodsReturn.verdict == "quality_problem"))
    return (select(GoodsReturn.id)
            .join(ServiceRequest, ServiceRequest.id == GoodsReturn.request_id)
            .where(or_(*waiting) if waiting else false()))


def refused(ret: GoodsReturn) -> bool:
    return ret.request is not None and ret.request.status == "refused"


def may_receive_now(ret: GoodsReturn) -> bool:
    """The goods may come in: a return once its approval chain has approved it, an exchange
    at once."""
    if ret.state != "awaiting_goods" or ret.request is None:
        return False
    if ret.kind == "return":
        return ret.request.status == "approved"
    return ret.request.status in ("open", "shipped")


def receive(complaint: Complaint, ret: GoodsReturn, actor, *, quantity_received,
            received_on: date | None, condition: str | None, location: str | None,
            tag: str | None, note: str | None = None) -> None:
    """Logistics receives the goods into the warehouse's quarantine: how many, when, in what
    condition, where they lie and the quarantine tag's number."""
    require(actor, "return_receive", complaint)
    if not may_receive_now(ret):
        raise Refused("not_from_status", NOT_NOW)
    count = quantity(quantity_received, "quantity_received", ret.quantity_requested)
    if received_on is None:
        raise Refused("received_on", _l("Enter the date the goods arrived."))
    if received_on > _local_today(ret.tenant_id):
        raise Refused("received_on", _l("The date cannot be in the future."))
    values = (choice(condition, RETURN_CONDITIONS, "condition"),
              text(location, "warehouse_location", 80), text(tag, "quarantine_tag", 40),
              text(note, "note", required=False))  # all checked before anything is written
    ret.quantity_received, ret.received_on = count, received_on
    ret.condition, ret.warehouse_location, ret.quarantine_tag, ret.receipt_note = values
    ret.received_by_id, ret.received_at = actor.id, utcnow()
    ret.state = "received"
    if ret.kind == "return":
        ret.request.status = "received"
    record(complaint, actor, "return.received", customer_visible=True,
           data={"return_id": ret.id, "rma": ret.rma_number, "quantity": count})
    clocks.stop(ret, "return_receipt", "received")
    clocks.start(complaint, ret, "return_analysis")
    touch(complaint)
    announce("return_received", complaint, actor, return_id=ret.id, rma=ret.rma_number,
             quantity=count)


def analyse(complaint: Complaint, ret: GoodsReturn, actor, *, analysis: str | None,
            grade: str | None) -> None:
    """After-sales' first analysis of what came back, and its grade (分档)."""
    require(actor, "return_analyse", complaint)
    if ret.state != "received":
        raise Refused("not_from_status", NOT_NOW)
    ret.analysis, ret.grade = text(analysis, "analysis"), choice(grade, RETURN_GRADES, "grade")
    ret.analysed_by_id, ret.analysed_at = actor.id, utcnow()
    ret.state = "analysed"
    record(complaint, actor, "return.analysed", message=ret.analysis,
           data={"return_id": ret.id, "rma": ret.rma_number, "grade": ret.grade})
    clocks.stop(ret, "return_analysis", "analysed")
    clocks.start(complaint, ret, "return_appraisal")
    touch(complaint)


def close_return(complaint: Complaint, ret: GoodsReturn, actor) -> None:
    """Close the return: refused clearly while it has no appraisal."""
    require(actor, "return_close", complaint)
    if ret.state == "closed":
        raise Refused("not_from_status", NOT_NOW)
    if ret.appraised_at is None:
        raise Refused("guard", _l("This return has no appraisal yet: quality must appraise "
                                  "the returned goods before it can be closed."))
    ret.state = "closed"
    ret.closed_by_id, ret.closed_at = actor.id, utcnow()
    record(complaint, actor, "return.closed", data={"return_id": ret.id, "rma": ret.rma_number})
    clocks.stop(ret, None, "closed")
    touch(complaint)


def unappraised_guard(complaint: Complaint):
    """The workflow's guard on closing a complaint: every return that was not refused has its
    appraisal (a message naming the first that has none, else None)."""
    for ret in returns_of(complaint.id):
        if ret.appraised_at is None and not refused(ret):
            return _l("A returned part of this complaint (%(rma)s) is still waiting for "
                      "quality's appraisal; the complaint can be closed once it is appraised.",
                      rma=ret.rma_number)
    return None


@dataclass
class CustomerReturn:
    """What the customer's page shows of a return: no analysis, note or internal name."""

    rma_number: str
    state: str
    quantity_requested: int
    quantity_received: int | None
    received_on: date | None
    verdict: str | None
    issued_quantity: int | None
    issued_at: datetime | None


def for_customer(complaint_id: int) -> list[CustomerReturn]:
    return [CustomerReturn(r.rma_number, r.state, r.quantity_requested, r.quantity_received,
                           r.received_on, r.verdict, r.issued_quantity, r.issued_at)
            for r in returns_of(complaint_id) if not refused(r)]
