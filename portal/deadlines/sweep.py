"""The periodic sweep across all tenants: warn owners at the tenant's share of a clock's time,
escalate at breach to the owner and the department manager, escalate again to the manager
after a further period — each step exactly once.

Set-based by design: each step is one conditional ``UPDATE … WHERE <step>_at IS NULL AND
<time> <= now RETURNING``, served by a partial index holding only the running clocks that
still owe that step, so clocks that need nothing are never read into Python. Only the rows
an UPDATE claimed are loaded, tenant by tenant, to write their timeline entries and
notifications. Everything happens in one transaction: if it fails, nothing was claimed and
the next run tries again; if two sweeps overlap, the second finds the rows already claimed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from ..complaints.timeline import SYSTEM
from ..extensions import db
from ..models import (
    Action,
    Complaint,
    DeadlineClock,
    Department,
    EscalationReport,
    StaffUser,
    Tenant,
    utcnow,
)
from ..models.actions import EscalationReportEvent
from ..tenancy import activate, unscoped
from .clocks import context_for, start, sync_action
from .digest import enabled as digest_enabled
from .digest import send as send_digest

log = logging.getLogger(__name__)

RUNNING = and_(DeadlineClock.stopped_at.is_(None), DeadlineClock.paused_at.is_(None))
STEPS = ("warning", "breached", "escalated")
FINAL = ("closed", "rejected")


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    started: int = 0
    stopped: int = 0
    supplier_overdue: int = 0
    tenants: set[int] = field(default_factory=set)

    def as_dict(self) -> dict:
        return {"warned": self.warned, "breached": self.breached, "escalated": self.escalated,
                "started": self.started, "stopped": self.stopped, "tenants": len(self.tenants)}


def _claim(step: str, now: datetime) -> list[tuple[int, int]]:
    """Mark the clocks owing ``step`` as done for it; returns their (id, tenant_id)."""
    if step == "warning":
        condition = and_(RUNNING, DeadlineClock.warned_at.is_(None),
                         DeadlineClock.warn_at <= now, DeadlineClock.due_at > now)
        values = {"warned_at": now}
    elif step == "breached":
        condition = and_(RUNNING, DeadlineClock.breached_at.is_(None),
                         DeadlineClock.due_at <= now)
        values = {"breached_at": now, "escalated_at": now}
    else:
        condition = and_(RUNNING, DeadlineClock.second_escalated_at.is_(None),
                         DeadlineClock.breached_at.is_not(None),
                         DeadlineClock.second_escalation_at <= now)
        values = {"second_escalated_at": now}
    statement = (update(DeadlineClock).where(condition).values(**values)
                 .returning(DeadlineClock.id, DeadlineClock.tenant_id)
                 .execution_options(synchronize_session=False))
    return [tuple(row) for row in db.session.execute(statement).all()]


def _catch_up(now: datetime, result: SweepResult) -> dict[int, list]:
    """What no event announced: actions done (stopped set-based, here), actions given or
    moved a due date and complaints classified as class A (returned per tenant, to be
    started row by row: only rows that need a clock). Runs unscoped."""
    action = aliased(Action)
    stopped = db.session.execute(
        update(DeadlineClock)
        .where(DeadlineClock.action_id == action.id, action.done_at.is_not(None),
               DeadlineClock.stopped_at.is_(None))
        .values(stopped_at=action.done_at, stop_reason="action_done")
        .execution_options(synchronize_session=False)
    )
    result.stopped += stopped.rowcount or 0

    missing_actions = db.session.execute(
        select(Action.id, Action.tenant_id).where(
            Action.due_at.is_not(None), Action.done_at.is_(None),
            ~exists().where(DeadlineClock.action_id == Action.id))
    ).all()
    moved_actions = db.session.execute(
        select(Action.id, Action.tenant_id).join(DeadlineClock, DeadlineClock.action_id == Action.id)
        .where(DeadlineClock.stopped_at.is_(None), Action.due_at.is_not(None),
               DeadlineClock.due_at != Action.due_at)
    ).all()
    class_a = db.session.execute(
        select(Complaint.id, Complaint.tenant_id).where(
            Complaint.info_class == "A", Complaint.status.not_in(FINAL),
            ~exists().where(DeadlineClock.complaint_id == Complaint.id,
                            DeadlineClock.kind == "class_a_plan"))
    ).all()
    work: dict[int, list] = defaultdict(list)
    for action_id, tenant_id in [*missing_actions, *moved_actions]:
        work[tenant_id].append(("action", action_id))
    for complaint_id, tenant_id in class_a:
        work[tenant_id].append(("class_a", complaint_id))
    return work


def _start_missing(work: dict[int, list], now: datetime, result: SweepResult) -> None:
    for tenant_id, items in work.items():
        with activate(tenant_id):
            ctx = context_for(db.session.get(Tenant, tenant_id))
            for what, ident in items:
                if what == "action":
                    sync_action(ctx, db.session.get(Action, ident))
                else:
                    if start(ctx, "class_a_plan", complaint=db.session.get(Complaint, ident),
                             at=now) is not None:
                        result.started += 1
            db.session.flush()


def run(now: datetime | None = None) -> SweepResult:
    """One sweep over every tenant. Flushes; the caller commits (jobs.sweep does)."""
    now = now or utcnow()
    result = SweepResult()
    with unscoped():
        work = _catch_up(now, result)
    _start_missing(work, now, result)
    with unscoped():
        claimed = {step: _claim(step, now) for step in STEPS}
    by_tenant: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for step, rows in claimed.items():
        for clock_id, tenant_id in rows:
            by_tenant[tenant_id].append((step, clock_id))
    result.warned = len(claimed["warning"])
    result.breached = len(claimed["breached"])
    result.escalated = len(claimed["escalated"])
    for tenant_id, items in by_tenant.items():
        result.tenants.add(tenant_id)
        with activate(tenant_id):
            _announce(tenant_id, items)
    _digests(now)
    from ..suppliers.requests import escalate_all_overdue  # late supplier answers (issue 12)

    result.supplier_overdue = escalate_all_overdue(now)
    db.session.flush()
    return result


def _digests(now: datetime) -> None:
    """The daily digest of the tenants whose digest hour it is (digest.py)."""
    with unscoped():
        tenants = [t for t in db.session.scalars(select(Tenant).where(Tenant.status == "active"))
                   if digest_enabled(t)]
    for tenant in tenants:
        with activate(tenant.id):
            send_digest(tenant, now)


def _announce(tenant_id: int, items: list[tuple[str, int]]) -> None:
    """Timeline entries and notifications for the claimed steps of one tenant, written in a
    few multi-row statements (a backlog of thousands of steps stays a handful of queries)."""
    from sqlalchemy import insert

    from ..models import TimelineEvent
    from ..notifications import write

    tenant = db.session.get(Tenant, tenant_id)
    ids = [clock_id for _step, clock_id in items]
    clocks = {c.id: c for c in db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.id.in_(ids))
        .execution_options(populate_existing=True))}
    complaints = _by_id(Complaint, {c.complaint_id for c in clocks.values()})
    actions = _by_id(Action, {c.action_id for c in clocks.values()})
    reports = _by_id(EscalationReport, {c.report_id for c in clocks.values()})
    staff = {u.id: u for u in db.session.scalars(select(StaffUser))}
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    managers = [u for u in staff.values() if u.active and u.has_role("manager")]
    digest = digest_enabled(tenant)
    now = utcnow()
    timeline, report_events, planned = [], [], []
    for step, clock_id in items:
        clock = clocks[clock_id]
        complaint = complaints.get(clock.complaint_id)
        action = actions.get(clock.action_id)
        report = reports.get(clock.report_id)
        recipients = _recipients(step, complaint, action, report, staff, departments,
                                 managers, digest)
        recipients = _with_step_people(clock, recipients, staff)
        data = {"clock_kind": clock.kind, "clock_id": clock.id,
                "due_at": clock.due_at.isoformat(), "step": step}
        if action is not None:
            data.update(action_id=action.id, title=action.title)
        if report is not None:
            data.update(report_number=report.number, report_id=report.id)
        if complaint is not None:
            timeline.append(dict(tenant_id=tenant_id, complaint_id=complaint.id,
                                 actor=SYSTEM.get_id(), actor_name=SYSTEM.name,
                                 kind=f"deadline.{step}", data=data, customer_visible=False,
                                 created_at=now))
        elif report is not None:
            report_events.append(dict(tenant_id=tenant_id, report_id=report.id, actor="system",
                                      actor_name=SYSTEM.name, kind=f"deadline.{step}",
                                      data=data, created_at=now))
        planned += _plan_step(tenant, step, clock, complaint, action, recipients, data, staff)
    if timeline:
        db.session.execute(insert(TimelineEvent), timeline)
    if report_events:
        db.session.execute(insert(EscalationReportEvent), report_events)
    write(planned)
    log.info("sweep: tenant %s: %d steps", tenant.slug, len(items))


# An action's owner hears of its own work, not of a deadline: due within a day, overdue.
ACTION_KINDS = {"warning": "work.action_due_soon", "breached": "work.action_overdue"}


def _plan_step(tenant, step, clock, complaint, action, recipients, data, staff) -> list:
    """The notifications of one clock's step: its action's owner by the work kind (once
    each: the dedupe key is the clock's step), everyone else by the deadline kind."""
    from ..notifications import plan

    planned = []
    owner = staff.get(action.owner_id) if action is not None else None
    if owner is not None and step in ACTION_KINDS:
        planned += plan(ACTION_KINDS[step], [owner], tenant=tenant, complaint=complaint,
                        data=data, dedupe_key=f"clock:{clock.id}:{step}:owner")
        recipients = [r for r in recipients if r.id != owner.id]
    return planned + plan(f"deadline.{step}", recipients, tenant=tenant, complaint=complaint,
                          data=data, dedupe_key=f"clock:{clock.id}:{step}")


def _recipients(step: str, complaint, action, report, staff: dict, departments: dict,
                managers: list, digest: bool) -> list:
    """Who hears of a clock's step at once: a warning the owner (else the department's
    manager); a breach the owner and the manager, an escalation the manager (else every
    manager) — with the tenant's daily digest, the owner only (the others read the digest)."""
    owner_id = (action.owner_id if action is not None else None) \
        or (report.owner_id if report is not None else None) \
        or (complaint.owner_id if complaint is not None else None)
    owner = staff.get(owner_id)
    department = departments.get(
        (complaint.responsible_department_id if complaint is not None else None)
        or (owner.department_id if owner is not None else None))
    manager = staff.get(department.manager_id) if department is not None else None
    if step == "warning":
        recipients = [owner or manager]
    elif digest:
        recipients = [owner]
    elif step == "breached":
        recipients = [owner, manager]
    else:
        recipients = [manager] if manager is not None else managers
    return [r for r in recipients if r is not None]


def _with_step_people(clock, recipients: list, staff: dict) -> list:
    """A returned part's step is the work of a role (portal/returns/clocks.STEP_ROLES): its
    active people hear of the step at once, besides whoever hears today — each once."""
    from ..returns.clocks import STEP_ROLES

    role = STEP_ROLES.get(clock.kind)
    if role is None:
        return recipients
    people = [u for u in staff.values() if u.active and u.has_role(role)]
    seen, result = set(), []
    for user in [*recipients, *people]:
        if user.id not in seen:
            seen.add(user.id)
            result.append(user)
    return result


def _by_id(model, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(select(model).where(model.id.in_(ids)))}


def run_committed() -> dict:
    """One sweep in its own transaction: ``run()``, then commit (or roll back and raise).
    Needs an app context. The clock's job (jobs/sweep.py) and the embedded default's
    in-process beat (``run_every``) both call this."""
    from .. import uow

    try:
        result = run()
        uow.commit()
        return result.as_dict()
    except Exception:
        uow.rollback()
        raise
    finally:
        db.session.remove()


def run_every(app, interval: float, stop=None) -> None:
    """The embedded default's clock (no Redis): sweep in process every ``interval`` seconds
    until ``stop`` (a threading.Event) is set. A failed sweep is logged; the next beat tries
    again."""
    import threading

    stop = stop or threading.Event()
    while not stop.is_set():
        with app.app_context():
            try:
                log.info("sweep: %s", run_committed())
            except Exception as exc:  # noqa: BLE001 — the next beat tries again
                log.warning("sweep failed: %r", exc)
        stop.wait(interval)
