"""The tenant's brand outside the portal: its logo (and name) in the header of every PDF, and
its logo and colour at the top of HTML e-mails, with an absolute link that works in a job."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from portal.branding import logo_data_uri, logo_url, store_logo
from portal.mail import queue_mail
from portal.models import EscalationReport, OutboxMessage, Shipment, utcnow
from portal.tenancy import activate
from tests.internal.conftest import advance


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def _give_logo(db, tenant) -> None:
    tenant.logo_key = store_logo(tenant, _png())
    tenant.brand_color = "#aa3300"
    db.session.flush()


def _images(data: bytes) -> int:
    from pypdf import PdfReader

    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def _text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _complaint_with_8d(db, shop, make_complaint) -> int:
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响")
    advance(db, shop, complaint, "analysis")
    from portal.complaints import eight_d

    with activate(shop.tenant):
        eight_d.start_report(complaint, shop.staff["quality"], requested_by_customer=True)
        return complaint.id


def test_pdfs_carry_the_logo_and_the_tenant_name(shop, as_role, make_complaint, db):
    cid = _complaint_with_8d(db, shop, make_complaint)
    staff = as_role("quality")
    # without a logo: the PDFs still render, with the tenant's name and no image
    for path in (f"/complaints/{cid}/8d.pdf", f"/complaints/{cid}/improvement-sheet.pdf"):
        response = staff.get(path)
        assert response.status_code == 200 and _images(response.data) == 0
        assert shop.tenant.name in _text(response.data)
    _give_logo(db, shop.tenant)
    for path in (f"/complaints/{cid}/8d.pdf", f"/complaints/{cid}/improvement-sheet.pdf"):
        response = staff.get(path)
        assert response.status_code == 200 and _images(response.data) >= 1, path
        assert shop.tenant.name in _text(response.data)


def test_escalation_report_pdf_carries_the_logo(shop, as_role, make_complaint, db):
    with activate(shop.tenant):
        db.session.add(Shipment(product_model_id=shop.product_id, lot="B", quantity=1000,
                                shipped_on=utcnow().date() - timedelta(days=3)))
        db.session.flush()
    make_complaint(shop.tenant, product_model_id=shop.product_id, defect_quantity=50)
    with activate(shop.tenant):
        report_id = db.session.scalar(select(EscalationReport.id))
    assert report_id is not None
    staff = as_role("quality")
    plain = staff.get(f"/reports/{report_id}.pdf")
    assert plain.status_code == 200 and _images(plain.data) == 0
    _give_logo(db, shop.tenant)
    branded = staff.get(f"/reports/{report_id}.pdf")
    assert branded.status_code == 200 and _images(branded.data) >= 1


def test_logo_data_uri(shop, db):
    assert logo_data_uri(shop.tenant) is None
    _give_logo(db, shop.tenant)
    uri = logo_data_uri(shop.tenant)
    assert uri.startswith("data:image/png;base64,") and len(uri) > 100
    shop.tenant.logo_key = shop.tenant.logo_key[:-4] + "-gone.png"  # the file is missing
    assert logo_data_uri(shop.tenant) is None


def _last_html(db, to: str) -> str:
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.job == "jobs.mail.send_email").order_by(OutboxMessage.id)).all()
    return [m.args[3] for m in rows if m.args[0] == to][-1]


def test_html_mail_shows_the_logo_from_public_url_in_a_job(app, shop, db):
    app.config["PUBLIC_URL"] = "https://quality.example.com"
    try:
        _give_logo(db, shop.tenant)
        with activate(shop.tenant):  # no request: the way jobs compose mail
            queue_mail("lin@example.com", "sign_in_link", "en", tenant=shop.tenant,
                       contact=shop.contact, link="https://quality.example.com/x")
        html = _last_html(db, "lin@example.com")
        expected = f"https://quality.example.com/t/{shop.tenant.slug}/brand/logo?v="
        assert expected in html and "#aa3300" in html and shop.tenant.name in html
        assert logo_url(shop.tenant).startswith(expected)
    finally:
        app.config["PUBLIC_URL"] = "http://127.0.0.1:5000"


def test_html_mail_in_a_request_uses_an_absolute_logo_url(app, shop, db):
    _give_logo(db, shop.tenant)
    with app.test_request_context(base_url="http://portal.example.net"), \
            activate(shop.tenant):
        queue_mail("mei@example.com", "sign_in_link", "en", tenant=shop.tenant,
                   contact=shop.contact, link="http://portal.example.net/x")
    html = _last_html(db, "mei@example.com")
    assert f"http://portal.example.net/t/{shop.tenant.slug}/brand/logo?v=" in html
    # the logo link works
    client = app.test_client()
    path = "/" + html.split("http://portal.example.net/", 1)[1].split('"', 1)[0]
    response = client.get(path.replace("&amp;", "&"))
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_mail_without_logo_or_tenant_still_renders(app, shop, db):
    with activate(shop.tenant):
        queue_mail("no-logo@example.com", "sign_in_link", "en", tenant=shop.tenant,
                   contact=shop.contact, link="http://x/y")
        html = _last_html(db, "no-logo@example.com")
        assert "/brand/logo" not in html and shop.tenant.name in html
        assert "border-top: 4px solid #" in html
        queue_mail("survey@example.com", "survey", "en", tenant=None, name="Mei",
                   link="http://x/s", complaint=None, expires_at=utcnow())
        html = _last_html(db, "survey@example.com")
        assert "border-top" not in html and "Answer the survey" in html
