"""Deadline clocks on complaints, actions and reports: starting, stopping, pausing while the
complaint waits on the customer, and reading them for display.

Every function here runs with the complaint's tenant active, flushes and never commits.
Working-time arithmetic happens here, when a clock starts or resumes, so that the periodic
sweep (portal.deadlines.sweep) only compares stored times in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import select

from ..extensions import db
from ..models import Action, Complaint, DeadlineClock, Tenant, utcnow
from .calendar import BusinessCalendar, CalendarError, add, between, calendar_for
from .policy import LABELS, PROMISE_LABELS, budget_minutes, policy_for

PAUSE_STATUS = "waiting_customer"
FINAL_STATUSES = ("closed", "rejected")
# Clocks that outlive the complaint's closing: the recurrence check months later.
AFTER_CLOSING = ("recurrence_check",)


@dataclass
class Context:
    """A tenant's calendar and policy, loaded once per request, job or sweep pass."""

    tenant: Tenant
    calendar: BusinessCalendar
    policy: dict

    @property
    def warn_share(self) -> float:
        return float(self.tenant.setting("deadline_warning_share"))

    @property
    def second_share(self) -> float:
        return float(self.tenant.setting("deadline_second_escalation_share"))


def _contexts() -> dict:
    """The Contexts loaded in this app context (one request or job), by tenant id."""
    return g.setdefault("_deadline_contexts", {}) if has_app_context() else {}


def context_for(tenant: Tenant) -> Context:
    """The tenant's Context, cached on ``g`` for the app context (one request or job)."""
    cache = _contexts()
    ctx = cache.get(tenant.id)
    if ctx is None:
        ctx = Context(tenant, calendar_for(tenant), policy_for(tenant))
        cache[tenant.id] = ctx
    return ctx


def forget_context(tenant_id: int) -> None:
    """Drop the cached calendar/policy after the tenant edited them."""
    _contexts().pop(tenant_id, None)


def _tenant_of(obj) -> Tenant:
    return db.session.get(Tenant, obj.tenant_id)


def _context_of(obj) -> Context:
    """``context_for`` the object's tenant, straight from the cache when it is there (a queue
    page asks once per row)."""
    ctx = _contexts().get(obj.tenant_id)
    return ctx if ctx is not None else context_for(_tenant_of(obj))


def clock_label(kind: str) -> str:
    """The clock's name in the current language (a lazy label reads the request's catalogue
    directly: portal/i18n.py ``LazyText``)."""
    return str(LABELS.get(kind, kind))


def schedule(ctx: Context, clock: DeadlineClock) -> None:
    """Set due_at, warn_at and second_escalation_at from started_at and the budget. Paused
    time already taken (paused_minutes) pushes them back in the same time basis."""
    cal = ctx.calendar
    total = clock.budget_minutes + (clock.paused_minutes or 0)
    clock.due_at = add(cal, clock.started_at, total, clock.working_time)
    clock.warn_at = add(cal, clock.started_at,
                        clock.budget_minutes * ctx.warn_share + (clock.paused_minutes or 0),
                        clock.working_time)
    clock.second_escalation_at = add(cal, clock.due_at, clock.budget_minutes * ctx.second_share,
                                     clock.working_time)


ACTION_NOTICE = timedelta(days=1)


def warn_point(ctx: Context, kind: str, started: datetime, due_at: datetime) -> datetime:
    """When a clock with a fixed due time warns: an action's owner a day before it is due
    (given less than a day, not at all: the assignment named the due time), anything else
    at the tenant's share of its time."""
    if kind == "action":
        notice = due_at - ACTION_NOTICE
        return notice if notice > started else due_at
    return started + (due_at - started) * ctx.warn_share


