"""The 8D team and what it signs: D1 staff members with their roles (one leader, required
before the 8D goes to the customer), D8 each member's own sign-off, and sending the
customer-facing 8D — a PDF of the customer summary and the sections marked for the
customer — to the customer's portal when the customer asked for an 8D.

Every function checks its guard, writes the timeline, flushes, never commits."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ..events import announce
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, EightDMember, StaffUser, utcnow
from ..storage import StorageUnavailable, get_storage, tenant_key
from ..tenancy import active_tenant_id
from .eight_d import _required_report
from .permissions import FORBIDDEN, Refused, may_sign_off
from .timeline import record
from .vocabulary import EIGHT_D_ROLES

CHOOSE = _l("Choose a value from the list.")


def leader_of(report) -> EightDMember | None:
    return next((m for m in report.members if m.role == "leader"), None)


def add_member(complaint: Complaint, actor, *, staff_user_id: int, role: str,
               responsibility: str | None = None) -> EightDMember:
    """Put a staff member of the tenant on the team (or change their role); one leader."""
    report = _required_report(complaint, actor)
    if role not in EIGHT_D_ROLES:
        raise Refused("invalid", CHOOSE)
    person = db.session.get(StaffUser, staff_user_id)  # another tenant's id reads as None
    if person is None or not person.active:
        raise Refused("invalid", CHOOSE)
    member = next((m for m in report.members if m.staff_user_id == staff_user_id), None)
    leader = leader_of(report)
    if role == "leader" and leader is not None and leader is not member:
        raise Refused("leader_taken", _l(
            "The team already has a leader (%(name)s). Make them a member first.",
            name=leader.staff.name))
    if member is None:
        member = EightDMember(report_id=report.id, staff_user_id=staff_user_id,
                              added_at=utcnow())
        report.members.append(member)
    member.role = role
    member.responsibility = (responsibility or "").strip() or None
    member.signed_at = None  # a changed role signs again
    record(complaint, actor, "eight_d.member", message=person.name,
           data={"staff_user_id": person.id, "role": role})
    complaint.updated_at = utcnow()
    db.session.flush()
    return member


def remove_member(complaint: Complaint, actor, member: EightDMember) -> None:
    report = _required_report(complaint, actor)
    if member.report_id != report.id:
        raise Refused("invalid", CHOOSE)
    name = member.staff.name if member.staff else "?"
    report.members.remove(member)
    record(complaint, actor, "eight_d.member", message=name,
           data={"staff_user_id": member.staff_user_id, "role": None})
    complaint.updated_at = utcnow()
    db.session.flush()


def sign_off(complaint: Complaint, actor, member: EightDMember) -> EightDMember:
    """D8: a team member signs the 8D off, for themselves only, once D8 is written."""
    from .eight_d import report_of, section_of

    report = report_of(complaint)
    if report is None or member.report_id != report.id:
        raise Refused("invalid", CHOOSE)
    if not may_sign_off(actor, member):
        raise Refused("forbidden", FORBIDDEN)
    d8 = section_of(report, 8)
    if d8 is None or not d8.text:
        raise Refused("guard", _l("Write D8 (closure) before signing off."))
    if member.signed_at is None:
        member.signed_at = utcnow()
        record(complaint, actor, "eight_d.signed", data={"role": member.role})
        complaint.updated_at = utcnow()
        db.session.flush()
    return member


def send_to_customer(complaint: Complaint, actor) -> None:
    """Render the customer's 8D (summary and marked sections only), keep it in storage and
    show it on the customer's complaint page. Refused unless the customer asked for an 8D,
    the team has a leader and the summary is written. Sending again replaces the file."""
    from .exports import PDF_LABELS, customer_eight_d_pdf, pdf_context

    report = _required_report(complaint, actor)
    if not report.requested_by_customer:
        raise Refused("guard", _l("The customer did not ask for an 8D report."))
    if leader_of(report) is None:
        raise Refused("no_leader", _l("Name the team leader (D1) before sending the 8D."))
    if not (report.customer_summary or "").strip():
        raise Refused("guard", _l("Write the summary for the customer first."))
    data = customer_eight_d_pdf(pdf_context(complaint, PDF_LABELS))
    key = tenant_key(active_tenant_id(), "eight_d", str(complaint.id), uuid.uuid4().hex,
                     f"8D-{complaint.number}.pdf")
    try:
        get_storage().put(key, data, "application/pdf")
    except StorageUnavailable as exc:
        raise Refused("invalid", _l("Our file store is not answering just now. Nothing was "
                                    "sent; try again in a few minutes.")) from exc
    report.customer_pdf_key, report.sent_at, report.sent_by_id = key, utcnow(), actor.id
    record(complaint, actor, "eight_d.sent", customer_visible=True)
    complaint.updated_at = utcnow()
    db.session.flush()
    announce("eight_d_sent", complaint, actor)


def members_of(report) -> list[EightDMember]:
    """The team, leader first, with their staff rows loaded."""
    rows = db.session.scalars(select(EightDMember).where(EightDMember.report_id == report.id)
                              .order_by(EightDMember.id)).all()
    return sorted(rows, key=lambda m: (EIGHT_D_ROLES.index(m.role), m.id))
