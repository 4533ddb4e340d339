"""Suppliers, their contacts and supplier corrective action requests through the REST API
(issue 14): checked as the admin pages check them, problems in the caller's language, another
tenant's ids are 404s, scopes hold, hostile text is kept as text, lists read in a fixed
number of statements."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Complaint, Supplier, SupplierContact, SupplierRequest, utcnow
from portal.tenancy import activate

from .conftest import Api, complaint_body

PROBLEM = "application/problem+json"


def _create(api, **changes):
    body = {"name": "Spindle Works", "code": "SP-01", "locale": "en",
            "product_codes": ["PUMP-100"], "part_numbers": ["SPN-100", " SPN-200 ", "SPN-100"]}
    body.update(changes)
    return api.post("/suppliers", json=body)


def _add_suppliers(api, count, start=0, contacts=2):
    with activate(api.tenant):
        for i in range(start, start + count):
            supplier = Supplier(name=f"Bulk {i:03d}", code=f"BK-{i:03d}", locale="zh_CN",
                                product_codes=[], part_numbers=[f"P-{i}"])
            db.session.add(supplier)
            db.session.flush()
            db.session.add_all([SupplierContact(supplier_id=supplier.id, name=f"C{i}-{n}",
                                                email=f"c{i}-{n}@bulk.example.com")
                                for n in range(contacts)])
        db.session.flush()


def test_create_list_read_update_and_contacts(setup):
    api = setup
    created = _create(api)
    assert created.status_code == 201, created.get_data(as_text=True)
    supplier = created.get_json()
    assert supplier["part_numbers"] == ["SPN-100", "SPN-200"] and supplier["active"] is True
    assert supplier["contacts"] == []
    contact = api.post(f"/suppliers/{supplier['id']}/contacts",
                       json={"name": " Li Supplier ", "email": "Li@Spindle.example.com",
                             "phone": "+86 21 5555 0100", "locale": "zh_CN"})
    assert contact.status_code == 201, contact.get_data(as_text=True)
    assert contact.get_json()["email"] == "li@spindle.example.com"
    assert contact.get_json()["name"] == "Li Supplier"
    again = api.post(f"/suppliers/{supplier['id']}/contacts",
                     json={"name": "Li", "email": "LI@spindle.example.com"})
    assert again.status_code == 409 and again.get_json()["code"] == "duplicate"
    read = api.get(f"/suppliers/{supplier['id']}").get_json()
    assert [c["email"] for c in read["contacts"]] == ["li@spindle.example.com"]
    # Name and code are each unique, ignoring case, as on the admin page.
    for clash in ({"code": "sp-01", "name": "Other"}, {"name": "SPINDLE works", "code": "X-1"}):
        refused = _create(api, **clash)
        assert refused.status_code == 409 and refused.get_json()["code"] == "duplicate"
    other = _create(api, name="Gear Co", code="GC-7", locale="zh_CN").get_json()
    renamed = api.patch(f"/suppliers/{other['id']}",
                        json={"name": "Gear Company", "part_numbers": ["G-1"]})
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    assert renamed.get_json()["name"] == "Gear Company"
    assert renamed.get_json()["code"] == "GC-7" and renamed.get_json()["part_numbers"] == ["G-1"]
    assert api.patch(f"/suppliers/{other['id']}", json={"code": "SP-01"}).status_code == 409
    # Its own name and code again is no clash.
    assert api.patch(f"/suppliers/{other['id']}", json={"code": "gc-7"}).status_code == 200
    off = api.patch(f"/suppliers/{other['id']}", json={"active": False})
    assert off.status_code == 200 and off.get_json()["active"] is False
    with activate(api.tenant):
        assert db.session.get(Supplier, other["id"]).active is False
    listed = lambda **q: [x["code"] for x in api.get("/suppliers",  # noqa: E731
                                                     query_string=q).get_json()["items"]]
    assert listed() == ["SP-01", "gc-7"]
    assert listed(active="false") == ["gc-7"] and listed(active="true") == ["SP-01"]
    assert listed(q="spindle") == ["SP-01"] and listed(q="GC-") == ["gc-7"]
    assert listed(q="%") == [] and listed(q="' OR 1=1 --") == []
    first = api.get("/suppliers", query_string={"limit": 1}).get_json()
    second = api.get("/suppliers", query_string={"limit": 1, "cursor": first["next_cursor"]})
    assert second.get_json()["items"][0]["code"] == "gc-7"
    assert second.get_json()["next_cursor"] is None


def test_idempotency_key_replays_a_create(setup):
    api = setup
    key = {"Idempotency-Key": "supplier-create-1"}
    first = api.post("/suppliers", json={"name": "Once", "code": "ONCE"}, headers=key)
    replay = api.post("/suppliers", json={"name": "Once", "code": "ONCE"}, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == first.get_json()
    assert len(api.get("/suppliers").get_json()["items"]) == 1


def test_validation_problems_in_chinese_and_english(setup):
    api = setup
    zh = {"Accept-Language": "zh-CN"}
    blank = api.post("/suppliers", json={"name": "   ", "code": "B-1"}, headers=zh)
    assert blank.status_code == 422 and blank.mimetype == PROBLEM
    assert blank.get_json()["detail"] == "有些值缺失或无效：详见 errors。"
    assert blank.get_json()["errors"]["json"]["name"] == ["此项为必填项。"]
    bad = api.post("/suppliers", json={"name": "Bad", "code": "has space",
                                       "product_codes": ["OK-1", "no good"],
                                       "locale": "fr"}, headers=zh)
    errors = bad.get_json()["errors"]["json"]
    assert bad.status_code == 422 and set(errors) == {"code", "product_codes", "locale"}
    assert errors["code"] == ["请使用字母、数字、点、横线或斜线。"]
    assert errors["product_codes"] == ["代码无效：no good"]
    english = api.post("/suppliers", json={"code": "has space"})
    errors = english.get_json()["errors"]["json"]
    assert errors == {"name": ["This field is required."],
                      "code": ["Use letters, digits, dots, dashes or slashes."]}
    too_many = api.post("/suppliers", json={"name": "Many", "code": "M",
                                            "part_numbers": [f"P{i}" for i in range(201)]})
    assert too_many.get_json()["errors"]["json"]["part_numbers"] == ["At most 200 entries."]
    assert api.post("/suppliers", json={"name": "N", "code": "C", "colour": "red"}
                    ).get_json()["errors"]["json"] == {"colour": ["Unknown field."]}
    supplier = _create(api).get_json()
    for lang, message in (("zh-CN", "请输入有效的邮箱地址。"),
                          ("en", "Enter a valid e-mail address.")):
        refused = api.post(f"/suppliers/{supplier['id']}/contacts",
                           json={"name": "W", "email": "not-an-address"},
                           headers={"Accept-Language": lang})
        assert refused.status_code == 422 and refused.mimetype == PROBLEM
        assert refused.get_json()["errors"]["json"]["email"] == [message]
    clash = api.post("/suppliers", json={"name": "Another", "code": "sp-01"}, headers=zh)
    assert clash.status_code == 409 and clash.get_json()["detail"] == "已有同名或同代码的供应商。"
    null = api.patch(f"/suppliers/{supplier['id']}", json={"name": None})
    assert null.status_code == 422 and "name" in null.get_json()["errors"]["json"]
    missing = api.get("/suppliers/99999", headers=zh)
    assert missing.status_code == 404 and missing.get_json()["detail"] == "没有此编号的供应商。"
    assert api.get("/suppliers/99999").get_json()["detail"] == "No supplier with this id."


def test_another_tenants_suppliers_are_not_found(setup, make_tenant, make_staff):
    api = setup
    other_tenant = make_tenant()
    with activate(other_tenant):
        theirs = Supplier(name="Their Supplier", code="TS-1", product_codes=[], part_numbers=[])
        db.session.add(theirs)
        db.session.flush()
        theirs_id = theirs.id
    for response in (api.get(f"/suppliers/{theirs_id}"),
                     api.patch(f"/suppliers/{theirs_id}", json={"active": False}),
                     api.post(f"/suppliers/{theirs_id}/contacts",
                              json={"name": "X", "email": "x@example.com"})):
        assert response.status_code == 404 and response.mimetype == PROBLEM
        assert response.get_json()["code"] == "not_found"
    assert api.get("/suppliers").get_json()["items"] == []
    # Their name and code are free here: uniqueness is per tenant.
    assert _create(api, name="Their Supplier", code="TS-1").status_code == 201
    with activate(other_tenant):
        assert db.session.get(Supplier, theirs_id).active is True
    for path in ("/suppliers/99999999999", "/suppliers/..%2F..%2Fstaff", "/suppliers/%00"):
        assert api.get(path).status_code == 404, path


def test_scopes_refuse_writes_to_a_read_token(setup, make_token):
    api = setup
    supplier = _create(api).get_json()
    _token, read_secret = make_token(api.tenant, api.user, "read")
    _token, complaints_secret = make_token(api.tenant, api.user, "complaints:write")
    reader = Api(api.client, api.tenant, read_secret, api.user)
    assert reader.get("/suppliers").status_code == 200
    assert reader.get(f"/suppliers/{supplier['id']}").status_code == 200
    assert reader.get("/supplier-requests").status_code == 200
    for secret in (read_secret, complaints_secret):
        auth = {"Authorization": f"Bearer {secret}"}
        for response in (api.post("/suppliers", json={"name": "N", "code": "N"}, headers=auth),
                         api.patch(f"/suppliers/{supplier['id']}", json={"active": False},
                                   headers=auth),
                         api.post(f"/suppliers/{supplier['id']}/contacts",
                                  json={"name": "X", "email": "x@example.com"}, headers=auth)):
            assert response.status_code == 403 and response.mimetype == PROBLEM
            assert response.get_json()["code"] == "scope"
    _token, writer = make_token(api.tenant, api.user, "read", "catalogue:write")
    assert api.patch(f"/suppliers/{supplier['id']}", json={"locale": "zh_CN"},
                     headers={"Authorization": f"Bearer {writer}"}).status_code == 200
    read = api.get(f"/suppliers/{supplier['id']}").get_json()
    assert read["active"] is True and read["contacts"] == [] and read["locale"] == "zh_CN"
    assert len(api.get("/suppliers").get_json()["items"]) == 1
    # No token at all: a 401 problem.
    assert api.client.get(f"{api.base}/suppliers").status_code == 401


def test_hostile_text_is_kept_as_text_and_control_characters_refused(setup):
    api = setup
    script = "<script>alert('x')</script> & \"Works\""
    created = _create(api, name=script)
    assert created.status_code == 201 and created.mimetype == "application/json"
    assert created.get_json()["name"] == script
    assert api.get("/suppliers").get_json()["items"][0]["name"] == script
    supplier_id = created.get_json()["id"]
    for path, body in (("/suppliers", {"name": "Nul\x00", "code": "NUL"}),
                       ("/suppliers", {"name": "Esc", "code": "E", "part_numbers": ["A\x1b"]}),
                       (f"/suppliers/{supplier_id}/contacts",
                        {"name": "Bell\x07", "email": "bell@example.com"})):
        refused = api.post(path, json=body, headers={"Accept-Language": "zh-CN"})
        assert refused.status_code == 422 and refused.mimetype == PROBLEM, body
        assert "文本不能包含控制字符。" in str(refused.get_json()["errors"])
    patched = api.patch(f"/suppliers/{supplier_id}", json={"name": "Tab\x0bname"})
    assert patched.status_code == 422
    assert api.get("/suppliers", query_string={"q": "a\x01"}).status_code == 422
    assert api.get("/suppliers", query_string={"limit": 101}).status_code == 422
    assert api.get("/suppliers", query_string={"cursor": "bm9wZQ"}).status_code == 400
    assert api.get(f"/suppliers/{supplier_id}").get_json()["name"] == script


def test_supplier_list_reads_in_a_fixed_number_of_statements(setup, count_statements):
    api = setup
    _add_suppliers(api, 1)
    api.get("/suppliers")  # the token's first use of the day is recorded: not the list's cost
    with count_statements() as one:
        small = api.get("/suppliers", query_string={"limit": 100}).get_json()
    _add_suppliers(api, 49, start=1)
    with count_statements() as fifty:
        large = api.get("/suppliers", query_string={"limit": 100}).get_json()
    assert len(small["items"]) == 1 and len(large["items"]) == 50
    assert all(len(x["contacts"]) == 2 for x in large["items"])
    assert len(one) == len(fifty) <= 4, fifty  # tenant, token with its user, page, contacts


def _requests(api, count, start=0):
    number = api.post("/complaints", json=complaint_body(api)).get_json()["number"]
    with activate(api.tenant):
        complaint_id = db.session.scalar(select(Complaint.id).where(Complaint.number == number))
        supplier_id = db.session.scalar(select(Supplier.id).order_by(Supplier.id).limit(1))
        now = utcnow()
        states = ("sent", "answered", "accepted", "rejected", "closed")
        db.session.add_all([SupplierRequest(
            number=f"SCAR-2026-{i:04d}", complaint_id=complaint_id, supplier_id=supplier_id,
            part_number="SPN-100", defect="Bearing seized", defective_quantity=3,
            asks=["eight_d"], state=states[i % 5], due_at=now + timedelta(days=30),
            answered_at=now if i % 5 else None) for i in range(start, start + count)])
        db.session.flush()
    return number


def test_supplier_requests_for_reporting(setup, count_statements, make_tenant):
    api = setup
    _add_suppliers(api, 1, contacts=0)
    number = _requests(api, 1)
    with count_statements() as one:
        small = api.get("/supplier-requests", query_string={"limit": 100}).get_json()
    _requests(api, 49, start=1)
    with count_statements() as fifty:
        large = api.get("/supplier-requests", query_string={"limit": 100}).get_json()
    assert len(small["items"]) == 1 and len(large["items"]) == 50
    assert len(one) == len(fifty) <= 3, fifty
    row = small["items"][0]
    assert row["number"] == "SCAR-2026-0000" and row["complaint_number"] == number
    assert row["supplier"] == "Bulk 000" and row["supplier_code"] == "BK-000"
    assert row["state"] == "sent" and row["answered_at"] is None and row["due_at"]
    answered = api.get("/supplier-requests", query_string={"state": "answered"}).get_json()
    assert len(answered["items"]) == 10
    assert {r["state"] for r in answered["items"]} == {"answered"}
    assert all(r["answered_at"] for r in answered["items"])
    page = api.get("/supplier-requests", query_string={"limit": 20}).get_json()
    rest = api.get("/supplier-requests", query_string={"limit": 40,
                                                       "cursor": page["next_cursor"]}).get_json()
    assert len(rest["items"]) == 30 and rest["next_cursor"] is None
    assert rest["items"][0]["id"] > page["items"][-1]["id"]
    bad = api.get("/supplier-requests", query_string={"state": "lost"},
                  headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    # Read-only: no writes on this path; another tenant sees none of these.
    assert api.post("/supplier-requests", json={}).status_code == 405
    other = make_tenant()
    with activate(other):
        assert db.session.scalars(select(SupplierRequest)).all() == []
