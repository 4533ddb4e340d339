"""The 8D as quality engineers file it, through the workspace's routes: the team and its
leader rule, the structured disciplines with evidence, who may write and sign, what is
refused (with what was typed kept), and sending the customer's 8D to the portal."""

from __future__ import annotations

import io

from sqlalchemy import select

from portal.models import (
    EightDMember,
    EightDReport,
    EightDSection,
    Notification,
    TimelineEvent,
)
from portal.tenancy import activate
from tests.conftest import csrf_from
from tests.internal.conftest import advance

HX = {"HX-Request": "true"}
D2 = {"discipline": "2", "text": "主轴运转时异响 Spindle noise at speed",
      "what": "主轴异响", "where": "客户二号车间", "when": "2026-11 第 2 周",
      "how_many": "3 台 / 40 台", "is_what": "主轴轴承", "is_not_what": "电机"}


def _report(db, shop, make_complaint, status="analysis", requested=True) -> int:
    from portal.complaints import eight_d

    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响")
    advance(db, shop, complaint, status)
    with activate(shop.tenant):
        eight_d.start_report(complaint, shop.staff["quality"], requested_by_customer=requested)
        db.session.flush()
        return complaint.id


def _post(staff, cid, route, data, **kw):
    return staff.post(f"/complaints/{cid}{route}", data, page=f"/complaints/{cid}", **kw)


def test_a_leader_is_required_before_sending_and_there_is_one(shop, as_role, make_complaint,
                                                             db, app, sign_in):
    cid = _report(db, shop, make_complaint)
    quality = as_role("quality")
    assert _post(quality, cid, "/8d/summary", {"summary": "已更换主轴轴承 Bearing replaced"}
                 ).status_code == 303
    refused = _post(quality, cid, "/8d/send", {}, headers=HX)
    assert refused.status_code == 422
    assert "Name the team leader (D1) before sending the 8D." in refused.get_data(as_text=True)

    leader, member = shop.staff_ids["quality"], shop.staff_ids["technical"]
    assert _post(quality, cid, "/8d/team", {"staff_user": str(leader), "role": "leader",
                                            "responsibility": "组织分析"}).status_code == 303
    second = _post(quality, cid, "/8d/team", {"staff_user": str(member), "role": "leader",
                                              "responsibility": "Kept 保留"}, headers=HX)
    assert second.status_code == 422
    html = second.get_data(as_text=True)
    assert "The team already has a leader (quality person)" in html
    assert 'value="Kept 保留"' in html  # what was typed is kept
    assert _post(quality, cid, "/8d/team", {"staff_user": str(member), "role": "member"}
                 ).status_code == 303
    assert _post(quality, cid, "/8d/send", {}).status_code == 303
    with activate(shop.tenant):
        report = db.session.scalar(select(EightDReport))
        assert report.sent_at is not None and report.customer_pdf_key.endswith(".pdf")
        roles = sorted(m.role for m in db.session.scalars(select(EightDMember)))
        assert roles == ["leader", "member"]
        sent = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "eight_d.sent"))
        assert sent.customer_visible
        told = db.session.scalars(select(Notification.recipient).where(
            Notification.event == "customer.eight_d")).all()
        assert told == [shop.contact.get_id()]  # the customer is told it is there


def test_sending_needs_the_customers_request(shop, as_role, make_complaint, db):
    cid = _report(db, shop, make_complaint, requested=False)
    quality = as_role("quality")
    _post(quality, cid, "/8d/team", {"staff_user": str(shop.staff_ids["quality"]),
                                     "role": "leader"})
    _post(quality, cid, "/8d/summary", {"summary": "x"})
    refused = _post(quality, cid, "/8d/send", {}, headers=HX)
    assert refused.status_code == 422
    assert "The customer did not ask for an 8D report." in refused.get_data(as_text=True)


