"""Complaints through the REST API: filing, reading, listing with filters and cursors,
transitions through the workflow, photos, costs, problems in the caller's language."""

from __future__ import annotations

import io

from PIL import Image

from portal.models import Complaint, TimelineEvent
from portal.tenancy import activate

from .conftest import complaint_body


def test_file_read_and_list_a_complaint(setup):
    api = setup
    created = api.post("/complaints", json=complaint_body(api))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["status"] == "received"
    assert body["serial_numbers"] == ["PX-0001", "PX-0002"]
    assert body["customer"] == "Acme Motors" and body["product_model"] == "PUMP-100"
    assert created.headers["Location"].endswith(f"/api/v1/complaints/{body['number']}")
    assert [e["kind"] for e in body["timeline"]] == ["submitted", "filed_by_staff"]
    assert "API: ERP" in body["timeline"][0]["actor"]

    read = api.get(f"/complaints/{body['number']}")
    assert read.status_code == 200 and read.get_json()["number"] == body["number"]
    listed = api.get("/complaints").get_json()
    assert [c["number"] for c in listed["items"]] == [body["number"]]
    assert listed["items"][0]["serial_numbers"] == ["PX-0001", "PX-0002"]
    assert listed["next_cursor"] is None


def _file(api, **changes):
    response = api.post("/complaints", json=complaint_body(api, **changes))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_transitions_go_through_the_workflow(setup):
    api = setup
    number = _file(api)["number"]
    offered = api.get(f"/complaints/{number}/transitions").get_json()
    assert offered["status"] == "received"
    assert [t["name"] for t in offered["transitions"]] == ["start_verification"]

    moved = api.post(f"/complaints/{number}/transitions", json={"name": "start_verification"})
    assert moved.status_code == 200 and moved.get_json()["status"] == "verifying"
    # A step that needs a message is refused without one, in the caller's language.
    refused = api.post(f"/complaints/{number}/transitions", json={"name": "reject"})
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "message_required"
    assert refused.get_json()["detail"] == "Please write a message for this step."
    zh = api.post(f"/complaints/{number}/transitions", json={"name": "reject"},
                  headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.get_json()["detail"] != "Please write a message for this step."
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.get_json()["detail"])
    # A guard explains itself: containment needs the classification first.
    api.post(f"/complaints/{number}/transitions", json={"name": "accept"})
    offered = api.get(f"/complaints/{number}/transitions").get_json()
    containment = next(t for t in offered["transitions"] if t["name"] == "start_containment")
    assert containment["blocked_by"].startswith("Classify the complaint first")
    guarded = api.post(f"/complaints/{number}/transitions", json={"name": "start_containment"})
    assert guarded.status_code == 422 and guarded.get_json()["code"] == "guard"
    # Not from this status: a conflict; a stale version: a conflict too.
    assert api.post(f"/complaints/{number}/transitions",
                    json={"name": "close"}).status_code == 409
    stale = api.post(f"/complaints/{number}/transitions",
                     json={"name": "reject", "message": "No.", "version": 1})
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale"
    with activate(api.tenant):
        from portal.complaints.operations import classify
        from portal.extensions import db

        complaint = db.session.query(Complaint).filter_by(number=number).one()
        classify(complaint, api.user, severity="minor", info_class="B", cause_category="man",
                 responsible_department_id=api.department.id, owner_id=api.user.id,
                 expected_version=complaint.version)
        db.session.flush()
    read = api.get(f"/complaints/{number}").get_json()
    assert read["department"] == "Quality" and read["severity"] == "minor"
    assert read["owner"] == api.user.name
    with activate(api.tenant):
        complaint = db.session.query(Complaint).filter_by(number=number).one()
        kinds = [e.kind for e in db.session.query(TimelineEvent).filter_by(
            complaint_id=complaint.id).order_by(TimelineEvent.id)]
    assert complaint.status == "accepted"
    assert kinds[-3:] == ["transition.start_verification", "transition.accept", "classified"]


def test_roles_of_the_acting_user_bound_the_token(setup, make_staff, make_token):
    api = setup
    number = _file(api)["number"]
    finance = make_staff(api.tenant, "finance")
    _t, secret = make_token(api.tenant, finance, "complaints:write", "read")
    response = api.client.post(f"{api.base}/complaints/{number}/transitions",
                               json={"name": "start_verification"},
                               headers=api.headers(secret=secret))
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"
    # Finance may record costs, though.
    cost = api.client.post(f"{api.base}/complaints/{number}/costs",
                           json={"category": "freight", "amount": "120.50"},
                           headers=api.headers(secret=secret))
    assert cost.status_code == 201, cost.get_data(as_text=True)
    assert cost.get_json()["amount"] == "120.50"
    costs = api.get(f"/complaints/{number}/costs").get_json()["items"]
    assert [(c["category"], c["amount"], c["state"]) for c in costs] == [("freight", "120.50", "active")]


