"""Casework operations on a complaint besides status changes: the verification checklist,
on-site visits, failure modes, problems, tracked actions, the root cause, the effectiveness
verdict, and staff filing on a customer's behalf or for production.

Every function checks its guard (permissions.require, raising Refused), writes the
timeline, bumps the complaint's version (so an editor holding an older page is told) and
flushes. None commits.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

from sqlalchemy import func, select

from .. import evidence
from ..events import announce
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import (
    Action,
    Complaint,
    FailureMode,
    Problem,
    ProductModel,
    StaffUser,
    utcnow,
)
from ..storage import StorageUnavailable, get_storage, tenant_key
from ..tenancy import active_tenant_id
from . import serials as serial_rules
from . import workflow
from .operations import changed, next_counter_value, submit_complaint
from .permissions import FORBIDDEN, NOT_NOW, Refused, check_version, require
from .timeline import record

MAX_CONTAINMENT = 3
EVIDENCE_MAX_BYTES = 20 * 1024 * 1024

# What verification checks before judging validity (DOMAIN.md: required at intake).
CHECKLIST = {
    "customer": _l("Customer and contact identified"),
    "product": _l("Product model / specification"),
    "shipping": _l("Shipping date or lot"),
    "description": _l("Description of the problem"),
    "quantity": _l("Quantity of defective units"),
    "serials": _l("Machine serial numbers"),
    "photos": _l("Photos of the problem machine"),
}


def touch(complaint: Complaint) -> None:
    """Mark the complaint changed: its version goes up at flush (optimistic locking)."""
    complaint.updated_at = utcnow()


def checklist_state(complaint: Complaint, confirmed: dict | None = None) -> list[dict]:
    """Each checklist item with whether the intake data has it and whether staff confirmed it."""
    present = {
        "customer": bool(complaint.customer_company_id or complaint.reporter_company
                         or complaint.reporter_name),
        "product": bool(complaint.product_model_id or complaint.specification),
        "shipping": bool(complaint.shipped_on or complaint.lot),
        "description": bool((complaint.description or "").strip()),
        "quantity": bool(complaint.defect_quantity),
        "serials": bool(complaint.serial_numbers),
        "photos": bool(complaint.photos),
    }
    confirmed = confirmed or {}
    return [{"key": key, "label": label, "present": present[key],
             "confirmed": bool(confirmed.get(key))} for key, label in CHECKLIST.items()]


def save_checklist(complaint: Complaint, actor, *, confirmed: list[str], note: str | None,
                   expected_version, shown: bool = False) -> dict:
    """Record which checklist items verification confirmed (with a note) on the timeline."""
    require(actor, "verify", complaint)
    check_version(complaint, expected_version)
    items = {key: key in confirmed for key in CHECKLIST}
    record(complaint, actor, "verification.checklist", message=(note or "").strip() or None,
           data={"items": items}, shown=shown)
    touch(complaint)
    db.session.flush()
    return items


def record_onsite_visit(complaint: Complaint, actor, *, visited_on: date, visitor: str,
                        notes: str, files=(), shown: bool = False) -> object:
    """Record an on-site visit (who went, when, what was found) and its photos."""
    require(actor, "verify", complaint)
    event = record(complaint, actor, "onsite.visit", message=notes.strip(),
                   data={"visited_on": visited_on.isoformat(), "visitor": visitor.strip()},
                   shown=shown)
    db.session.flush()
    attached = [store_visit_photo(complaint, actor, event, f) for f in files if f]
    if attached:
        event.data = {**event.data, "photos": len(attached)}
    touch(complaint)
    db.session.flush()
    return event


def store_visit_photo(complaint: Complaint, actor, event, upload):
    """Hand a visit photo to the photo pipeline (portal.photos: checked, staged, processed into
    thumbnails by a job, linked to the visit's timeline entry, staff-only)."""
    from .. import photos

    try:
        photo = photos.accept_upload(complaint, upload, actor, event=event)
    except photos.PhotoRefused as refused:
        raise Refused("invalid", refused.message) from refused
    photo.customer_visible = False
    return photo


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def store_evidence(complaint: Complaint, upload) -> dict:
    """Keep an uploaded evidence file in storage; return its description for ``evidence``."""
    data = upload.read(EVIDENCE_MAX_BYTES + 1)
    if len(data) > EVIDENCE_MAX_BYTES:
        raise Refused("invalid", _l("A file is larger than 20 MB."))
    name = (upload.filename or "file").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:120]
    safe = _SAFE_NAME.sub("_", name).strip("._") or "file"
    key = tenant_key(active_tenant_id(), "evidence", str(complaint.id), uuid.uuid4().hex, safe)
    try:  # the kind by its bytes, from an allow-list; the declared type is not kept
        content_type = evidence.content_type_of(name, data)
        get_storage().put(key, data, content_type)
    except evidence.EvidenceRefused as refused:
        raise Refused("invalid", refused.message) from refused
    except StorageUnavailable as exc:
        raise Refused("invalid", _l("%(name)s could not be stored: our file store is "
                                    "not answering just now. Nothing was saved; try "
                                    "again in a few minutes.", name=name)) from exc
    return {"key": key, "name": name, "content_type": content_type, "size": len(data)}


