"""What waits on one staff user: the approvals whose next signature is theirs, the measures
and actions they own (by due time), the open complaints they own (by next deadline), and the
verifications of effectiveness (quality). Four statements for the page, one for the header's
count; never a query per row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, exists, func, literal, select, text
from sqlalchemy.orm import aliased

from .extensions import db
from .models import Action, ApprovalStep, Complaint, DeadlineClock, ServiceRequest
from .models.complaint import OPEN_STATUSES

VERIFIERS = ("quality",)


@dataclass
class MyWork:
    approvals: list = field(default_factory=list)  # (ApprovalStep, ServiceRequest, Complaint)
    actions: list = field(default_factory=list)  # Action with .complaint-less title
    owned: list = field(default_factory=list)  # (Complaint, next due or None)
    verifications: list = field(default_factory=list)  # Complaint

    @property
    def total(self) -> int:
        return len(self.approvals) + len(self.actions) + len(self.owned) + \
            len(self.verifications)


def _my_steps(user):
    """Approval steps that are their request's next step, of one of ``user``'s roles, on a
    request ``user`` did not sign before (the same person may not sign twice)."""
    earlier, signed = aliased(ApprovalStep), aliased(ApprovalStep)
    roles = list(user.roles or ()) or ["-"]
    return (select(ApprovalStep.id)
            .join(ServiceRequest, ServiceRequest.id == ApprovalStep.request_id)
            .where(ServiceRequest.status == "pending_approval", ApprovalStep.decision.is_(None),
                   ApprovalStep.role.in_(roles),
                   ~exists().where(earlier.request_id == ApprovalStep.request_id,
                                   earlier.position < ApprovalStep.position,
                                   earlier.decision.is_(None)),
                   ~exists().where(signed.request_id == ApprovalStep.request_id,
                                   signed.decided_by_id == user.id)))


def _my_actions(user):
    return select(Action.id).where(Action.owner_id == user.id, Action.done_at.is_(None))


def _my_complaints(user):
    return select(Complaint.id).where(Complaint.owner_id == user.id,
                                      Complaint.status.in_(OPEN_STATUSES))


def _to_verify(user):
    if not user.has_role(*VERIFIERS):
        return select(Complaint.id).where(literal(False))
    return select(Complaint.id).where(Complaint.status == "verifying_effectiveness")


# The header's count on every workspace page: the four lists' conditions (above) written once
# as SQL text with the tenant in every part, so a page pays one statement without building and
# scoping four ORM subqueries (that was a quarter of the queue page's instructions).
_COUNT = text(
    "SELECT (SELECT count(*) FROM approval_steps s JOIN service_requests r "
    "ON r.id = s.request_id WHERE s.tenant_id = :t AND r.tenant_id = :t "
    "AND r.status = 'pending_approval' AND s.decision IS NULL AND s.role IN :roles "
    "AND NOT EXISTS (SELECT 1 FROM approval_steps e WHERE e.tenant_id = :t "
    "AND e.request_id = s.request_id AND e.position < s.position AND e.decision IS NULL) "
    "AND NOT EXISTS (SELECT 1 FROM approval_steps d WHERE d.tenant_id = :t "
    "AND d.request_id = s.request_id AND d.decided_by_id = :u)) "
    "+ (SELECT count(*) FROM actions WHERE tenant_id = :t AND owner_id = :u "
    "AND done_at IS NULL) "
    "+ (SELECT count(*) FROM complaints WHERE tenant_id = :t AND owner_id = :u "
    "AND status IN :open) "
    "+ (SELECT count(*) FROM complaints WHERE tenant_id = :t AND :verifier = 1 "
    "AND status = 'verifying_effectiveness')"
).bindparams(bindparam("roles", expanding=True), bindparam("open", expanding=True))


def count(user) -> int:
    """Everything waiting on ``user``, in one statement (the header shows it on every page);
    the same conditions as ``load`` (tests compare the two)."""
    from .tenancy import active_tenant_id

    return db.session.scalar(_COUNT, {
        "t": active_tenant_id(), "u": user.id, "roles": list(user.roles or ()) or ["-"],
        "open": list(OPEN_STATUSES), "verifier": int(user.has_role(*VERIFIERS))}) or 0


def load(user) -> MyWork:
    work = MyWork()
    work.approvals = list(db.session.execute(
        select(ApprovalStep, ServiceRequest, Complaint)
        .join(ServiceRequest, ServiceRequest.id == ApprovalStep.request_id)
        .join(Complaint, Complaint.id == ServiceRequest.complaint_id)
        .where(ApprovalStep.id.in_(_my_steps(user)))
        .order_by(ServiceRequest.created_at)).all())
    work.actions = list(db.session.execute(
        select(Action, Complaint).outerjoin(Complaint, Complaint.id == Action.complaint_id)
        .where(Action.id.in_(_my_actions(user)))
        .order_by(Action.due_at.is_(None), Action.due_at, Action.id)).all())
    next_due = (select(DeadlineClock.complaint_id, func.min(DeadlineClock.due_at).label("due"))
                .where(DeadlineClock.stopped_at.is_(None), DeadlineClock.paused_at.is_(None),
                       DeadlineClock.complaint_id.is_not(None))
                .group_by(DeadlineClock.complaint_id).subquery())
    work.owned = list(db.session.execute(
        select(Complaint, next_due.c.due)
        .outerjoin(next_due, next_due.c.complaint_id == Complaint.id)
        .where(Complaint.id.in_(_my_complaints(user)))
        .order_by(next_due.c.due.is_(None), next_due.c.due, Complaint.id)).all())
    work.verifications = list(db.session.scalars(
        select(Complaint).where(Complaint.id.in_(_to_verify(user)))
        .order_by(Complaint.status_changed_at)))
    return work


__all__ = ["MyWork", "count", "load"]
