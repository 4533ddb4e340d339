"""Issue 10, item 2: a shipped replacement or exchange says by which carrier — one of the
common Chinese carriers, or "other" with its name — next to its tracking number, on the staff
panel and the customer's page (in Chinese here); a refused shipment keeps what was typed."""

from __future__ import annotations

import pytest

from portal.complaints import requests as service_requests
from portal.models import Complaint, ServiceRequest
from portal.tenancy import activate
from tests.internal.complaint.test_panels import element, hx_post
from tests.internal.conftest import advance


def _exchange(db, shop, make_complaint) -> tuple[int, int, str]:
    complaint = make_complaint(shop.tenant, shop.contact, demands=["exchange"])
    advance(db, shop, complaint, "containment")
    with activate(shop.tenant):
        request = service_requests.create_request(complaint, shop.staff["after_sales"],
                                                  kind="exchange", quantity=2)
        for person in (shop.staff["logistics"], shop.contact):
            person.locale = "zh_CN"
        db.session.commit()
        return complaint.id, request.id, complaint.number


def _customer_page(app, shop, sign_in, number: str) -> str:
    client = app.test_client()
    with activate(shop.tenant):
        email = shop.contact.email
    assert sign_in(client, shop.tenant, email, staff=False).status_code == 303
    return client.get(f"/t/{shop.slug}/complaints/{number}").get_data(as_text=True)


@pytest.mark.parametrize("carrier,name,shown", [("sf", "", "顺丰速运"),
                                                ("other", "安能物流", "安能物流")])
def test_the_carrier_is_recorded_and_shown_next_to_the_tracking_number(
        app, shop, as_role, sign_in, make_complaint, db, carrier, name, shown):
    cid, rid, number = _exchange(db, shop, make_complaint)
    logistics = as_role("logistics")
    page = logistics.get(f"/complaints/{cid}").get_data(as_text=True)
    form = element(page, "panel-requests")
    assert "承运商" in form and "京东物流" in form and "德邦快递" in form and "其他承运商" in form
    response = hx_post(logistics, cid, f"/requests/{rid}/ship",
                       {"carrier": carrier, "carrier_name": name, "tracking_number": "YT889"})
    assert response.status_code == 200
    panel = response.get_data(as_text=True)
    assert f"{shown} " in panel and "YT889" in panel
    with activate(shop.tenant):
        stored = db.session.get(ServiceRequest, rid)
        assert (stored.carrier, stored.carrier_name, stored.status) == (
            carrier, name or None, "shipped")
    customer = element(_customer_page(app, shop, sign_in, number), "requests")
    assert f"承运商：{shown}" in customer and "运单号：YT889" in customer
    assert "other" not in customer and ">sf<" not in customer  # no code reaches the page


@pytest.mark.parametrize("data,message", [
    ({"carrier": "", "tracking_number": "YT1"}, "请从列表中选择"),
    ({"carrier": "dhl'; DROP TABLE service_requests;--", "tracking_number": "YT1"},
     "请从列表中选择"),
    ({"carrier": "<script>alert(1)</script>", "tracking_number": "YT1"}, "请从列表中选择"),
    ({"carrier": "other", "carrier_name": "  ", "tracking_number": "YT1"}, "承运商名称"),
    ({"carrier": "other", "carrier_name": "x" * 81, "tracking_number": "YT1"}, "过长"),
    ({"carrier": "other", "carrier_name": "快\x00递", "tracking_number": "YT1"}, "不允许"),
    ({"carrier": "zto", "tracking_number": ""}, "必填"),
])
def test_a_refused_shipment_says_why_and_keeps_what_was_typed(shop, as_role, make_complaint,
                                                              db, data, message):
    cid, rid, _ = _exchange(db, shop, make_complaint)
    response = hx_post(as_role("logistics"), cid, f"/requests/{rid}/ship",
                       {"carrier_name": "", **data})
    assert response.status_code == 422
    panel = response.get_data(as_text=True)
    assert message in panel
    assert "<script>alert" not in panel
    if data["carrier"] in ("zto", "other"):
        assert f'<option value="{data["carrier"]}" selected>' in panel
    if data["tracking_number"]:
        assert 'value="YT1"' in panel
    if data.get("carrier_name") == "x" * 81:
        assert "x" * 81 in panel  # the long name is shown back to be shortened
    with activate(shop.tenant):
        stored = db.session.get(ServiceRequest, rid)
        assert (stored.status, stored.carrier, stored.tracking_number) == ("open", None, None)


def test_the_operation_refuses_an_unknown_carrier_or_a_nameless_other(shop, make_complaint,
                                                                      db):
    from portal.complaints.permissions import Refused

    cid, rid, _ = _exchange(db, shop, make_complaint)
    with activate(shop.tenant):
        request = db.session.get(ServiceRequest, rid)
        complaint = db.session.get(Complaint, cid)
        for carrier, name in (("fedex", None), (None, None), ("other", " ")):
            with pytest.raises(Refused):
                service_requests.ship(complaint, request, shop.staff["logistics"],
                                      carrier=carrier, carrier_name=name, tracking_number="Y")
        assert request.status == "open"


def test_another_tenants_request_cannot_be_shipped(shop, as_role, make_complaint, db,
                                                   make_tenant, make_staff, make_contact):
    cid, _, _ = _exchange(db, shop, make_complaint)
    other = make_tenant()
    other_complaint = make_complaint(other, make_contact(other))
    with activate(other):
        foreign = ServiceRequest(complaint_id=other_complaint.id, kind="exchange", quantity=1)
        db.session.add(foreign)
        db.session.commit()
        foreign_id = foreign.id
    response = hx_post(as_role("logistics"), cid, f"/requests/{foreign_id}/ship",
                       {"carrier": "sf", "tracking_number": "YT1"})
    assert response.status_code == 404
