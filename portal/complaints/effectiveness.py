"""Quality's verification of effectiveness with its evidence, and the recurrence check it
schedules: an effective verdict sets a follow-up date (three months later unless quality
picks another) whose deadline clock (portal/deadlines/recurrence.py) warns and escalates like
the others; on that date quality records whether the problem came back, with evidence.

Every function checks its guard, writes the timeline, flushes, never commits."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..deadlines import recurrence
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import Complaint, EffectivenessCheck, utcnow
from . import casework
from .permissions import Refused, check_version, require
from .timeline import record
from .vocabulary import RECURRENCE_RESULTS

MAX_EVIDENCE = 10
MAX_FOLLOW_UP_DAYS = 731


def latest_check(complaint: Complaint) -> EffectivenessCheck | None:
    return db.session.scalar(select(EffectivenessCheck)
                             .where(EffectivenessCheck.complaint_id == complaint.id)
                             .order_by(EffectivenessCheck.id.desc()).limit(1))


def default_follow_up(today: date | None = None) -> date:
    return recurrence.months_later(today or utcnow().date())


def _files(files) -> list:
    files = [f for f in files if f and f.filename]
    if len(files) > MAX_EVIDENCE:
        raise Refused("invalid", _l("At most %(n)s evidence files a section.", n=MAX_EVIDENCE))
    return files


def verify(complaint: Complaint, actor, *, effective: bool, note: str, files=(),
           follow_up_on: date | None = None, expected_version=None) -> EffectivenessCheck:
    """The verdict (casework.verify_effectiveness: not effective goes back to analysis) kept
    with its evidence; an effective one schedules the recurrence check on ``follow_up_on``
    (default three months on), which must lie after today and within two years."""
    require(actor, "effectiveness", complaint)
    check_version(complaint, expected_version)
    today = utcnow().date()
    if effective:
        follow_up_on = follow_up_on or default_follow_up(today)
        if not (today < follow_up_on <= date.fromordinal(today.toordinal() + MAX_FOLLOW_UP_DAYS)):
            raise Refused("invalid", _l("Pick a follow-up date after today and within two "
                                        "years."))
    stored = [casework.store_evidence(complaint, f) for f in _files(files)]
    casework.verify_effectiveness(complaint, actor, effective=effective, note=note,
                                  expected_version=complaint.version)
    check = EffectivenessCheck(complaint_id=complaint.id, effective=effective,
                               note=(note or "").strip() or None, evidence=stored,
                               verified_by_id=actor.id, verified_at=utcnow(),
                               follow_up_on=follow_up_on if effective else None,
                               follow_up_evidence=[])
    db.session.add(check)
    if effective:
        recurrence.schedule(complaint, follow_up_on)
    else:
        recurrence.stop(complaint, "not_effective")
    db.session.flush()
    return check


def record_recurrence_check(complaint: Complaint, actor, check: EffectivenessCheck, *,
                            result: str, note: str, files=()) -> EffectivenessCheck:
    """On (or after) the follow-up date: did the problem come back? Stops the clock."""
    require(actor, "recurrence_check", complaint)
    if check.complaint_id != complaint.id or not check.effective or check.follow_up_on is None:
        raise Refused("invalid", _l("Choose a value from the list."))
    if check.follow_up_at is not None:
        raise Refused("done", _l("This recurrence check is already recorded."))
    if utcnow().date() < check.follow_up_on:
        raise Refused("not_yet", _l("The recurrence check is due on %(date)s: record it from "
                                    "that day.", date=check.follow_up_on.isoformat()))
    if result not in RECURRENCE_RESULTS:
        raise Refused("invalid", _l("Choose a value from the list."))
    note = (note or "").strip()
    if result == "recurred" and not note:
        raise Refused("invalid", _l("Say where and how the problem came back."))
    check.follow_up_evidence = [casework.store_evidence(complaint, f) for f in _files(files)]
    check.follow_up_result, check.follow_up_note = result, note or None
    check.follow_up_by_id, check.follow_up_at = actor.id, utcnow()
    recurrence.stop(complaint, "checked")
    record(complaint, actor, "effectiveness.recurrence_check", message=note or None,
           data={"result": result, "follow_up_on": check.follow_up_on.isoformat()})
    casework.touch(complaint)
    db.session.flush()
    return check
