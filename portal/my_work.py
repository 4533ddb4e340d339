"""What waits on one staff user: the approvals whose next signature is theirs, the requests
their team carries out (logistics ships and receives, finance pays), the measures and actions
they own (by due time), the open complaints they own (by next deadline), the unassigned
complaints at their team's step (after-sales verifies new ones, quality classifies accepted
ones), the verifications of effectiveness (quality) and the returned parts whose next step
is theirs. At most seven statements for the page (only the parts the user's roles can
hold), one for the header's count; never one per row."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, and_, bindparam, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from .extensions import db
from .models import Action, ApprovalStep, Complaint, DeadlineClock, GoodsReturn, ServiceRequest
from .models.complaint import OPEN_STATUSES
from .returns.records import waiting_on as returns_waiting_on

VERIFIERS = ("quality",)
# The unassigned complaints each role takes up at its step (DOMAIN.md: after-sales verifies,
# quality classifies and routes).
TEAM_STEPS = {"after_sales": ("received", "verifying"), "quality": ("accepted",)}
TEAM_LISTED = 25  # the oldest; the queue's "unassigned" view lists them all
# Who carries out a request once it may go ahead: (kind, status) -> role. An approved return's
# goods are received on its record (portal/returns/), listed with the returned parts, not here.
FULFILLERS = {("replacement", "open"): "logistics", ("exchange", "open"): "logistics",
              ("claim", "approved"): "finance"}


@dataclass
class MyWork:
    approvals: list = field(default_factory=list)  # (ApprovalStep, ServiceRequest, Complaint)
    actions: list = field(default_factory=list)  # Action with .complaint-less title
    owned: list = field(default_factory=list)  # (Complaint, next due or None)
    verifications: list = field(default_factory=list)  # Complaint
    returns: list = field(default_factory=list)  # (GoodsReturn, Complaint): a step of yours
    requests: list = field(default_factory=list)  # (ServiceRequest, Complaint)
    unassigned: list = field(default_factory=list)  # rows (id, number, title, status, …)
    more_unassigned: bool = False

    @property
    def total(self) -> int:
        return len(self.approvals) + len(self.actions) + len(self.owned) + \
            len(self.verifications) + len(self.requests) + len(self.unassigned) + \
            len(self.returns)


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
        return None
    return select(Complaint.id).where(Complaint.status == "verifying_effectiveness")


def _to_fulfil(user):
    pairs = [(kind, status) for (kind, status), role in FULFILLERS.items()
             if role in (user.roles or ())]
    if not pairs:
        return None
    return select(ServiceRequest.id).where(or_(*(
        and_(ServiceRequest.kind == kind, ServiceRequest.status == status)
        for kind, status in pairs)))


def _unassigned(user):
    statuses = sorted({s for role, steps in TEAM_STEPS.items() if role in (user.roles or ())
                       for s in steps})
    if not statuses:
        return None
    return select(Complaint.id).where(Complaint.owner_id.is_(None),
                                      Complaint.status.in_(statuses))


class RoleSet:
    """A user reduced to what the count's statement depends on: the roles, with the user's id
    left as a bound parameter. The statement is built once per role set (building and
    compiling seven subqueries on every page was a large share of each workspace page) and
    the id is bound per request (portal/header_counts.py)."""

    id = bindparam("my_work_user_id", type_=Integer, required=False)

    def __init__(self, roles: frozenset[str]):
        self.roles = sorted(roles)

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


def count_expression(user):
    """Everything waiting on ``user`` as one SQL expression: only the parts that can hold
    anything for the user's roles are asked."""
    parts = [p for p in (_my_steps(user), _my_actions(user), _my_complaints(user),
                         _to_verify(user), _to_fulfil(user), _unassigned(user),
                         returns_waiting_on(user)) if p is not None]
    return sum((select(func.count()).select_from(p.subquery()).scalar_subquery() for p in parts),
               literal(0))


def count(user) -> int:
    """Everything waiting on ``user`` (the header's figure; see portal/header_counts.py)."""
    from .header_counts import header_counts

    return header_counts(user)[0]


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
    if (verify := _to_verify(user)) is not None:
        work.verifications = list(db.session.scalars(
            select(Complaint).where(Complaint.id.in_(verify))
            .order_by(Complaint.status_changed_at)))
    if (fulfil := _to_fulfil(user)) is not None:
        work.requests = list(db.session.execute(
            select(ServiceRequest, Complaint)
            .join(Complaint, Complaint.id == ServiceRequest.complaint_id)
            .where(ServiceRequest.id.in_(fulfil)).order_by(ServiceRequest.created_at)).all())
    if (team := _unassigned(user)) is not None:
        rows = list(db.session.execute(  # plain rows: no ORM objects for a list of links
            select(Complaint.id, Complaint.number, Complaint.title, Complaint.status,
                   Complaint.status_changed_at).where(Complaint.id.in_(team))
            .order_by(Complaint.created_at).limit(TEAM_LISTED + 1)).all())
        work.unassigned, work.more_unassigned = rows[:TEAM_LISTED], len(rows) > TEAM_LISTED
    work.returns = list(db.session.execute(
        select(GoodsReturn, Complaint).join(Complaint, Complaint.id == GoodsReturn.complaint_id)
        .where(GoodsReturn.id.in_(returns_waiting_on(user))).order_by(GoodsReturn.id)).all())
    return work


__all__ = ["MyWork", "count", "load"]