def start(ctx: Context, kind: str, *, complaint: Complaint | None = None,
          action: Action | None = None, report=None, at: datetime | None = None,
          due_at: datetime | None = None, return_case=None) -> DeadlineClock | None:
    """Start one clock unless the policy disables it or it already exists. ``due_at``
    (actions, reports) fixes the due time instead of the policy's budget; ``return_case``
    (a GoodsReturn) makes it that return's clock, one per return and kind."""
    rule = ctx.policy.get(kind)
    if not rule or not rule.get("enabled", True):
        return None
    query = select(DeadlineClock).where(DeadlineClock.kind == kind)
    if action is not None:
        query = query.where(DeadlineClock.action_id == action.id)
    elif report is not None:
        query = query.where(DeadlineClock.report_id == report.id)
    elif return_case is not None:
        query = query.where(DeadlineClock.return_id == return_case.id)
    else:
        query = query.where(DeadlineClock.complaint_id == complaint.id,
                            DeadlineClock.action_id.is_(None))
    if db.session.scalar(query.limit(1)) is not None:
        return None
    at = at or utcnow()
    clock = DeadlineClock(
        kind=kind, started_at=at, paused_minutes=0,
        complaint_id=complaint.id if complaint is not None else None,
        action_id=action.id if action is not None else None,
        report_id=report.id if report is not None else None,
        return_id=return_case.id if return_case is not None else None,
        customer_visible=bool(rule.get("customer_visible")),
    )
    if due_at is not None:
        clock.working_time = False
        clock.budget_minutes = max(1, int((due_at - at).total_seconds() // 60))
        clock.due_at = due_at
        clock.warn_at = warn_point(ctx, kind, at, due_at)
        clock.second_escalation_at = due_at + (due_at - at) * ctx.second_share
    else:
        minutes, working = budget_minutes(rule, ctx.calendar.day_minutes)
        clock.budget_minutes = int(round(minutes))
        clock.working_time = working
        schedule(ctx, clock)
    if complaint is not None and complaint.status == PAUSE_STATUS and action is None:
        clock.paused_at = at
    db.session.add(clock)
    return clock


def _open_clocks(complaint: Complaint) -> list[DeadlineClock]:
    return list(db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.complaint_id == complaint.id,
                                    DeadlineClock.action_id.is_(None),
                                    DeadlineClock.stopped_at.is_(None))
    ))


def stop(ctx: Context, clock: DeadlineClock, reason: str, at: datetime | None = None) -> None:
    at = at or utcnow()
    if clock.paused_at is not None:
        _resume(ctx, clock, at)
    rule = ctx.policy.get(clock.kind) or {}
    if reason == "reject" and rule.get("misuse_amount"):
        # Judged misuse or a how-to question: the tighter answer budget applies.
        minutes, working = budget_minutes(rule, ctx.calendar.day_minutes, "misuse_amount")
        clock.budget_minutes, clock.working_time = int(round(minutes)), working
        schedule(ctx, clock)
    clock.stopped_at = at
    clock.stop_reason = reason


def _pause(clock: DeadlineClock, at: datetime) -> None:
    if clock.paused_at is None and clock.stopped_at is None:
        clock.paused_at = at


def _resume(ctx: Context, clock: DeadlineClock, at: datetime) -> None:
    """Extend the clock by the time it was paused, counted as the clock counts."""
    if clock.paused_at is None:
        return
    try:
        lost = max(0.0, between(ctx.calendar, clock.paused_at, at, clock.working_time))
    except CalendarError:
        lost = 0.0
    clock.paused_minutes = (clock.paused_minutes or 0) + lost
    clock.paused_at = None
    schedule(ctx, clock)


def on_submitted(complaint: Complaint) -> None:
    """Start the clocks a received complaint owes (called from submit_complaint)."""
    ctx = context_for(_tenant_of(complaint))
    for kind, rule in ctx.policy.items():
        if "submitted" in rule.get("start", ()) and complaint.source in rule.get("sources", ()):
            start(ctx, kind, complaint=complaint, at=complaint.created_at or utcnow())
    _class_a(ctx, complaint)
    db.session.flush()


def _class_a(ctx: Context, complaint: Complaint, at: datetime | None = None) -> None:
    if complaint.info_class == "A" and complaint.status not in FINAL_STATUSES:
        start(ctx, "class_a_plan", complaint=complaint, at=at)


