""""The customer sees this": the box on each form writing a staff text, and the preview of
the text as the customer will read it (htmx)."""

from __future__ import annotations

from portal.tenancy import activate


def test_forms_offer_the_choice_unticked(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, product_model_id=shop.product_id)
    with activate(shop.tenant):
        cid = complaint.id
    after_sales = as_role("after_sales")
    after_sales.post(f"/complaints/{cid}/transition/start_verification", page=f"/complaints/{cid}")
    html = after_sales.get(f"/complaints/{cid}").get_data(as_text=True)
    assert 'name="customer_sees"' in html and "customer_sees\" value=\"y\" checked" not in html
    assert "customer-preview" in html and "hx-trigger=\"input from:#" in html


def test_the_preview_shows_the_text_as_the_customer_reads_it(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, product_model_id=shop.product_id)
    with activate(shop.tenant):
        cid = complaint.id
    staff = as_role("after_sales")
    url = f"/complaints/{cid}/customer-preview"
    hostile = "<script>alert(1)</script> 运费由我方承担"
    shown = staff.post(url, {"kind": "request.created", "field": "note", "note": hostile,
                             "customer_sees": "y"}, page=f"/complaints/{cid}")
    body = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "&lt;script&gt;" in body and "<script>" not in body and "运费由我方承担" in body
    assert "您的请求正在处理" in body or "request" in body.lower()
    hidden = staff.post(url, {"kind": "request.created", "field": "note", "note": hostile},
                        page=f"/complaints/{cid}").get_data(as_text=True)
    assert "运费由我方承担" not in hidden and "Staff only" in hidden
    internal = staff.post(url, {"kind": "root_cause.recorded", "field": "message",
                                "message": "x", "customer_sees": "y"}, page=f"/complaints/{cid}")
    assert "Staff only" in internal.get_data(as_text=True)
    question = staff.post(url, {"kind": "transition.request_information", "field": "message",
                                "message": "Which lot?"}, page=f"/complaints/{cid}")
    assert "Which lot?" in question.get_data(as_text=True)
    unknown = staff.post(url, {"kind": "../../etc/passwd", "field": "x"}, page=f"/complaints/{cid}")
    assert unknown.status_code == 422


def test_another_tenants_complaint_is_not_previewed(shop, as_role, make_tenant, make_contact,
                                                   make_complaint, db):
    other = make_tenant()
    foreign = make_complaint(other, make_contact(other))
    with activate(other):
        fid = foreign.id
    staff = as_role("after_sales")
    response = staff.post(f"/complaints/{fid}/customer-preview",
                          {"kind": "request.created", "field": "note", "note": "x"})
    assert response.status_code == 404


def test_without_csrf_the_preview_is_refused(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact)
    with activate(shop.tenant):
        cid = complaint.id
    staff = as_role("after_sales")
    response = staff.client.post(staff.url(f"/complaints/{cid}/customer-preview"),
                                 data={"kind": "request.created", "note": "x"})
    assert response.status_code in (400, 403)