# -- failure modes and problems --------------------------------------------------------------

def add_failure_mode(actor, *, code: str, name_zh: str, name_en: str,
                     severe: bool = False) -> FailureMode:
    require(actor, "failure_modes")
    code = code.strip().lower()
    if db.session.scalar(select(FailureMode.id).where(FailureMode.code == code)):
        raise Refused("duplicate", _l("This code is already in the list."))
    mode = FailureMode(code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), severe=severe)
    db.session.add(mode)
    db.session.flush()
    return mode


def link_problem(complaint: Complaint, actor, problem: Problem) -> None:
    require(actor, "problem", complaint)
    old = complaint.problem_id
    complaint.problem_id = problem.id
    record(complaint, actor, "problem.linked", message=f"{problem.number} {problem.title}",
           data={"problem_id": problem.id, "previous": old})
    touch(complaint)
    db.session.flush()


def create_problem(complaint: Complaint, actor, *, title: str,
                   analysis: str | None = None) -> Problem:
    """Start a problem (a failure mechanism) from this complaint and link the complaint."""
    require(actor, "problem", complaint)
    number = f"PB-{next_counter_value('problem'):05d}"
    problem = Problem(number=number, title=title.strip(), analysis=(analysis or "").strip() or None,
                      product_model_id=complaint.product_model_id,
                      failure_mode_id=complaint.failure_mode_id, owner_id=actor.id)
    db.session.add(problem)
    db.session.flush()
    link_problem(complaint, actor, problem)
    return problem


# -- tracked actions -------------------------------------------------------------------------

ACTION_ABILITY = {"containment": "containment", "corrective": "corrective",
                  "preventive": "corrective"}


def add_action(complaint: Complaint, actor, *, kind: str, title: str,
               description: str | None = None, owner_id: int | None = None,
               due_at: datetime | None = None, customer_sees: bool = False) -> Action:
    """Add a containment, corrective or preventive action with its owner and due time; a
    containment measure is on the customer's page when someone chose so (``customer_sees``)."""
    if kind not in ACTION_ABILITY:
        raise Refused("invalid", _l("Choose a value from the list."))
    require(actor, ACTION_ABILITY[kind], complaint)
    if kind == "containment":
        count = db.session.scalar(select(func.count(Action.id)).where(
            Action.complaint_id == complaint.id, Action.kind == "containment"))
        if count >= MAX_CONTAINMENT:
            raise Refused("too_many", _l("At most three containment measures."))
    if owner_id is not None and db.session.get(StaffUser, owner_id) is None:
        raise Refused("invalid", _l("Choose a value from the list."))
    action = Action(complaint_id=complaint.id, problem_id=complaint.problem_id, kind=kind,
                    title=title.strip(), description=(description or "").strip() or None,
                    owner_id=owner_id, due_at=due_at,
                    customer_visible=customer_sees and kind == "containment")
    db.session.add(action)
    db.session.flush()
    record(complaint, actor, "action.added", message=action.title,
           data={"action_id": action.id, "kind": kind, "owner_id": owner_id,
                 "due_at": due_at.isoformat() if due_at else None},
           shown=action.customer_visible)
    touch(complaint)
    changed(complaint, "actions")
    announce("containment_added" if kind == "containment" else "action_added", complaint, actor,
             action_id=action.id, kind=kind, owner_id=owner_id)
    return action


def may_complete(action: Action, actor, complaint: Complaint | None = None) -> bool:
    """The action's owner, whoever may add such actions, and (given the complaint) the
    complaint's owner and responsible department may update and finish it."""
    from .permissions import ROUTED_ABILITIES, may, routed_to

    if getattr(actor, "kind", None) != "staff":
        return False
    ability = ACTION_ABILITY.get(action.kind, "corrective")
    return action.owner_id == actor.id or may(actor, ability) or (
        ability in ROUTED_ABILITIES and routed_to(actor, complaint))


