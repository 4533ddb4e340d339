"""A late step of a returned part is told to the people whose step it is — logistics for the
receipt, after-sales for the first analysis and the good parts, quality for the appraisal —
with the complaint's owner as before, each person once (the real sweep, issue 10 item 3)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from portal.deadlines import sweep
from portal.models import DeadlineClock, Notification
from portal.tenancy import activate
from tests.internal.complaint.returns_support import approved_return, walk


def _clock(db, shop, rid, kind) -> DeadlineClock:
    with activate(shop.tenant):
        db.session.expire_all()
        return db.session.scalar(select(DeadlineClock).where(
            DeadlineClock.return_id == rid, DeadlineClock.kind == kind))


def _told(db, shop, kind: str) -> dict[str, Counter]:
    """{deadline event: Counter(recipient)} of the notifications about clock ``kind``."""
    with activate(shop.tenant):
        rows = db.session.scalars(select(Notification)).all()
        result: dict[str, Counter] = {}
        for n in rows:
            if (n.data or {}).get("clock_kind") == kind:
                result.setdefault(n.event, Counter())[n.recipient] += 1
        return result


def _staff(shop, role: str) -> str:
    return f"staff:{shop.staff_ids[role]}"


def test_a_late_receipt_warns_and_escalates_to_logistics_and_the_owner(shop, make_complaint,
                                                                         db):
    ids = approved_return(db, shop, make_complaint)
    clock = _clock(db, shop, ids["rid"], "return_receipt")
    warn_at, due_at = clock.warn_at, clock.due_at
    sweep.run(warn_at + (due_at - warn_at) / 2)
    sweep.run(due_at + timedelta(days=30))  # breached, and escalated again
    sweep.run(due_at + timedelta(days=31))  # a second sweep tells nobody anything new
    told = _told(db, shop, "return_receipt")
    owner, logistics = _staff(shop, "quality"), _staff(shop, "logistics")
    assert told["deadline.warning"] == Counter({logistics: 1, owner: 1})
    assert told["deadline.breached"] == Counter({logistics: 1, owner: 1})
    assert told["deadline.escalated"][logistics] == 1
    assert told["deadline.escalated"][_staff(shop, "manager")] == 1
    assert _staff(shop, "after_sales") not in told["deadline.breached"]  # not their step


def test_a_late_appraisal_tells_quality_once_when_the_owner_is_quality(shop, make_complaint,
                                                                       db):
    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "analyse")
    clock = _clock(db, shop, ids["rid"], "return_appraisal")
    sweep.run(clock.due_at + timedelta(minutes=1))
    told = _told(db, shop, "return_appraisal")
    # the owner (quality person) holds the role: one notification, not two
    assert told["deadline.breached"] == Counter({_staff(shop, "quality"): 1})
    analysis = _told(db, shop, "return_analysis")
    assert analysis == {}  # the analysis was signed in time: its clock stopped


def test_a_late_first_analysis_tells_after_sales(shop, make_complaint, db):
    ids = approved_return(db, shop, make_complaint)
    walk(db, shop, ids, "receive")
    clock = _clock(db, shop, ids["rid"], "return_analysis")
    sweep.run(clock.due_at + timedelta(minutes=1))
    told = _told(db, shop, "return_analysis")
    assert told["deadline.breached"] == Counter({_staff(shop, "after_sales"): 1,
                                                 _staff(shop, "quality"): 1})