def test_filing_is_validated_like_the_web_form(setup):
    api = setup
    missing = api.post("/complaints", json={"channel": "phone"})
    assert missing.status_code == 422
    errors = missing.get_json()["errors"]["json"]
    assert errors["title"] == ["This field is required."]
    no_serials = api.post("/complaints", json=complaint_body(api, serial_numbers=[]))
    assert no_serials.get_json()["errors"]["json"]["serial_numbers"]
    bad_serial = api.post("/complaints", json=complaint_body(api, serial_numbers=["<script>"]))
    assert bad_serial.status_code == 422
    no_lot = api.post("/complaints", json=complaint_body(api, lot=None))
    assert "lot" in no_lot.get_json()["errors"]["json"]
    unknown = api.post("/complaints", json=complaint_body(api, product_model="NOPE"))
    assert "product_model" in unknown.get_json()["errors"]["json"]
    extra = api.post("/complaints", json=complaint_body(api, status="closed"))
    assert extra.status_code == 422 and "status" in extra.get_json()["errors"]["json"]
    wrong_channel = api.post("/complaints", json=complaint_body(api, channel="incoming"))
    assert wrong_channel.status_code == 422
    # A production exception needs neither customer nor serials.
    production = api.post("/complaints", json=complaint_body(
        api, source="production", channel="in_process", customer_id=None, serial_numbers=[]))
    assert production.status_code == 201 and production.get_json()["source"] == "production"
    # Hostile text is stored as text and returned as JSON text, never interpreted.
    script = _file(api, title="<script>alert(1)</script>", description="'; DROP TABLE x;--")
    assert script["title"] == "<script>alert(1)</script>"
    assert api.get("/complaints", query_string={"q": "'; DROP"}).status_code == 200
    not_json = api.client.post(f"{api.base}/complaints", data="title=x",
                               headers=api.headers({"Content-Type": "text/plain"}))
    assert not_json.status_code in (415, 422)
    assert not_json.mimetype == "application/problem+json"


def test_list_filters_and_cursor_pages_in_a_fixed_number_of_statements(setup,
                                                                       count_statements):
    api = setup
    numbers = [_file(api, title=f"Case {i}")["number"] for i in range(5)]
    api.post(f"/complaints/{numbers[0]}/transitions", json={"name": "start_verification"})
    seen_numbers, cursor = [], None
    for _page in range(3):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/complaints", query_string=query).get_json()
        seen_numbers += [c["number"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen_numbers == list(reversed(numbers))
    verifying = api.get("/complaints", query_string={"status": "verifying"}).get_json()
    assert [c["number"] for c in verifying["items"]] == [numbers[0]]
    search = api.get("/complaints", query_string={"q": "Case 3"}).get_json()
    assert [c["number"] for c in search["items"]] == [numbers[3]]
    bad = api.get("/complaints", query_string={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "bad_cursor"
    assert api.get("/complaints", query_string={"limit": 1000}).status_code == 422

    with count_statements() as small:
        api.get("/complaints", query_string={"limit": 1})
    with count_statements() as large:
        api.get("/complaints", query_string={"limit": 100})
    assert len(small) == len(large) <= 4  # tenant, token with its user, rows, serials


def test_photos_go_through_the_photo_pipeline(setup):
    api = setup
    number = _file(api)["number"]
    jpeg = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(jpeg, "JPEG")
    added = api.post(f"/complaints/{number}/photos",
                     data={"file": (io.BytesIO(jpeg.getvalue()), "seal.jpg")},
                     content_type="multipart/form-data")
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.get_json()["filename"] == "seal.jpg"
    disguised = api.post(f"/complaints/{number}/photos",
                         data={"file": (io.BytesIO(b"MZ\x90\x00not an image"), "x.jpg")},
                         content_type="multipart/form-data")
    assert disguised.status_code == 422 and disguised.get_json()["code"] == "photo_refused"
    missing = api.post(f"/complaints/{number}/photos", data={},
                       content_type="multipart/form-data")
    assert missing.status_code == 422
    photos = api.get(f"/complaints/{number}").get_json()["photos"]
    assert [p["filename"] for p in photos] == ["seal.jpg"]


def test_timeline_scope_follows_the_token_scope(setup, make_token):
    api = setup
    number = _file(api)["number"]
    full = api.get(f"/complaints/{number}").get_json()
    assert full["timeline_scope"] == "full"
    assert "filed_by_staff" in [e["kind"] for e in full["timeline"]]
    _t, writer = make_token(api.tenant, api.user, "complaints:write")
    customer = api.client.get(f"{api.base}/complaints/{number}",
                              headers=api.headers(secret=writer)).get_json()
    assert customer["timeline_scope"] == "customer"
    assert all(e["customer_visible"] for e in customer["timeline"])
    assert "filed_by_staff" not in [e["kind"] for e in customer["timeline"]]
    # Listing needs read.
    assert api.client.get(f"{api.base}/complaints",
                          headers=api.headers(secret=writer)).status_code == 403


def test_the_customer_scope_reads_only_texts_shown_to_the_customer(setup, make_token, db):
    """A step's note nobody chose to show stays out of the customer-scoped timeline (the
    audience rule, portal/complaints/audience.py), while the step itself is there."""
    from portal import uow
    from portal.complaints import workflow

    api = setup
    number = _file(api)["number"]
    with activate(api.tenant):
        complaint = db.session.query(Complaint).filter_by(number=number).one()
        workflow.transition(complaint, api.user, "start_verification", "内部：怀疑供应商批次")
        uow.commit()
    full = api.get(f"/complaints/{number}").get_json()
    assert "内部：怀疑供应商批次" in [e["message"] for e in full["timeline"]]
    _t, writer = make_token(api.tenant, api.user, "complaints:write")
    customer = api.client.get(f"{api.base}/complaints/{number}",
                              headers=api.headers(secret=writer)).get_json()
    step = next(e for e in customer["timeline"] if e["kind"] == "transition.start_verification")
    assert step["message"] is None
    assert "怀疑供应商批次" not in str(customer)