def complete_action(complaint: Complaint, action: Action, actor, *, result: str,
                    files=()) -> Action:
    """Mark an action done with its result and evidence files."""
    if not may_complete(action, actor, complaint):
        raise Refused("forbidden", FORBIDDEN)
    if complaint.status in ("closed", "rejected"):
        raise Refused("not_from_status", NOT_NOW)
    if action.done_at is not None:
        raise Refused("done", _l("This action is already done."))
    evidence = [store_evidence(complaint, f) for f in files if f and f.filename]
    action.done_at = utcnow()
    action.result = result.strip()
    action.evidence = [*(action.evidence or []), *evidence]
    record(complaint, actor, "action.done", message=action.title,
           data={"action_id": action.id, "kind": action.kind, "result": action.result,
                 "evidence": [e["name"] for e in evidence]}, shown=action.customer_visible)
    touch(complaint)
    changed(complaint, "actions")
    announce("action_done", complaint, actor, action_id=action.id, kind=action.kind)
    return action


# -- analysis and verification ---------------------------------------------------------------

FIVE_M_ONE_E = ("man", "machine", "material", "method", "measurement", "environment")


def record_root_cause(complaint: Complaint, actor, *, text: str, whys: list[str],
                      factors: list[dict], expected_version) -> None:
    """Record the root cause with its 5-Why chain and 5M1E entries. When the complaint has an
    8D report, its D4 section carries the same content."""
    require(actor, "root_cause", complaint)
    check_version(complaint, expected_version)
    whys = [w.strip() for w in whys if w and w.strip()][:5]
    factors = [{"category": f["category"], "text": f["text"].strip()} for f in factors
               if f.get("category") in FIVE_M_ONE_E and (f.get("text") or "").strip()]
    complaint.root_cause = text.strip()
    record(complaint, actor, "root_cause.recorded", message=complaint.root_cause,
           data={"whys": whys, "factors": factors})
    from .eight_d import report_of, write_section

    report = report_of(complaint)
    if report is not None:
        write_section(report, actor, 4, text=complaint.root_cause,
                      content={"whys": whys, "factors": factors})
    touch(complaint)
    db.session.flush()


def verify_effectiveness(complaint: Complaint, actor, *, effective: bool, note: str,
                         expected_version) -> None:
    """Quality's verdict: effective (the answer may go out) or not (back to analysis)."""
    require(actor, "effectiveness", complaint)
    check_version(complaint, expected_version)
    note = (note or "").strip()
    if not effective:
        workflow.transition(complaint, actor, "not_effective", note)
        db.session.flush()
        return
    complaint.effective = True
    complaint.effectiveness_note = note or None
    record(complaint, actor, "effectiveness.verified", message=note or None,
           data={"effective": True})
    touch(complaint)
    db.session.flush()
    announce("effectiveness_verified", complaint, actor, effective=True)


def transition(complaint: Complaint, actor, name: str, message: str | None,
               expected_version, shown: bool = False) -> None:
    """A workflow transition from a form that showed ``expected_version``. Who may make it
    is checked before the version, so a refused role is told so, not that the page is old."""
    t = workflow.find(name, complaint.status)
    if t is not None and not workflow.can(complaint, actor, name):
        raise Refused("forbidden", FORBIDDEN)
    check_version(complaint, expected_version)
    workflow.transition(complaint, actor, name, message, shown=shown)
    db.session.flush()


# -- filing by staff -------------------------------------------------------------------------

def file_complaint(tenant, actor, *, data: dict, serials: list[str] | str,
                   submission_key: str | None = None) -> tuple[Complaint, bool]:
    """Staff file a complaint on a customer's behalf (phone, e-mail, visit) or record a
    production exception (source "production"). Same fields and rules as the portal: the
    serial numbers are parsed, normalised and checked against the model's or tenant's format
    by serials.py (a bad one is refused), and matched to the model's shipments."""
    production = data.get("source") == "production"
    require(actor, "production" if production else "file")
    data = {**data, "source": "production" if production else "staff"}
    values = _checked_serials(tenant, data.get("product_model_id"), serials)
    model_id = data.get("product_model_id")
    serial_rows = []
    for value in values:
        shipment = serial_rules.find_shipment(value, model_id) if model_id else None
        serial_rows.append({"value": value, "shipment_id": shipment.id if shipment else None})
    complaint, created = submit_complaint(tenant, actor, data=data, serials=serial_rows,
                                          submission_key=submission_key)
    if created:
        record(complaint, actor, "filed_by_staff", data={"channel": complaint.channel})
        db.session.flush()
    return complaint, created


def _checked_serials(tenant, product_model_id: int | None, given: list[str] | str) -> list[str]:
    """The serial numbers as the portal would take them, or Refused("serials", why)."""
    text = given if isinstance(given, str) else "\n".join(given or ())
    values, _duplicates = serial_rules.parse(text)
    if len(values) > serial_rules.MAX_SERIALS:
        raise Refused("serials", _l("At most %(max)d serial numbers per complaint; file the rest separately.",
                                    max=serial_rules.MAX_SERIALS))
    product = db.session.get(ProductModel, product_model_id) if product_model_id else None
    errors = serial_rules.format_errors(tenant, product, values)
    if errors:
        raise Refused("serials", errors[0])
    return values
