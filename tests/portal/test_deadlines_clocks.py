"""Clocks start on submission, stop, pause and resume on workflow transitions, and render."""

from __future__ import annotations

from datetime import timedelta

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from portal.deadlines import clocks_for
from portal.models import DeadlineClock
from portal.tenancy import activate


def _clocks(db, complaint):
    return {c.kind: c for c in db.session.scalars(
        select(DeadlineClock).where(DeadlineClock.complaint_id == complaint.id))}


def test_submission_starts_the_policy_clocks(db, make_tenant, make_complaint, app):
    tenant = make_tenant()
    complaint = make_complaint(tenant)
    with activate(tenant):
        clocks = _clocks(db, complaint)
        assert set(clocks) == {"forward", "first_contact", "answer"}
        assert clocks["first_contact"].due_at - clocks["first_contact"].started_at \
            == timedelta(hours=24)
        assert clocks["answer"].budget_minutes == 48 * 60
        assert clocks["forward"].working_time and clocks["forward"].budget_minutes == 225
        views = clocks_for(complaint)
        assert [v.state for v in views] == ["running"] * 3
        with app.test_request_context(), force_locale("en"):
            html = render_template("internal/_clocks.html", complaint=complaint)
            assert "First contact with the customer" in html
            assert "promised to the customer" in html
            badge = render_template("internal/_clock_badge.html", complaint=complaint)
            assert "clock-badge" in badge
            promises = render_template("customer/_promises.html", complaint=complaint)
            assert "We will contact you" in promises
            assert "Forward" not in promises


def test_production_exception_has_containment_clocks(db, make_tenant, make_complaint):
    tenant = make_tenant()
    complaint = make_complaint(tenant, source="production", channel="in_process")
    with activate(tenant):
        clocks = _clocks(db, complaint)
        assert set(clocks) == {"containment", "long_term"}
        assert clocks["containment"].due_at - clocks["containment"].started_at \
            == timedelta(minutes=30)


def test_queue_badges_read_like_the_badge_template(db, make_tenant, make_complaint, app):
    """badge_texts (the queue's page-at-once badges) says what internal/_clock_badge.html
    says for the same complaint: running, late and paused, in English and Chinese."""
    import re

    from portal.deadlines import badge_texts
    from portal.models import utcnow

    tenant = make_tenant()
    running, late, paused = (make_complaint(tenant) for _ in range(3))
    with activate(tenant):
        now = utcnow()
        for clock in _clocks(db, late).values():
            clock.due_at = now - timedelta(days=3, hours=2)
            clock.warn_at = now - timedelta(days=4)
        for clock in _clocks(db, paused).values():
            clock.paused_at = now - timedelta(minutes=5)
        db.session.flush()
        for locale in ("en", "zh_CN"):
            with app.test_request_context(), force_locale(locale):
                texts = badge_texts([running, late, paused])
                for complaint in (running, late, paused):
                    html = render_template("internal/_clock_badge.html", complaint=complaint)
                    css, title, text = re.search(
                        r'class="clock-badge clock-(\w+)" title="([^"]*)">([^<]*)</span>',
                        html).groups()
                    badge = texts[complaint.id]
                    assert (badge.css, str(badge.title), badge.text) == (
                        css, title.replace("&#39;", "'"), text), locale
        assert texts[late.id].css == "late" and texts[paused.id].css == "paused"
