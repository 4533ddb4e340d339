"""Forms refuse bad input with the message beside the field and keep what was typed (422);
an edit on an older version is refused (409) and shows the newer one."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from portal.models import Action, Complaint
from portal.tenancy import activate
from tests.internal.conftest import advance


def _setup(db, shop, make_complaint, status):
    complaint = make_complaint(shop.tenant, shop.contact)
    if status != "received":
        advance(db, shop, complaint, status)
    with activate(shop.tenant):
        return complaint.id


CASES = [
    ("accepted", "quality", "/classify", {"severity": "", "cause_category": "man"}, "This field is required."),
    ("accepted", "quality", "/classify", {"severity": "urgent", "cause_category": "man"}, 'id="classify-severity-error"'),
    ("containment", "after_sales", "/actions/containment",
     {"kind": "containment", "title": "", "owner": "Q", "due_at": "2026-03-01T10:00"}, "This field is required."),
    ("containment", "after_sales", "/actions/containment",
     {"kind": "containment", "title": "Kept text 保留", "owner": "Q", "due_at": "not a date"}, "Kept text 保留"),
    ("containment", "after_sales", "/requests", {"kind": "claim", "quantity": ""}, "Enter the amount claimed."),
    ("containment", "after_sales", "/requests", {"kind": "return", "quantity": "0"}, "Enter a whole number from 1."),
    ("containment", "finance", "/costs", {"category": "freight", "amount": "-5", "currency": "CNY", "department": "D"},
     "Enter an amount above zero."),
    ("containment", "finance", "/costs", {"category": "bribe", "amount": "5", "currency": "CNY", "department": "D"},
     'id="cost-category-error"'),
    ("analysis", "quality", "/root-cause", {"root_cause": "Only a cause 原因", "why1": ""}, "Write at least the first why."),
    ("analysis", "quality", "/root-cause", {"root_cause": "bad\x00byte", "why1": "x"}, "not allowed"),
    ("verifying_effectiveness", "quality", "/effectiveness", {"verdict": "not_effective", "note": ""},
     "Say why the actions were not effective."),
    ("verifying", "after_sales", "/transition/request_information", {"message": ""}, "Please write a message"),
    ("verifying", "after_sales", "/transition/reject", {"message": "   "}, "Please write a message"),
    ("verifying", "after_sales", "/visit", {"visited_on": "", "visitor": "Wang", "notes": "Typed notes 现场"},
     "Typed notes 现场"),
    ("accepted", "quality", "/failure-modes", {"code": "bad code!", "name_zh": "坏", "name_en": "Bad"},
     "Use letters, digits"),
]


@pytest.mark.parametrize("status,role,route,data,expected", CASES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_invalid_forms_are_refused_and_keep_the_input(shop, as_role, make_complaint, db, status,
                                                      role, route, data, expected):
    cid = _setup(db, shop, make_complaint, status)
    data = {k: (str(shop.staff_ids["quality"]) if v == "Q" else
                str(shop.dept_ids["quality"]) if v == "D" else v) for k, v in data.items()}
    with activate(shop.tenant):
        events = db.session.scalar(select(func.count()).select_from(Complaint).where(Complaint.id == cid))
        version = db.session.get(Complaint, cid).version
    response = as_role(role).post(f"/complaints/{cid}{route}", data, page=f"/complaints/{cid}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:1500]
    assert expected in html
    with activate(shop.tenant):
        db.session.expire_all()
        assert db.session.get(Complaint, cid).version == version
    del events


def test_fourth_containment_measure_is_refused(shop, as_role, make_complaint, db):
    cid = _setup(db, shop, make_complaint, "analysis")  # has one measure already
    staff = as_role("after_sales")
    data = {"kind": "containment", "title": "m", "owner": str(shop.staff_ids["quality"]),
            "due_at": "2026-03-01T10:00"}
    for _ in range(2):
        assert staff.post(f"/complaints/{cid}/actions/containment", data,
                          page=f"/complaints/{cid}").status_code == 303
    response = staff.post(f"/complaints/{cid}/actions/containment", data, page=f"/complaints/{cid}")
    assert response.status_code == 422
    assert "At most three containment measures." in response.get_data(as_text=True)
    with activate(shop.tenant):
        assert db.session.scalar(select(func.count(Action.id)).where(
            Action.complaint_id == cid, Action.kind == "containment")) == 3


def test_guard_failure_explains_itself(shop, as_role, make_complaint, db):
    """Starting containment before classification: the workflow's guard message, 422."""
    complaint = make_complaint(shop.tenant, shop.contact)
    advance(db, shop, complaint, "accepted")
    with activate(shop.tenant):
        cid = complaint.id
    response = as_role("quality").post(f"/complaints/{cid}/transition/start_containment",
                                       page=f"/complaints/{cid}")
    assert response.status_code == 422
    assert "Classify the complaint first" in response.get_data(as_text=True)


