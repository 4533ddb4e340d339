"""The monthly meeting pack through the real thing: the clock's ``due()`` claims last month's
pack on the tenant's first working day (once, however often it runs), the outbox relays the
build to Redis, a `flask worker` builds the PDFs (stored on S3 over HTTP) and the managers'
mails reach the SMTP sink, each in its reader's language."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from .conftest import needs_services, wait_for

pytestmark = [needs_services, pytest.mark.services]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(y, m, d, hour) -> datetime:
    return datetime(y, m, d, hour, tzinfo=SHANGHAI).astimezone(UTC)


def _tenant(real):
    from portal.models import Complaint, Department, StaffUser, Tenant

    with real.tenant_context() as db:
        tenant = Tenant(slug=f"mp{uuid.uuid4().hex[:8]}", name="Pack Works", default_locale="en",
                        timezone="Asia/Shanghai")
        db.session.add(tenant)
        db.session.commit()
        tenant_id = tenant.id
    suffix = uuid.uuid4().hex[:6]
    with real.tenant_context(tenant_id) as db:
        department = Department(name="Quality", kind="quality")
        db.session.add(department)
        db.session.flush()
        people = [("boss-en", ["manager"], "en"), ("boss-zh", ["manager"], "zh_CN"),
                  ("engineer", ["quality"], "en")]
        for name, roles, locale in people:
            db.session.add(StaffUser(email=f"{name}-{suffix}@works.example.com", name=name,
                                     roles=roles, locale=locale, department_id=department.id))
        for k in range(6):
            db.session.add(Complaint(number=f"QC-MP-{k}", reporter_name="R", title=f"Case {k}",
                                     description="d", status="analysis", info_class="A",
                                     responsible_department_id=department.id,
                                     created_at=at(2026, 11, 3 + k, 10)))
        db.session.commit()
    return tenant_id, suffix


def test_due_only_on_the_first_working_day_once_and_mailed_to_managers(real):
    from pypdf import PdfReader

    from jobs.meeting_pack import due
    from portal.models import MeetingPack

    tenant_id, suffix = _tenant(real)
    with real.app.app_context():
        # 1 November 2026 is a Sunday: the first working day is Monday the 2nd.
        assert due(at(2026, 11, 1, 10), [tenant_id]) == []
        assert due(at(2026, 12, 1, 7), [tenant_id]) == []  # before the tenant's hour (8)
        assert due(at(2026, 12, 2, 9), [tenant_id]) == []  # not the first working day
        claimed = due(at(2026, 12, 1, 9), [tenant_id])
        assert len(claimed) == 1
        assert due(at(2026, 12, 1, 9), [tenant_id]) == []  # never twice
        assert due(at(2026, 12, 1, 15), [tenant_id]) == []

    real.start_worker()
    boss_en = f"boss-en-{suffix}@works.example.com"
    boss_zh = f"boss-zh-{suffix}@works.example.com"
    english = wait_for(lambda: (real.sink.to(boss_en) or [None])[0], timeout=120,
                       what="the English manager's mail")
    chinese = wait_for(lambda: (real.sink.to(boss_zh) or [None])[0], timeout=60,
                       what="the Chinese manager's mail")
    assert english["Subject"] == "Quality meeting pack 2026-11 — Pack Works"
    assert "2026-11" in chinese["Subject"] and "质量例会" in chinese["Subject"]
    assert "http://closeloop.test/t/" in english.get_body(("plain",)).get_content()
    assert not real.sink.to(f"engineer-{suffix}@works.example.com")

    with real.tenant_context(tenant_id) as db:
        pack = db.session.get(MeetingPack, claimed[0])
        assert pack.month == date(2026, 11, 1) and pack.mailed_at is not None
        assert sorted(pack.files) == ["en", "zh_CN"]
        assert pack.build_seconds < 10
        assert sorted(pack.mailed_to) == sorted([boss_en, boss_zh])
        files = dict(pack.files)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        real.s3_get(files["en"]))).pages)
    assert "Quality meeting pack 2026-11" in text and "QC-MP-3" in text
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        real.s3_get(files["zh_CN"]))).pages)
    assert "2026-11" in text and "QC-MP-5" in text and "部门" in text


def test_a_tenant_can_turn_the_mailing_off(real):
    from jobs.meeting_pack import due
    from portal.models import Tenant

    tenant_id, _ = _tenant(real)
    with real.tenant_context() as db:
        tenant = db.session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "meeting_pack_mail": False}
        db.session.commit()
    with real.app.app_context():
        assert due(at(2026, 12, 1, 9), [tenant_id]) == []
