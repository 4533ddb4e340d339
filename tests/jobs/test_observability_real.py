"""The request id through the real thing: a web request queues an e-mail (outbox -> Redis),
a real `flask worker` logging JSON sends it, and the job's log lines carry the request's id.
The metrics read Redis: queue depth while it waits, the job's count after it ran."""

from __future__ import annotations

import json
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import csrf_from

from .conftest import needs_services, wait_for

pytestmark = [needs_services, pytest.mark.services]


def _samples(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for s in family.samples}


def test_the_request_id_follows_a_sign_in_link_into_the_worker(real):
    from portal.models import Contact, CustomerCompany, Tenant

    email = f"buyer-{uuid.uuid4().hex[:6]}@buyer.example.com"
    with real.tenant_context() as db:
        tenant = Tenant(slug=f"o{uuid.uuid4().hex[:8]}", name="Watch Works",
                        default_locale="en")
        db.session.add(tenant)
        db.session.commit()
        tenant_id, slug = tenant.id, tenant.slug
    with real.tenant_context(tenant_id) as db:
        company = CustomerCompany(name="Buyer Ltd")
        db.session.add(company)
        db.session.flush()
        db.session.add(Contact(company_id=company.id, email=email, name="Buyer", locale="en"))
        db.session.commit()

    client = real.app.test_client()
    before = _samples(client)
    page = client.get(f"/t/{slug}/sign-in").get_data(as_text=True)
    request_id = f"link-{uuid.uuid4().hex[:12]}"
    response = client.post(f"/t/{slug}/sign-in/link", data={
        "email": email, "csrf_token": csrf_from(page)}, headers={"X-Request-ID": request_id})
    assert response.status_code == 303 and response.headers["X-Request-ID"] == request_id
    waiting = _samples(client)
    mail_queue = (("queue", "mail"),)
    assert waiting[("closeloop_queue_depth", mail_queue)] >= 1

    worker = real.start_worker("--burst", LOG_FORMAT="json")
    worker.wait(timeout=120)
    assert real.sink.to(email), real.worker_logs()
    lines = [json.loads(line) for line in worker.log_path.read_text().splitlines()
             if line.startswith("{")]
    job_lines = [line for line in lines if line.get("request_id") == request_id]
    finished = next(line for line in job_lines if line["logger"] == "closeloop.job")
    assert finished["job"] == "jobs.mail.send_email" and finished["outcome"] == "ok"
    assert finished["tenant_id"] == tenant_id and finished["job_id"]
    assert all(line["time"] and line["level"] for line in lines)

    after = wait_for(lambda: (s := _samples(client))[("closeloop_queue_depth", mail_queue)] == 0
                     and s, what="the mail queue to empty in the metrics")
    key = ("closeloop_jobs_total", (("job", "jobs.mail.send_email"), ("outcome", "ok")))
    assert after[key] == before.get(key, 0) + 1