def on_transition(complaint: Complaint, transition, actor, from_status: str) -> None:
    """Workflow listener: stop, pause, resume and start the complaint's clocks."""
    ctx = context_for(_tenant_of(complaint))
    now = utcnow()
    for clock in _open_clocks(complaint):
        if clock.kind in AFTER_CLOSING:
            continue
        rule = ctx.policy.get(clock.kind) or {}
        if transition.name in rule.get("stop", ()):
            stop(ctx, clock, transition.name, now)
        elif transition.target in FINAL_STATUSES:
            stop(ctx, clock, transition.target, now)
        elif transition.target == PAUSE_STATUS:
            _pause(clock, now)
        elif from_status == PAUSE_STATUS:
            _resume(ctx, clock, now)
    if transition.target in FINAL_STATUSES:
        # A closed or rejected case owes no more action deadlines: nobody is escalated for them.
        for clock in db.session.scalars(select(DeadlineClock).where(
                DeadlineClock.complaint_id == complaint.id, DeadlineClock.action_id.is_not(None),
                DeadlineClock.stopped_at.is_(None))):
            stop(ctx, clock, transition.target, now)
    if transition.target not in FINAL_STATUSES:
        for kind, rule in ctx.policy.items():
            if transition.name in rule.get("start", ()) \
                    and complaint.source in rule.get("sources", ()):
                start(ctx, kind, complaint=complaint, at=now)
        _class_a(ctx, complaint, now)
    db.session.flush()


def refresh(complaint: Complaint) -> None:
    """Catch up on what no event announced: a class-A classification, actions with due
    dates. Safe to call at any time (the sweep does the same set-based)."""
    ctx = context_for(_tenant_of(complaint))
    _class_a(ctx, complaint)
    for action in db.session.scalars(select(Action).where(Action.complaint_id == complaint.id)):
        sync_action(ctx, action)
    db.session.flush()


def sync_action(ctx: Context, action: Action) -> None:
    """Keep an action's clock in step with its due date and completion."""
    clock = db.session.scalar(select(DeadlineClock).where(DeadlineClock.action_id == action.id))
    if clock is None:
        if action.due_at is not None:
            start(ctx, "action", complaint=_complaint_stub(action), action=action,
                  at=action.created_at or utcnow(), due_at=action.due_at)
        return
    if action.done_at is not None and clock.stopped_at is None:
        clock.stopped_at, clock.stop_reason = action.done_at, "action_done"
    elif action.due_at is not None and clock.due_at != action.due_at and clock.stopped_at is None:
        span = action.due_at - clock.started_at
        clock.due_at = action.due_at
        clock.warn_at = warn_point(ctx, clock.kind, clock.started_at, action.due_at)
        clock.second_escalation_at = action.due_at + span * ctx.second_share
        clock.warned_at = clock.breached_at = clock.escalated_at = None
        clock.second_escalated_at = None


class _complaint_stub:
    def __init__(self, action: Action):
        self.id = action.complaint_id
        self.status = None


# -- reading ---------------------------------------------------------------------------------

@dataclass
class ClockView:
    """One clock, ready to show: label, state, due time, how much is left or how late."""

    id: int
    kind: str
    label: str
    state: str  # running, paused, met, breached, late (running past due)
    level: str  # ok, warn, late, done
    due_at: datetime
    started_at: datetime
    stopped_at: datetime | None
    working_time: bool
    customer_visible: bool
    budget_minutes: int
    minutes_left: float | None  # running/paused: time left (negative when late)
    late_by_minutes: float | None  # breached or late: by how much
    paused_minutes: float
    action_id: int | None
    warned: bool
    escalated: bool
    second_escalated: bool

    @property
    def done(self) -> bool:
        return self.state in ("met", "breached")


def _minutes_between(cal, a: datetime, b: datetime, working: bool) -> float:
    try:
        return between(cal, a, b, working)
    except CalendarError:
        return (b - a).total_seconds() / 60