def test_stale_edit_is_refused_and_shows_the_newer_version(shop, as_role, make_complaint, db):
    cid = _setup(db, shop, make_complaint, "accepted")
    quality, after_sales = as_role("quality"), as_role("after_sales")
    old_page = quality.get(f"/complaints/{cid}").get_data(as_text=True)
    import re

    from tests.conftest import csrf_from

    old_version = re.search(r'name="version" value="(\d+)"', old_page).group(1)
    # after-sales saves first
    assert after_sales.post(f"/complaints/{cid}/classify",
                            {"severity": "major", "info_class": "A", "cause_category": "material"},
                            page=f"/complaints/{cid}").status_code == 303
    # quality still holds the old page
    response = quality.client.post(quality.url(f"/complaints/{cid}/classify"), data={
        "csrf_token": csrf_from(old_page), "version": old_version,
        "severity": "minor", "info_class": "B", "cause_category": "method"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Someone else changed this complaint" in html
    assert "selected value=\"minor\"" in html  # what quality typed is kept in the form
    assert "version 3" in html or re.search(r"version \d+", html)
    with activate(shop.tenant):
        db.session.expire_all()
        complaint = db.session.get(Complaint, cid)
        assert complaint.severity == "major"  # not overwritten
        new_version = complaint.version
    assert f'name="version" value="{new_version}"' in html
    # saving again from the refreshed form goes through
    assert quality.client.post(quality.url(f"/complaints/{cid}/classify"), data={
        "csrf_token": csrf_from(html), "version": str(new_version),
        "severity": "minor", "info_class": "B", "cause_category": "method"}).status_code == 303


def test_stale_transition_is_refused(shop, as_role, make_complaint, db):
    cid = _setup(db, shop, make_complaint, "verifying")
    staff = as_role("after_sales")
    from tests.conftest import csrf_from

    html = staff.get(f"/complaints/{cid}").get_data(as_text=True)
    response = staff.client.post(staff.url(f"/complaints/{cid}/transition/accept"),
                                 data={"csrf_token": csrf_from(html), "version": "0"})
    assert response.status_code == 409
    with activate(shop.tenant):
        assert db.session.get(Complaint, cid).status == "verifying"


def test_evidence_upload_on_done(shop, as_role, make_complaint, db):
    cid = _setup(db, shop, make_complaint, "corrective_action")
    with activate(shop.tenant):
        action_id = db.session.scalar(select(Action.id).where(Action.kind == "corrective"))
    response = as_role("responder").post(
        f"/complaints/{cid}/actions/{action_id}/done", {"result": ""}, page=f"/complaints/{cid}")
    assert response.status_code == 422
    response = as_role("responder").post(
        f"/complaints/{cid}/actions/{action_id}/done",
        {"result": "done", "evidence": [(io.BytesIO(b"a"), "a.txt"), (io.BytesIO(b"b"), "../../b.txt")]},
        page=f"/complaints/{cid}", content_type="multipart/form-data")
    assert response.status_code == 303
    with activate(shop.tenant):
        evidence = db.session.get(Action, action_id).evidence
        assert [e["name"] for e in evidence] == ["a.txt", "b.txt"]
        assert all(".." not in e["key"] for e in evidence)


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def test_visit_photos_go_through_the_pipeline_and_are_served(shop, as_role, make_complaint, db):
    from portal.models import Photo, TimelineEvent

    cid = _setup(db, shop, make_complaint, "verifying")
    staff = as_role("after_sales")
    response = staff.post(f"/complaints/{cid}/visit",
                          {"visited_on": "2026-02-01", "visitor": "Wang", "notes": "Noisy",
                           "photos": [(io.BytesIO(_jpeg()), "site.jpg")]},
                          page=f"/complaints/{cid}", content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with activate(shop.tenant):
        photo = db.session.scalar(select(Photo).where(Photo.complaint_id == cid))
        event = db.session.scalar(select(TimelineEvent).where(TimelineEvent.kind == "onsite.visit"))
        assert photo.event_id == event.id and photo.customer_visible is False
        if photo.status != "stored":  # the job ran in process unless the relay deferred it
            from jobs.photos import process_photo

            process_photo(shop.tenant.id, photo.id)
            db.session.expire_all()
            photo = db.session.get(Photo, photo.id)
        assert photo.status == "stored" and photo.thumb_key
        photo_id = photo.id
    html = staff.get(f"/complaints/{cid}").get_data(as_text=True)
    assert f"/photos/{photo_id}/thumb" in html
    response = staff.get(f"/complaints/{cid}/photos/{photo_id}/thumb")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    response.close()
    # a file that is not an image is refused beside the form, nothing stored
    response = staff.post(f"/complaints/{cid}/visit",
                          {"visited_on": "2026-02-02", "visitor": "Li", "notes": "Second",
                           "photos": [(io.BytesIO(b"not an image"), "x.jpg")]},
                          page=f"/complaints/{cid}", content_type="multipart/form-data")
    assert response.status_code == 422
