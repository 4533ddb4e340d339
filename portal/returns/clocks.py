"""Each step of a return has its deadline clock on the tenant's working calendar (policy kinds
``return_receipt``, ``return_analysis``, ``return_appraisal``, ``return_issue``): started when
the step before it is signed, stopped when its own is. The sweep warns and escalates them like
every other clock of the complaint. Flushes, never commits."""

from __future__ import annotations

from sqlalchemy import select

from ..deadlines import clocks
from ..extensions import db
from ..models import Complaint, DeadlineClock, GoodsReturn, Tenant, utcnow

STEPS = ("return_receipt", "return_analysis", "return_appraisal", "return_issue")
# Whose step each clock times: they are warned and escalated to with the complaint's owner
# (logistics receive the goods, after-sales analyse them and issue good parts, quality
# appraise them).
STEP_ROLES = {"return_receipt": "logistics", "return_analysis": "after_sales",
              "return_appraisal": "quality", "return_issue": "after_sales"}


def _context(ret: GoodsReturn) -> clocks.Context:
    return clocks.context_for(db.session.get(Tenant, ret.tenant_id))


def start(complaint: Complaint, ret: GoodsReturn, kind: str) -> DeadlineClock | None:
    """Start the return's clock ``kind`` (once; a disabled kind starts nothing)."""
    clock = clocks.start(_context(ret), kind, complaint=complaint, return_case=ret)
    db.session.flush()
    return clock


def running(ret: GoodsReturn) -> list[DeadlineClock]:
    return list(db.session.scalars(select(DeadlineClock).where(
        DeadlineClock.return_id == ret.id, DeadlineClock.stopped_at.is_(None))))


def stop(ret: GoodsReturn, kind: str | None, reason: str) -> None:
    """Stop the return's running clock ``kind`` (every running one when ``kind`` is None)."""
    ctx, now = _context(ret), utcnow()
    for clock in running(ret):
        if kind is None or clock.kind == kind:
            clocks.stop(ctx, clock, reason, now)
    db.session.flush()


def views(ret_ids: list[int]) -> dict[int, list[clocks.ClockView]]:
    """Every clock of these returns, ready to show, by return id (one statement)."""
    result: dict[int, list] = {i: [] for i in ret_ids}
    if not ret_ids:
        return result
    rows = db.session.scalars(select(DeadlineClock).where(DeadlineClock.return_id.in_(ret_ids))
                              .order_by(DeadlineClock.started_at)).all()
    for clock in rows:
        result[clock.return_id].append(clocks.view(_context_of_id(clock.tenant_id), clock))
    return result


def _context_of_id(tenant_id: int) -> clocks.Context:
    return clocks.context_for(db.session.get(Tenant, tenant_id))