def test_who_may_write_sign_and_send(shop, as_role, make_complaint, db):
    cid = _report(db, shop, make_complaint)
    for role in ("after_sales", "logistics", "finance"):
        staff = as_role(role)
        for route, data in (("/8d/team", {"staff_user": str(shop.staff_ids[role]),
                                          "role": "leader"}),
                            ("/8d/send", {}), ("/8d/sections", {**D2})):
            response = _post(staff, cid, route, data, headers=HX)
            assert response.status_code == 403, (role, route, response.status_code)
    quality = as_role("quality")
    _post(quality, cid, "/8d/team", {"staff_user": str(shop.staff_ids["technical"]),
                                     "role": "leader"})
    with activate(shop.tenant):
        member_id = db.session.scalar(select(EightDMember.id))
    # D8 not written yet: nobody signs; and quality may not sign for the technical member.
    early = _post(as_role("technical"), cid, f"/8d/team/{member_id}/sign-off", {}, headers=HX)
    assert early.status_code == 422
    assert "Write D8 (closure) before signing off." in early.get_data(as_text=True)
    _post(quality, cid, "/8d/sections", {"discipline": "8", "text": "结案，感谢团队"})
    other = _post(quality, cid, f"/8d/team/{member_id}/sign-off", {}, headers=HX)
    assert other.status_code == 403
    assert _post(as_role("technical"), cid, f"/8d/team/{member_id}/sign-off", {}
                 ).status_code == 303
    with activate(shop.tenant):
        assert db.session.get(EightDMember, member_id).signed_at is not None


def test_structured_disciplines_keep_content_and_evidence(shop, as_role, make_complaint, db):
    cid = _report(db, shop, make_complaint)
    quality = as_role("quality")
    response = _post(quality, cid, "/8d/sections",
                     {**D2, "customer_visible": "y",
                      "evidence": [(io.BytesIO(b"%PDF-1.4 measured"), "测量记录.pdf")]},
                     content_type="multipart/form-data")
    assert response.status_code == 303
    assert _post(quality, cid, "/8d/sections", {
        "discipline": "4", "text": "轴承预紧力不足", "occurrence_point": "装配工位 3",
        "escape_point": "出厂振动测试未覆盖"}).status_code == 303
    assert _post(quality, cid, "/8d/sections", {
        "discipline": "6", "text": "已实施", "validation": "抽检 50 台，振动值合格",
        "result": "passed"}).status_code == 303
    with activate(shop.tenant):
        sections = {s.discipline: s for s in db.session.scalars(select(EightDSection))}
        d2 = sections[2]
        assert d2.content["where"] == "客户二号车间" and d2.content["is_not_what"] == "电机"
        assert d2.customer_visible and d2.author_id == shop.staff_ids["quality"]
        assert d2.evidence[0]["name"] == "测量记录.pdf"
        assert sections[4].content["escape_point"] == "出厂振动测试未覆盖"
        assert sections[6].content["result"] == "passed"
    download = quality.get(f"/complaints/{cid}/8d/evidence/2/0")
    assert download.data == b"%PDF-1.4 measured"
    assert download.headers["Content-Disposition"].startswith("attachment")
    download.close()
    assert quality.get(f"/complaints/{cid}/8d/evidence/2/1").status_code == 404
    # The root cause form rewrites D4's chain without losing its points.
    _post(quality, cid, "/root-cause", {"root_cause": "预紧力不足", "why1": "异响"})
    with activate(shop.tenant):
        db.session.expire_all()
        d4 = db.session.scalar(select(EightDSection).where(EightDSection.discipline == 4))
        assert d4.content["whys"] == ["异响"] and d4.content["occurrence_point"] == "装配工位 3"