def running_state(cal, clock, now: datetime) -> tuple[str, str, float]:
    """A running clock's ``(state, level, minutes left)`` — negative minutes when late: what
    ``view`` says of it, and all a queue row's badge needs (``badges.badge_texts`` reads only
    these columns: kind, due_at, paused_at, warn_at, working_time)."""
    reference = clock.paused_at or now
    left = _minutes_between(cal, reference, clock.due_at, clock.working_time) \
        if reference < clock.due_at \
        else -_minutes_between(cal, clock.due_at, reference, clock.working_time)
    state = "paused" if clock.paused_at else ("late" if left < 0 else "running")
    warn_point = clock.warn_at or clock.due_at
    level = "late" if now >= clock.due_at else ("warn" if now >= warn_point else "ok")
    return state, level, left


def view(ctx: Context, clock: DeadlineClock, now: datetime | None = None) -> ClockView:
    now = now or utcnow()
    cal = ctx.calendar
    if clock.stopped_at is not None:
        late = _minutes_between(cal, clock.due_at, clock.stopped_at, clock.working_time) \
            if clock.stopped_at > clock.due_at else 0
        state = "breached" if clock.stopped_at > clock.due_at else "met"
        level, left = "done", None
    else:
        state, level, left = running_state(cal, clock, now)
        late = -left if left < 0 else None
    return ClockView(
        id=clock.id, kind=clock.kind, label=clock_label(clock.kind),
        state=state, level=level, due_at=clock.due_at, started_at=clock.started_at,
        stopped_at=clock.stopped_at, working_time=clock.working_time,
        customer_visible=clock.customer_visible, budget_minutes=clock.budget_minutes,
        minutes_left=left, late_by_minutes=late if late else None,
        paused_minutes=clock.paused_minutes or 0, action_id=clock.action_id,
        warned=clock.warned_at is not None, escalated=clock.escalated_at is not None,
        second_escalated=clock.second_escalated_at is not None,
    )


def clocks_for(complaint: Complaint, now: datetime | None = None) -> list[ClockView]:
    """Every clock of the complaint (its actions' too), running ones first by due time."""
    ctx = context_for(_tenant_of(complaint))
    clocks = db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.complaint_id == complaint.id)
        .order_by(DeadlineClock.due_at)
    ).all()
    views = [view(ctx, c, now) for c in clocks]
    return sorted(views, key=lambda v: (v.done, v.due_at))


def badge_for(complaint: Complaint, now: datetime | None = None) -> ClockView | None:
    """The most urgent running clock of the complaint (None if none). A page of queue rows
    uses ``badges.badge_texts`` instead: one statement for the page."""
    clock = db.session.scalar(
        select(DeadlineClock).where(DeadlineClock.complaint_id == complaint.id,
                                    DeadlineClock.stopped_at.is_(None))
        .order_by(DeadlineClock.due_at, DeadlineClock.id).limit(1)  # ties: the first made
    )
    if clock is None:
        return None
    return view(_context_of(complaint), clock, now)


@dataclass
class Promise:
    kind: str
    label: str
    due_at: datetime
    state: str  # running, paused, met, breached
    kept_at: datetime | None


def promises_for(complaint: Complaint, now: datetime | None = None) -> list[Promise]:
    """The times promised to the customer (customer-visible clocks), in due order."""
    result = []
    for v in clocks_for(complaint, now):
        if not v.customer_visible or v.action_id is not None:
            continue
        result.append(Promise(v.kind, str(PROMISE_LABELS.get(v.kind, v.label)), v.due_at,
                              "running" if v.state == "late" else v.state, v.stopped_at))
    return sorted(result, key=lambda p: p.due_at)


def next_promise(complaint: Complaint, now: datetime | None = None) -> Promise | None:
    """The next still-open promise to the customer (None when none is open)."""
    for p in promises_for(complaint, now):
        if p.state in ("running", "paused"):
            return p
    return None


def humanize_minutes(minutes: float | None) -> str:
    """``3 hr 20 min`` / ``3小时20分钟`` in the reader's language (i18n.duration)."""
    from ..i18n import duration

    return duration(minutes)


__all__ = ["Context", "ClockView", "Promise", "badge_for", "clocks_for", "context_for",
           "humanize_minutes", "next_promise", "on_submitted", "on_transition",
           "promises_for", "refresh", "running_state", "start", "stop"]
