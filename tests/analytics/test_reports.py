"""The escalation report list made readable: model, failure mode, lot, the figure against its
threshold, owner, translated state and due time, with filters; the detail links each complaint."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.models import EscalationReport, FailureMode, Shipment, utcnow
from portal.tenancy import activate
from tests.conftest import PASSWORD


def test_report_list_shows_the_figures_and_filters(client, db, sign_in, make_tenant,
                                                   make_staff, make_product, make_complaint):
    tenant, other = make_tenant(default_locale="en"), make_tenant()
    quality = make_staff(tenant, "quality", name="Qiu Quality")
    assert sign_in(client, tenant, quality.email, PASSWORD).status_code == 303
    product = make_product(tenant, code="LX-900")
    quiet = make_product(tenant, code="QUIET-1")
    with activate(tenant):
        mode = FailureMode(code="noise", name_zh="异响", name_en="Abnormal noise")
        db.session.add_all([mode, Shipment(product_model_id=product.id, lot="L7", quantity=1000,
                                           shipped_on=utcnow().date() - timedelta(days=3))])
        db.session.flush()
    complaint = make_complaint(tenant, product_model_id=product.id, defect_quantity=5)
    foreign = make_product(other, code="FOREIGN-9")
    with activate(tenant):
        report = db.session.scalar(select(EscalationReport).where(
            EscalationReport.kind == "market_exception"))
        report.failure_mode_id = mode.id
        report.lot = "L7"
        db.session.flush()
        report_id, number = report.id, report.number
    base = f"/t/{tenant.slug}/staff/reports"
    html = client.get(base).get_data(as_text=True)
    for text in (number, "LX-900", "Abnormal noise", "L7", "5.00‰ &gt; 3‰ (5/1000)",
                 "Qiu Quality", ">Open<", "Market quality exception report"):
        assert text in html, text
    assert ">open<" not in html  # the state is translated, not the raw value
    assert number in client.get(f"{base}?kind=market_exception&status=open&product={product.id}"
                                f"&mode={mode.id}").get_data(as_text=True)
    for query in (f"kind=special&product={product.id}", "status=issued",
                  f"product={quiet.id}", f"product={foreign.id}"):
        assert number not in client.get(f"{base}?{query}").get_data(as_text=True), query
    for query in ("kind=<script>", "status=%27--", "product=-4", "mode=abc"):
        response = client.get(f"{base}?{query}")
        assert response.status_code == 200 and number in response.get_data(as_text=True)
    detail = client.get(f"{base}/{report_id}").get_data(as_text=True)
    assert f'href="/t/{tenant.slug}/staff/complaints/{complaint.id}"' in detail
    assert "Figure against threshold" in detail and "Opened" in detail


def test_report_list_in_chinese(client, db, sign_in, make_tenant, make_staff, make_product,
                                make_complaint):
    tenant = make_tenant(default_locale="zh_CN")
    quality = make_staff(tenant, "quality")
    assert sign_in(client, tenant, quality.email, PASSWORD).status_code == 303
    product = make_product(tenant)
    with activate(tenant):
        db.session.add(Shipment(product_model_id=product.id, lot="A", quantity=100,
                                shipped_on=utcnow().date()))
        db.session.flush()
    make_complaint(tenant, product_model_id=product.id, defect_quantity=2)
    html = client.get(f"/t/{tenant.slug}/staff/reports").get_data(as_text=True)
    assert "处理中" in html and "对照阈值" in html


def test_a_report_without_figures_still_shows(client, db, sign_in, make_tenant, make_staff):
    """A report opened by hand (or before figures were kept) has no evidence: its list row, page
    and PDF show dashes instead of failing."""
    tenant = make_tenant(default_locale="en")
    quality = make_staff(tenant, "quality")
    assert sign_in(client, tenant, quality.email, PASSWORD).status_code == 303
    with activate(tenant):
        report = EscalationReport(number="R-1", kind="special", trigger="manual")
        db.session.add(report)
        db.session.flush()
        report_id = report.id
    base = f"/t/{tenant.slug}/staff/reports"
    assert "R-1" in client.get(base).get_data(as_text=True)
    assert client.get(f"{base}/{report_id}").status_code == 200
    assert client.get(f"{base}/{report_id}.pdf").status_code == 200