def test_refusals_keep_what_was_typed(shop, as_role, make_complaint, db, make_tenant,
                                      make_staff):
    cid = _report(db, shop, make_complaint)
    quality = as_role("quality")
    missing = _post(quality, cid, "/8d/sections", {**D2, "what": ""}, headers=HX)
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert 'id="section2-what-error"' in html and 'value="客户二号车间"' in html
    bad_result = _post(quality, cid, "/8d/sections", {"discipline": "6", "text": "x",
                                                      "validation": "v", "result": "hacked"},
                       headers=HX)
    assert bad_result.status_code == 422 and 'id="section6-result-error"' in bad_result.get_data(True)
    control = _post(quality, cid, "/8d/sections", {"discipline": "5", "text": "bad\x00byte"},
                    headers=HX)
    assert control.status_code == 422 and "not allowed" in control.get_data(as_text=True)
    disguised = _post(quality, cid, "/8d/sections",
                      {"discipline": "3", "text": "围堵有效 kept",
                       "evidence": [(io.BytesIO(b"<html><script>x</script>"), "report.pdf")]},
                      headers=HX, content_type="multipart/form-data")
    assert disguised.status_code == 422
    body = disguised.get_data(as_text=True)
    assert "report.pdf is not a kind of file we keep as evidence" in body
    assert "围堵有效 kept" in body
    # another tenant's staff id, a discipline out of range
    foreign = make_staff(make_tenant(), "quality")
    with activate(foreign.tenant_id):
        foreign_id = foreign.id
    outsider = _post(quality, cid, "/8d/team", {"staff_user": str(foreign_id), "role": "leader"},
                     headers=HX)
    assert outsider.status_code == 422
    assert _post(quality, cid, "/8d/sections", {"discipline": "9", "text": "x"},
                 headers=HX).status_code == 422
    # markup is kept as text and drawn escaped; a path in a file name goes nowhere
    assert _post(quality, cid, "/8d/sections", {
        "discipline": "7", "text": "<script>alert(1)</script> 横展",
        "evidence": [(io.BytesIO(b"%PDF-1.4 x"), "../../etc/passwd.pdf")]},
        content_type="multipart/form-data").status_code == 303
    page = quality.get(f"/complaints/{cid}?panel=eight_d").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    with activate(shop.tenant):
        d7 = db.session.scalar(select(EightDSection).where(EightDSection.discipline == 7))
        assert d7.evidence[0]["name"] == "passwd.pdf" and ".." not in d7.evidence[0]["key"]
    assert _post(quality, cid, "/8d/sections", {"discipline": "2", "text": "x"},
                 headers={**HX, "X-CSRFToken": "forged"}).status_code in (400, 422)


def test_containment_effect_is_verified_in_d3(shop, as_role, make_complaint, db):
    from portal.models import Action

    cid = _report(db, shop, make_complaint)
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.kind == "containment"))
    quality = as_role("quality")
    empty = _post(quality, cid, f"/8d/containment/{action_id}", {"action_id": str(action_id),
                                                                   "effect": ""}, headers=HX)
    assert empty.status_code == 422
    assert _post(quality, cid, f"/8d/containment/{action_id}", {
        "action_id": str(action_id), "effect": "库存 120 台复检，无异响"}).status_code == 303
    with activate(shop.tenant):
        action = db.session.get(Action, action_id)
        assert action.verification_note == "库存 120 台复检，无异响"
        assert action.verified_by_id == shop.staff_ids["quality"] and action.verified_at


def test_the_panel_loads_when_opened_and_answers_alone(shop, as_role, make_complaint, db):
    cid = _report(db, shop, make_complaint)
    quality = as_role("quality")
    page = quality.get(f"/complaints/{cid}").get_data(as_text=True)
    assert "section2-what" not in page  # drawn when opened, not with the page
    panel = quality.get(f"/complaints/{cid}/panels/eight_d", headers=HX)
    html = panel.get_data(as_text=True)
    assert panel.status_code == 200 and html.lstrip().startswith('<div class="panel" id="panel-eight_d"')
    for marker in ('id="section2-what"', 'id="section4-escape_point"', 'id="section6-result"',
                   'id="team-staff_user"', "A team leader is needed"):
        assert marker in html, marker
    token = csrf_from(page)
    saved = quality.client.post(quality.url(f"/complaints/{cid}/8d/sections"),
                                data={**D2, "csrf_token": token}, headers=HX)
    assert saved.status_code == 200 and 'id="panel-eight_d"' in saved.get_data(as_text=True)
