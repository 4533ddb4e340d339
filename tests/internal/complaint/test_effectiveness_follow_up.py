"""Effectiveness verification with evidence and a recurrence check: the follow-up date (three
months on by default) runs its own deadline clock, which outlives the complaint's closing,
warns on the morning of the day, escalates when missed, and stops when the check is
recorded."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.deadlines import sweep
from portal.models import Complaint, DeadlineClock, EffectivenessCheck, TimelineEvent, utcnow
from portal.tenancy import activate
from tests.internal.conftest import advance

HX = {"HX-Request": "true"}


def _verifying(db, shop, make_complaint) -> int:
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "verifying_effectiveness")
    with activate(shop.tenant):
        return complaint.id


def _post(staff, cid, route, data, **kw):
    return staff.post(f"/complaints/{cid}{route}", data, page=f"/complaints/{cid}", **kw)


def _clock(db, shop) -> DeadlineClock:
    with activate(shop.tenant):
        db.session.expire_all()
        return db.session.scalar(select(DeadlineClock).where(
            DeadlineClock.kind == "recurrence_check"))


def test_the_form_proposes_three_months_and_refuses_a_past_date(shop, as_role, make_complaint,
                                                                 db):
    cid = _verifying(db, shop, make_complaint)
    quality = as_role("quality")
    html = quality.get(f"/complaints/{cid}").get_data(as_text=True)
    today = utcnow().date()
    expected = date(today.year + (today.month + 2) // 12, (today.month + 2) % 12 + 1, 1)
    assert f'value="{expected.isoformat()[:8]}' in html  # the same day three months on
    refused = _post(quality, cid, "/effectiveness", {
        "verdict": "effective", "note": "两批无复发 kept", "follow_up_on": "2020-01-01"},
        headers=HX)
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Pick a follow-up date after today and within two years." in body
    assert "两批无复发 kept" in body
    garbage = _post(quality, cid, "/effectiveness", {"verdict": "effective", "note": "x",
                                                    "follow_up_on": "'; DROP TABLE x;--"},
                    headers=HX)
    assert garbage.status_code == 422
    assert as_role("technical").post(f"/complaints/{cid}/effectiveness", {
        "verdict": "effective", "note": "x"}, page=f"/complaints/{cid}").status_code == 403


def test_follow_up_clock_outlives_closing_escalates_and_stops(shop, as_role, make_complaint,
                                                               db):
    cid = _verifying(db, shop, make_complaint)
    quality = as_role("quality")
    follow_up = utcnow().date() + timedelta(days=90)
    response = _post(quality, cid, "/effectiveness", {
        "verdict": "effective", "note": "连续两批抽检无复发",
        "follow_up_on": follow_up.isoformat(),
        "evidence": [(io.BytesIO(b"%PDF-1.4 lots"), "抽检记录.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 303
    with activate(shop.tenant):
        check = db.session.scalar(select(EffectivenessCheck))
        assert check.effective and check.follow_up_on == follow_up
        assert check.evidence[0]["name"] == "抽检记录.pdf"
        check_id = check.id
    zone = ZoneInfo("Asia/Shanghai")
    clock = _clock(db, shop)
    assert clock.stopped_at is None
    assert clock.warn_at == datetime.combine(follow_up, datetime.min.time(), zone) + timedelta(hours=8)
    assert clock.due_at == datetime.combine(follow_up + timedelta(days=1), datetime.min.time(), zone)
    download = quality.get(f"/complaints/{cid}/effectiveness/{check_id}/verdict/0")
    assert download.data == b"%PDF-1.4 lots"
    download.close()

    # answered and closed: every other clock stops, the recurrence check runs on
    _post(as_role("after_sales"), cid, "/answer", {"measures": "换轴承", "changes": "加严检验"})
    _post(as_role("after_sales"), cid, "/transition/close", {})
    with activate(shop.tenant):
        db.session.expire_all()
        assert db.session.get(Complaint, cid).status == "closed"
    assert _clock(db, shop).stopped_at is None

    with activate(shop.tenant):
        result = sweep.run(now=clock.warn_at + timedelta(minutes=1))
        assert result.warned >= 1
        result = sweep.run(now=clock.due_at + timedelta(minutes=1))
        assert result.breached >= 1
        kinds = list(db.session.scalars(select(TimelineEvent.kind).where(
            TimelineEvent.complaint_id == cid, TimelineEvent.kind.like("deadline.%"))))
        assert {"deadline.warning", "deadline.breached"} <= set(kinds)

    # not before its day; then, on a closed complaint, "came back" needs a word on where
    early = _post(quality, cid, f"/effectiveness/{check_id}/recurrence",
                  {"result": "no_recurrence", "note": "太早 kept"})
    assert early.status_code == 422
    assert f"The recurrence check is due on {follow_up.isoformat()}" in early.get_data(True)
    assert "太早 kept" in early.get_data(as_text=True)
    with activate(shop.tenant):
        db.session.get(EffectivenessCheck, check_id).follow_up_on = utcnow().date()
        db.session.flush()
    recurred = _post(quality, cid, f"/effectiveness/{check_id}/recurrence",
                     {"result": "recurred", "note": ""}, headers=HX)
    assert recurred.status_code == 422
    assert "Say where and how the problem came back." in recurred.get_data(as_text=True)
    assert _post(as_role("technical"), cid, f"/effectiveness/{check_id}/recurrence",
                 {"result": "no_recurrence"}).status_code == 403
    assert _post(quality, cid, f"/effectiveness/{check_id}/recurrence",
                 {"result": "no_recurrence", "note": "三个月内无同类投诉"}).status_code == 303
    clock = _clock(db, shop)
    assert clock.stopped_at is not None and clock.stop_reason == "checked"
    with activate(shop.tenant):
        check = db.session.get(EffectivenessCheck, check_id)
        assert check.follow_up_result == "no_recurrence" and check.follow_up_by_id
    again = _post(quality, cid, f"/effectiveness/{check_id}/recurrence",
                  {"result": "no_recurrence"}, headers=HX)
    assert again.status_code in (403, 409, 422)


def test_not_effective_sends_back_and_schedules_nothing(shop, as_role, make_complaint, db):
    cid = _verifying(db, shop, make_complaint)
    response = _post(as_role("quality"), cid, "/effectiveness",
                     {"verdict": "not_effective", "note": "第三批仍有异响"})
    assert response.status_code == 303
    with activate(shop.tenant):
        db.session.expire_all()
        assert db.session.get(Complaint, cid).status == "analysis"
        check = db.session.scalar(select(EffectivenessCheck))
        assert not check.effective and check.follow_up_on is None
    assert _clock(db, shop) is None
