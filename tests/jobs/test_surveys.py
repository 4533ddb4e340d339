"""Surveys in process: dispatch on close, the personal link (GET shows, POST records), scoring
with tenant weights, low-score follow-ups, campaigns with progress and reminders, results and
exports, roles and cross-tenant 404s."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from jobs import surveys as survey_jobs
from portal import surveys
from portal.complaints import workflow
from portal.models import (
    Action,
    Contact,
    OutboxMessage,
    Survey,
    SurveyCampaign,
    TimelineEvent,
    utcnow,
)
from portal.tenancy import activate, unscoped
from tests.conftest import csrf_from

ALL_SATISFIED = {q: 100 for names in surveys.MODULES.values() for q in names}


@pytest.fixture
def outbox(monkeypatch):
    """Mail the survey jobs hand to SMTP, kept instead of sent."""
    sent = []
    monkeypatch.setattr(survey_jobs, "deliver",
                        lambda to, subject, text, html=None: sent.append((to, subject, text, html)))
    return sent


def close(db, tenant, complaint, staff):
    with activate(tenant):
        complaint.status = "answered"  # the earlier steps are workflow tests' business
        db.session.flush()
        workflow.transition(complaint, staff, "close")
        db.session.flush()


@pytest.fixture
def closed(db, make_tenant, make_staff, make_complaint):
    tenant = make_tenant(default_locale="en")
    lead = make_staff(tenant, "after_sales")
    complaint = make_complaint(tenant)
    close(db, tenant, complaint, lead)
    with activate(tenant):
        survey = db.session.scalar(select(Survey).where(Survey.complaint_id == complaint.id))
    return tenant, complaint, survey, lead


def link_token(outbox) -> str:
    return re.search(r"/survey/([A-Za-z0-9_\-]+)", outbox[-1][2]).group(1)


def answer_form(client, url, scores, **extra):
    token = csrf_from(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, **{k: str(v) for k, v in scores.items()}, **extra}
    return client.post(url, data=data)


def test_closing_queues_one_survey_after_the_tenant_delay(db, closed):
    tenant, complaint, survey, lead = closed
    assert survey is not None and survey.sent_at is None
    assert abs(survey.due_to_send_at - (utcnow() + timedelta(hours=24))) < timedelta(minutes=1)
    with unscoped():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.job == "jobs.surveys.send_survey"))
    assert message.args == [survey.id] and message.run_at == survey.due_to_send_at
    # Reopened and closed again: still one survey.
    with activate(tenant):
        workflow.transition(complaint, lead, "reopen", message="not fixed after all")
        complaint.status = "answered"
        workflow.transition(complaint, lead, "close")
        assert db.session.query(Survey).filter_by(complaint_id=complaint.id).count() == 1


def test_delay_is_the_tenants(db, make_tenant, make_staff, make_complaint):
    tenant = make_tenant(settings={"survey_delay_hours": 2})
    complaint = make_complaint(tenant)
    close(db, tenant, complaint, make_staff(tenant, "quality"))
    with activate(tenant):
        survey = db.session.scalar(select(Survey).where(Survey.complaint_id == complaint.id))
    assert abs(survey.due_to_send_at - (utcnow() + timedelta(hours=2))) < timedelta(minutes=1)


def test_survey_mail_carries_a_personal_link_stored_only_as_hash(db, closed, outbox):
    tenant, complaint, survey, _ = closed
    assert survey_jobs.send_survey(tenant.id, survey.id) == "sent"
    to, subject, text, html = outbox[-1]
    assert to == complaint.reporter_email and tenant.name in subject
    token = link_token(outbox)
    assert f"/t/{tenant.slug}/survey/{token}" in text and token in html
    with activate(tenant):
        db.session.expire_all()
        stored = db.session.get(Survey, survey.id)
        assert stored.sent_at is not None
        assert stored.token_hash == surveys.token_hash(token) and token not in stored.token_hash
    assert survey_jobs.send_survey(tenant.id, survey.id) == "nothing to send"
    assert len(outbox) == 1


def test_get_shows_only_and_post_records_the_weighted_score(db, client, make_tenant,
                                                           make_staff, make_complaint, outbox):
    tenant = make_tenant(settings={"survey_weights": {"overall": 1, "service": 2, "quality": 1}})
    complaint = make_complaint(tenant)
    close(db, tenant, complaint, make_staff(tenant, "after_sales"))
    with activate(tenant):
        survey = db.session.scalar(select(Survey).where(Survey.complaint_id == complaint.id))
    survey_jobs.send_survey(tenant.id, survey.id)
    url = f"/t/{tenant.slug}/survey/{link_token(outbox)}"

    for _ in range(3):  # a mail scanner, a preview, the customer
        page = client.get(url)
        assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    with activate(tenant):
        db.session.expire_all()
        survey = db.session.get(Survey, survey.id)
        assert survey.opened_at is not None and survey.answered_at is None
        assert survey.total_score is None and not survey.answers

    scores = {"price": 50, "delivery": 100, "use": 75,  # overall 75
              "response_time": 100, "efficiency": 100, "effectiveness": 100,  # service 100
              "quality": 25, "safety": 75}  # quality 50
    response = answer_form(client, url, scores, suggestions="Faster shipping",
                           comments="Good work")
    assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
    with activate(tenant):
        db.session.expire_all()
        survey = db.session.get(Survey, survey.id)
        # (75*1 + 100*2 + 50*1) / 4 = 81.25
        assert survey.total_score == Decimal("81.25")
        assert survey.answers["modules"] == {"overall": "75.00", "service": "100.00",
                                             "quality": "50.00"}
        assert survey.answers["suggestions"] == "Faster shipping"
        assert survey.comments == "Good work"
        assert db.session.query(Action).filter_by(kind="follow_up").count() == 0
    thanks = client.get(url + "/thanks").get_data(as_text=True)
    assert "81.25" in thanks


def test_low_score_opens_one_follow_up_for_the_service_lead(db, client, closed, outbox,
                                                           make_staff):
    tenant, complaint, survey, lead = closed
    survey_jobs.send_survey(tenant.id, survey.id)
    url = f"/t/{tenant.slug}/survey/{link_token(outbox)}"
    low = {q: 25 for q in ALL_SATISFIED}
    assert answer_form(client, url, low).status_code == 303
    assert answer_form(client, url, {**low, "price": 0}).status_code == 303  # edited: still one
    with activate(tenant):
        actions = db.session.query(Action).filter_by(kind="follow_up").all()
        assert len(actions) == 1
        action = actions[0]
        assert action.complaint_id == complaint.id and action.owner_id == lead.id
        assert complaint.number in action.title
        kinds = [e.kind for e in db.session.query(TimelineEvent)
                 .filter_by(complaint_id=complaint.id)]
        assert "survey.low_score" in kinds and kinds.count("survey.answered") == 1
        db.session.expire_all()
        survey = db.session.get(Survey, survey.id)
        assert survey.answers["questions"]["price"] == 0


def test_one_answer_per_link_editable_for_a_while_then_final(db, client, closed, outbox):
    tenant, complaint, survey, _ = closed
    survey_jobs.send_survey(tenant.id, survey.id)
    url = f"/t/{tenant.slug}/survey/{link_token(outbox)}"
    answer_form(client, url, ALL_SATISFIED)
    page = client.get(url).get_data(as_text=True)
    assert "You can still change it" in page and '<input checked id="price-0"' in page
    answer_form(client, url, {**ALL_SATISFIED, "safety": 75})
    csrf = csrf_from(client.get(url).get_data(as_text=True))
    with activate(tenant):
        db.session.expire_all()
        survey = db.session.get(Survey, survey.id)
        first = survey.answered_at
        assert survey.answers["questions"]["safety"] == 75 and survey.answered_at == first
        survey.answered_at = utcnow() - timedelta(hours=surveys.EDIT_HOURS + 1)
        db.session.flush()
    page = client.get(url)
    assert page.status_code == 200 and "can no longer be changed" in page.get_data(as_text=True)
    late = client.post(url, data={"csrf_token": csrf, **{k: "0" for k in ALL_SATISFIED}})
    assert late.status_code == 200  # the closed page; nothing recorded
    with activate(tenant):
        db.session.expire_all()
        assert db.session.get(Survey, survey.id).answers["questions"]["safety"] == 75


def test_expired_link_says_so(db, client, closed, outbox):
    tenant, _, survey, _ = closed
    survey_jobs.send_survey(tenant.id, survey.id)
    with activate(tenant):
        survey.expires_at = utcnow() - timedelta(minutes=1)
        db.session.flush()
    response = client.get(f"/t/{tenant.slug}/survey/{link_token(outbox)}")
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_missing_or_hostile_answers_are_refused_and_nothing_typed_is_lost(db, client, closed,
                                                                          outbox):
    tenant, _, survey, _ = closed
    survey_jobs.send_survey(tenant.id, survey.id)
    url = f"/t/{tenant.slug}/survey/{link_token(outbox)}"
    partial = {k: v for k, v in ALL_SATISFIED.items() if k != "safety"}
    response = answer_form(client, url, {**partial, "price": 101},
                           comments="<script>alert(1)</script> keep me")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="safety-error"' in html and 'id="price-error"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; keep me" in html and "<script>alert" not in html
    response = answer_form(client, url, ALL_SATISFIED, comments="x" * (surveys.TEXT_LIMIT + 1))
    assert response.status_code == 422 and 'id="comments-error"' in response.get_data(as_text=True)
    with activate(tenant):
        db.session.expire_all()
        assert db.session.get(Survey, survey.id).answered_at is None


def test_unknown_or_other_tenants_link_is_404(db, client, closed, outbox, make_tenant):
    tenant, _, survey, _ = closed
    survey_jobs.send_survey(tenant.id, survey.id)
    token = link_token(outbox)
    other = make_tenant()
    assert client.get(f"/t/{other.slug}/survey/{token}").status_code == 404
    assert client.get(f"/t/{tenant.slug}/survey/{'A' * 43}").status_code == 404
    assert client.get(f"/t/{tenant.slug}/survey/{token}").status_code == 200


def test_yearly_campaign_sends_reminds_and_shows_progress(db, client, make_tenant, make_staff,
                                                          make_contact, sign_in, outbox):
    tenant = make_tenant(default_locale="en")
    admin = make_staff(tenant, "admin")
    contacts = [make_contact(tenant) for _ in range(3)]
    with activate(tenant):
        contacts[2].active = False
        db.session.flush()
    sign_in(client, tenant, admin.email)
    base = f"/t/{tenant.slug}/staff/surveys/"
    token = csrf_from(client.get(base).get_data(as_text=True))
    bad = client.post(base, data={"csrf_token": token, "name": "", "year": "1999",
                                  "reminder_after_days": "0"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert all(f'id="{f}-error"' in page for f in ("name", "year", "reminder_after_days"))
    created = client.post(base, data={"csrf_token": token, "name": "Customers 2026",
                                      "year": "2026", "reminder_after_days": "7"})
    assert created.status_code == 303
    campaign_url = created.headers["Location"]
    campaign_id = int(campaign_url.rstrip("/").rsplit("/", 1)[1])
    launched = client.post(campaign_url + "/launch", data={"csrf_token": token})
    assert launched.status_code == 303
    # Embedded default: the launch job and its batch ran in process after the commit.
    assert sorted(m[0] for m in outbox) == sorted(c.email for c in contacts[:2])
    with activate(tenant):
        campaign = db.session.get(SurveyCampaign, campaign_id)
        assert campaign.status == "running"
        assert surveys.progress(campaign)["sent"] == 2
    # A re-run of the launch job creates and sends nothing twice.
    assert survey_jobs.launch_campaign(tenant.id, campaign_id) == 0
    assert len(outbox) == 2
    # One contact answers; the reminder goes to the other only.
    first_token = re.search(r"/survey/([A-Za-z0-9_\-]+)", outbox[0][2]).group(1)
    answer_form(client, f"/t/{tenant.slug}/survey/{first_token}", ALL_SATISFIED)
    assert survey_jobs.send_reminders(tenant.id, campaign_id) == 1
    assert len(outbox) == 3 and outbox[2][0] != outbox[0][0]
    assert outbox[2][1].startswith("Reminder")
    assert re.search(r"/survey/([A-Za-z0-9_\-]+)", outbox[2][2]).group(1) == \
        re.search(r"/survey/([A-Za-z0-9_\-]+)", outbox[1][2]).group(1)  # the same link
    progress = client.get(campaign_url).get_data(as_text=True)
    assert re.search(r'tile-count">2<.*Sent', progress, re.S)
    with activate(tenant):
        p = surveys.progress(db.session.get(SurveyCampaign, campaign_id))
    assert (p["targeted"], p["sent"], p["opened"], p["answered"], p["reminded"]) == (2, 2, 1, 1, 1)
    assert p["rate"] == 50.0


def test_results_and_exports_neutralise_formulas(db, client, make_tenant, make_staff,
                                                make_contact, make_company, sign_in, outbox):
    from openpyxl import load_workbook

    tenant = make_tenant()
    quality = make_staff(tenant, "quality")
    company = make_company(tenant, name="=HYPERLINK(\"http://evil\")")
    contact = make_contact(tenant, company=company)
    with activate(tenant):
        campaign = surveys.create_campaign("2026", 2026, 7)
        campaign.status = "running"
        surveys.populate(campaign)
        survey = db.session.scalar(select(Survey).where(Survey.contact_id == contact.id))
        survey.sent_at = utcnow()
        surveys.submit(survey, tenant, {q: 75 for q in ALL_SATISFIED}, "+1 more", "@admin -2")
    sign_in(client, tenant, quality.email)
    page = client.get(f"/t/{tenant.slug}/staff/surveys/results")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "100.0" in html and "75.0" in html  # response rate and the average
    csv_text = client.get(f"/t/{tenant.slug}/staff/surveys/results.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in csv_text and "'+1 more" in csv_text and "'@admin -2" in csv_text
    xlsx = client.get(f"/t/{tenant.slug}/staff/surveys/results.xlsx?campaign={campaign.id}")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert "'=HYPERLINK(\"http://evil\")" in values and 75 in values
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)


def test_roles_and_other_tenants_campaigns(db, client, make_tenant, make_staff, sign_in):
    tenant, other = make_tenant(), make_tenant()
    logistics = make_staff(tenant, "logistics")
    quality = make_staff(tenant, "quality")
    with activate(other):
        foreign = surveys.create_campaign("Theirs", 2026, 7)
    sign_in(client, tenant, logistics.email)
    assert client.get(f"/t/{tenant.slug}/staff/surveys/").status_code == 403
    assert client.get(f"/t/{tenant.slug}/staff/surveys/results.csv").status_code == 403
    client.post(f"/t/{tenant.slug}/staff/sign-out",
                data={"csrf_token": csrf_from(client.get(f"/t/{tenant.slug}/staff/account/password").get_data(as_text=True))})
    client.delete_cookie("session")
    sign_in(client, tenant, quality.email)
    base = f"/t/{tenant.slug}/staff/surveys"
    assert client.get(f"{base}/campaigns/{foreign.id}").status_code == 404
    assert client.get(f"{base}/results?campaign={foreign.id}").status_code == 404
    token = csrf_from(client.get(f"{base}/").get_data(as_text=True))
    # Not an admin: may look, may not create or launch.
    assert client.post(f"{base}/", data={"csrf_token": token, "name": "x", "year": "2026",
                                         "reminder_after_days": "7"}).status_code == 403
    assert client.post(f"{base}/campaigns/{foreign.id}/launch",
                       data={"csrf_token": token}).status_code == 403


def test_contact_model_untouched_by_campaign_of_other_tenant(db, make_tenant, make_contact):
    tenant, other = make_tenant(), make_tenant()
    make_contact(tenant)
    make_contact(other)
    with activate(tenant):
        campaign = surveys.create_campaign("Mine", 2026, 7)
        assert surveys.populate(campaign) == 1
        assert {s.contact_id for s in db.session.query(Survey)} <= {
            c.id for c in db.session.query(Contact)}
