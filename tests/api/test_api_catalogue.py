"""Customers, contacts, product models and the shipment upsert through the REST API."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Shipment
from portal.tenancy import activate


def test_customers_and_contacts(setup, count_statements):
    api = setup
    created = api.post("/customers", json={"name": "Beta Pumps", "code": "B-01",
                                           "key_account": True})
    assert created.status_code == 201, created.get_data(as_text=True)
    customer = created.get_json()
    contact = api.post(f"/customers/{customer['id']}/contacts",
                       json={"name": "Wang Fang", "email": "Wang@Beta.example.com",
                             "locale": "zh_CN"})
    assert contact.status_code == 201 and contact.get_json()["email"] == "wang@beta.example.com"
    duplicate = api.post("/customers", json={"name": "beta pumps"})
    assert duplicate.status_code == 409 and duplicate.get_json()["code"] == "duplicate"
    again = api.post(f"/customers/{customer['id']}/contacts",
                     json={"name": "W", "email": "wang@beta.example.com"})
    assert again.status_code == 409
    bad_email = api.post(f"/customers/{customer['id']}/contacts",
                         json={"name": "W", "email": "not-an-address"})
    assert bad_email.status_code == 422
    assert bad_email.get_json()["errors"]["json"]["email"] == ["Enter a valid e-mail address."]
    read = api.get(f"/customers/{customer['id']}").get_json()
    assert [c["name"] for c in read["contacts"]] == ["Wang Fang"]
    for i in range(3):
        api.post("/customers", json={"name": f"Gamma {i}"})
    with count_statements() as small:
        first = api.get("/customers", query_string={"limit": 1}).get_json()
    with count_statements() as large:
        everything = api.get("/customers", query_string={"limit": 100}).get_json()
    assert len(small) == len(large)
    assert len(everything["items"]) == 5 and everything["next_cursor"] is None
    second = api.get("/customers", query_string={"limit": 1, "cursor": first["next_cursor"]})
    assert second.get_json()["items"][0]["id"] > first["items"][0]["id"]


def test_product_models(setup, count_statements):
    api = setup
    created = api.post("/product-models", json={"code": "FAN-9", "name_zh": "风扇",
                                                "name_en": "Fan", "serial_pattern": "^F\\d+$"})
    assert created.status_code == 201
    assert api.post("/product-models", json={"code": "fan-9", "name_zh": "x",
                                             "name_en": "x"}).status_code == 409
    bad = api.post("/product-models", json={"code": "X", "name_zh": "x", "name_en": "x",
                                            "serial_pattern": "(["})
    assert bad.status_code == 422 and "serial_pattern" in bad.get_json()["errors"]["json"]
    with count_statements() as seen:
        codes = [p["code"] for p in api.get("/product-models").get_json()["items"]]
    assert codes == ["PUMP-100", "FAN-9"] and len(seen) <= 3
    # Path tricks and oversized ids are plain 404 problems.
    for path in ("/customers/99999999999", "/customers/..%2F..%2Fstaff", "/complaints/..%2Fx",
                 "/complaints/%00"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.mimetype == "application/problem+json"


def _rows(api, n, quantity=10):
    start = date(2026, 1, 1)
    return [{"product_model": api.product.code, "lot": f"L{i:05d}", "quantity": quantity,
             "shipped_on": (start + timedelta(days=i % 300)).isoformat(),
             "customer": "Acme Motors" if i % 2 else None,
             "serial_first": f"PX{i:05d}000", "serial_last": f"PX{i:05d}099"}
            for i in range(n)]


def test_ten_thousand_row_upsert_is_idempotent_and_takes_few_statements(setup,
                                                                        count_statements):
    api = setup
    rows = _rows(api, 10_000)
    with count_statements() as seen:
        first = api.post("/shipments/upsert", json={"rows": rows})
    assert first.status_code == 200, first.get_data(as_text=True)[:500]
    assert first.get_json() == {"created": 10_000, "updated": 0}
    assert len(seen) < 15, len(seen)
    again = api.post("/shipments/upsert", json={"rows": rows})
    assert again.get_json() == {"created": 0, "updated": 10_000}
    changed = _rows(api, 3, quantity=99)
    assert api.post("/shipments/upsert", json={"rows": changed}).get_json() == {
        "created": 0, "updated": 3}
    with activate(api.tenant):
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == 10_000
        assert db.session.scalar(select(Shipment.quantity).where(Shipment.lot == "L00001")) == 99
    page = api.get("/shipments", query_string={"limit": 2}).get_json()
    assert [s["lot"] for s in page["items"]] == ["L00000", "L00001"]
    assert page["items"][1]["customer"] == "Acme Motors"
    with count_statements() as small:
        api.get("/shipments", query_string={"limit": 1})
    with count_statements() as large:
        api.get("/shipments", query_string={"limit": 100, "cursor": page["next_cursor"]})
    assert len(small) == len(large) <= 3  # tenant, token with its user, the page


def test_upsert_refuses_bad_rows_and_writes_nothing(setup):
    api = setup
    rows = _rows(api, 3)
    rows[1]["product_model"] = "UNKNOWN"
    rows[2]["lot"] = rows[0]["lot"]
    refused = api.post("/shipments/upsert", json={"rows": rows})
    assert refused.status_code == 422
    problems = refused.get_json()["errors"]["rows"]
    assert {(p["row"], p["code"]) for p in problems} == {(1, "unknown_model"), (2, "duplicate")}
    assert problems[0]["message"]
    with activate(api.tenant):
        assert db.session.scalar(select(func.count()).select_from(Shipment)) == 0
    too_many = api.post("/shipments/upsert", json={"rows": _rows(api, 10_001)})
    assert too_many.status_code == 422
    assert api.post("/shipments/upsert", json={"rows": []}).status_code == 422
    typed = _rows(api, 6)
    typed[0]["quantity"] = "10"
    typed[1]["shipped_on"] = "2026-02-30"
    typed[2]["lot"] = 42
    typed[3]["colour"] = "red"
    typed[4]["serials"] = "PX1, PX2"
    del typed[5]["product_model"]
    refused = api.post("/shipments/upsert", json={"rows": typed},
                       headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 422
    errors = refused.get_json()["errors"]["json"]["rows"]
    assert set(errors) == {"0", "1", "2", "3", "4", "5"}
    assert set(errors["3"]) == {"colour"} and set(errors["5"]) == {"product_model"}
    assert errors["5"]["product_model"] == ["此项为必填项。"]  # in the caller's language
    assert api.post("/shipments/upsert", json={"rows": "x" * 10}).status_code == 422
    bad_range = _rows(api, 1)
    bad_range[0]["serial_last"] = "ZZ"
    assert api.post("/shipments/upsert", json={"rows": bad_range}).status_code == 422


def test_upsert_takes_installation_dates_and_keeps_them_when_left_out(setup):
    api = setup
    rows = _rows(api, 2)
    rows[0]["installed_on"] = "2026-01-20"
    assert api.post("/shipments/upsert", json={"rows": rows}).status_code == 200
    rows[0].pop("installed_on")
    rows[0]["quantity"] = 11
    assert api.post("/shipments/upsert", json={"rows": rows}).status_code == 200
    listed = {s["lot"]: s for s in api.get("/shipments").get_json()["items"]}
    assert (listed["L00000"]["quantity"], listed["L00000"]["installed_on"]) == (11, "2026-01-20")
    assert listed["L00001"]["installed_on"] is None
    bad = _rows(api, 1)
    bad[0]["installed_on"] = "2025-12-31"  # before the shipment
    refused = api.post("/shipments/upsert", json={"rows": bad})
    assert refused.get_json()["errors"]["rows"][0]["code"] == "installed_before_shipped"
    bad[0]["installed_on"] = "soon"
    assert api.post("/shipments/upsert", json={"rows": bad}).status_code == 422
