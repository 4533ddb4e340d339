"""Following complaints: the company's list with search and status filter, a complaint's page
with the customer-visible timeline and photos, answering a question, accepting and disputing
the answer; and that nobody reaches another company's or tenant's complaint or photo (404)."""

from __future__ import annotations

import html
import io
import re
from types import SimpleNamespace

import pytest
from werkzeug.datastructures import FileStorage

from portal import photos, uow
from portal.complaints import workflow
from portal.complaints.timeline import record
from portal.models import Action, Complaint, Photo
from portal.tenancy import activate
from tests.conftest import csrf_from

from .conftest import SVG, jpeg


@pytest.fixture
def shop(db, make_tenant, make_company, make_contact, make_staff, make_complaint, make_product):
    tenant = make_tenant()
    product = make_product(tenant, code="PX-100")
    ours, theirs = make_company(tenant, "Ours"), make_company(tenant, "Theirs")
    me, colleague = make_contact(tenant, ours), make_contact(tenant, ours)
    stranger = make_contact(tenant, theirs)
    after_sales = make_staff(tenant, "after_sales")
    quality = make_staff(tenant, "quality")
    mine = make_complaint(tenant, me, title="Spindle stops", product_model_id=product.id)
    colleagues = make_complaint(tenant, colleague, title="Door sensor fails")
    strangers = make_complaint(tenant, stranger, title="Secret of another company")
    with activate(tenant):
        photo = photos.accept_upload(mine, FileStorage(io.BytesIO(jpeg()), "front.jpg"),
                                     me.get_id())
        other_photo = photos.accept_upload(strangers, FileStorage(io.BytesIO(jpeg()), "x.jpg"),
                                           stranger.get_id())
        uow.commit()  # the photo job runs in process after the commit
        photo_id, other_photo_id = photo.id, other_photo.id
        for row in (mine, colleagues, strangers, me, colleague, stranger, after_sales, quality):
            db.session.refresh(row)
    return SimpleNamespace(tenant=tenant, me=me, colleague=colleague, stranger=stranger,
                           after_sales=after_sales, quality=quality, mine=mine,
                           colleagues=colleagues, strangers=strangers, photo_id=photo_id,
                           other_photo_id=other_photo_id, base=f"/t/{tenant.slug}")


@pytest.fixture
def me(client, shop, sign_in):
    sign_in(client, shop.tenant, shop.me.email, staff=False)
    return client


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _staff(db, shop, *steps):
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, shop.mine.id)
        db.session.refresh(complaint)
        for name, who, message in steps:
            workflow.transition(complaint, getattr(shop, who), name, message)
        db.session.flush()
        return complaint


def _status(db, shop):
    with activate(shop.tenant):
        db.session.expire_all()
        return db.session.get(Complaint, shop.mine.id).status


def test_the_list_shows_the_companys_complaints_only(me, shop):
    page = _text(me.get(f"{shop.base}/complaints"))
    assert shop.mine.number in page and shop.colleagues.number in page
    assert shop.strangers.number not in page and "Secret of another company" not in page
    assert "PX-100" in page


def test_search_and_status_filter(me, shop, db):
    _staff(db, shop, ("start_verification", "after_sales", None),
           ("request_information", "after_sales", "Which firmware?"))
    found = _text(me.get(f"{shop.base}/complaints?q=spindle"))
    assert shop.mine.number in found and shop.colleagues.number not in found
    assert shop.mine.number in _text(me.get(f"{shop.base}/complaints?q={shop.mine.number}"))
    assert shop.mine.number in _text(me.get(f"{shop.base}/complaints?q=px-100"))
    waiting = _text(me.get(f"{shop.base}/complaints?status=needs_you"))
    assert shop.mine.number in waiting and shop.colleagues.number not in waiting
    exact = _text(me.get(f"{shop.base}/complaints?status=received"))
    assert shop.colleagues.number in exact and shop.mine.number not in exact
    nothing = _text(me.get(f"{shop.base}/complaints?q=%25%5C_"))
    assert "No complaint matches" in nothing
    assert me.get(f"{shop.base}/complaints?status=bogus&page=x").status_code == 200
    fragment = me.get(f"{shop.base}/complaints?q=door", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).startswith('<div id="complaint-list">')
    assert "HX-Request" in fragment.headers["Vary"]


def test_colleague_sees_the_complaint_page(client, shop, sign_in):
    sign_in(client, shop.tenant, shop.colleague.email, staff=False)
    page = _text(client.get(f"{shop.base}/complaints/{shop.mine.number}"))
    assert "Spindle stops" in page and "Complaint received" in page


def test_another_companys_complaint_and_photo_are_404(me, shop):
    number = shop.strangers.number
    assert me.get(f"{shop.base}/complaints/{number}").status_code == 404
    assert me.get(f"{shop.base}/complaints/{number}/photos/{shop.other_photo_id}").status_code == 404
    assert me.get(f"{shop.base}/complaints/{number}/photos/{shop.other_photo_id}/thumb") \
        .status_code == 404
    # another company's photo under my own complaint's address
    assert me.get(f"{shop.base}/complaints/{shop.mine.number}/photos/{shop.other_photo_id}/thumb") \
        .status_code == 404
    for action in ("information", "accept", "dispute"):
        response = me.post(f"{shop.base}/complaints/{number}/{action}", data={})
        assert response.status_code in (400, 404)


def test_another_tenants_complaint_is_404(me, shop, make_tenant, make_contact, make_complaint):
    other = make_tenant()
    theirs = make_complaint(other, make_contact(other))
    # the same number exists in both tenants; the other tenant's id never resolves here
    assert me.get(f"{shop.base}/complaints/NO-SUCH").status_code == 404
    assert me.get(f"/t/{other.slug}/complaints/{theirs.number}").status_code == 302  # not signed in there
    assert me.get(f"{shop.base}/complaints/{shop.mine.number}/photos/999999/thumb").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, shop):
    for path in ("/complaints", f"/complaints/{shop.mine.number}",
                 f"/complaints/{shop.mine.number}/photos/{shop.photo_id}/thumb"):
        response = client.get(shop.base + path)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_photos_show_as_thumbnails_opening_full_size(me, shop, db):
    with activate(shop.tenant):
        photo = db.session.get(Photo, shop.photo_id)
        stored = photo.status == "stored"
    page = me.get(f"{shop.base}/complaints/{shop.mine.number}").get_data(as_text=True)
    base = f"{shop.base}/complaints/{shop.mine.number}/photos/{shop.photo_id}"
    assert stored, "jobs.photos.process_photo runs in process after the commit"
    assert f'src="{base}/thumb"' in page and f'href="{base}/large"' in page
    thumb = me.get(f"{base}/thumb")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert thumb.headers["Cache-Control"].startswith("private")
    assert thumb.data.startswith(b"\xff\xd8")
    thumb.close()
    assert me.get(f"{base}/bogus").status_code == 404


def test_a_photo_being_processed_polls_until_done(me, shop, db):
    with activate(shop.tenant):
        photo = db.session.get(Photo, shop.photo_id)
        photo.status, photo.thumb_key = "staged", None
        db.session.flush()
    base = f"{shop.base}/complaints/{shop.mine.number}/photos/{shop.photo_id}"
    tile = me.get(base + "?n=3", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert tile.lstrip().startswith(f'<li id="photo-{shop.photo_id}"')
    assert f'hx-get="{base}?n=4"' in tile and 'hx-trigger="load delay:3s"' in tile
    assert me.get(f"{base}/thumb").status_code == 404  # staged bytes are never served
    tired = me.get(base + "?n=40").get_data(as_text=True)
    assert "hx-get" not in tired and "Reload the page later" in tired
    with activate(shop.tenant):
        photo.status, photo.rejection_reason = "rejected", "The photo could not be decoded."
        db.session.flush()
    assert "could not be decoded" in me.get(base).get_data(as_text=True)


def test_only_the_customer_visible_timeline_is_shown(me, shop, db):
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, shop.mine.id)
        record(complaint, shop.quality, "verification.checklist",
               message="Internal: supplier lot 7 suspected")
        record(complaint, shop.quality, "verification.checklist", message="We are on it",
               shown=True)
        db.session.add(Action(complaint_id=complaint.id, kind="containment",
                              title="Spare spindle sent", description="By express <b>today</b>",
                              customer_visible=True))
        db.session.add(Action(complaint_id=complaint.id, kind="containment",
                              title="Quarantine lot 7 at our plant"))
        db.session.add(Action(complaint_id=complaint.id, kind="corrective", title="Secret fix"))
        db.session.flush()
    page = _text(me.get(f"{shop.base}/complaints/{shop.mine.number}"))
    assert "We are on it" in page and "supplier lot 7" not in page
    assert "Spare spindle sent" in page and "By express <b>today</b>" in page
    assert "Secret fix" not in page and "Quarantine lot 7" not in page


def test_answering_a_question_with_text_and_a_photo(me, shop, db):
    _staff(db, shop, ("start_verification", "after_sales", None),
           ("request_information", "after_sales", "Send the nameplate, please."))
    path = f"{shop.base}/complaints/{shop.mine.number}"
    page = me.get(path).get_data(as_text=True)
    assert "Send the nameplate, please." in page
    key = re.search(r'name="form_key" type="hidden" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_from(page), "form_key": key, "message": ""}
    response = me.post(f"{path}/information", data={**data, "photos": (io.BytesIO(jpeg()), "n.jpg")},
                       content_type="multipart/form-data")
    assert response.status_code == 422 and "Write your answer." in _text(response)
    kept = response.get_data(as_text=True)
    token = re.search(r'name="staged_photo" value="([^"]+)"', kept).group(1)
    response = me.post(f"{path}/information", data={**data, "message": "x", "photos": (io.BytesIO(SVG), "n2.jpg")},
                       content_type="multipart/form-data")
    assert response.status_code == 422 and "n2.jpg is not a photo" in _text(response)
    response = me.post(f"{path}/information",
                       data={**data, "message": "Nameplate <i>attached</i>", "staged_photo": token})
    assert response.status_code == 303
    assert _status(db, shop) == "verifying"
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, shop.mine.id)
        event = complaint.events[-1]
        assert event.kind == "transition.provide_information" and event.customer_visible
        assert event.message == "Nameplate <i>attached</i>"
        [photo] = [p for p in complaint.photos if p.event_id == event.id]
        assert photo.original_filename == "n.jpg" and photo.uploaded_by == shop.me.get_id()
    page = me.get(path).get_data(as_text=True)
    assert "Nameplate &lt;i&gt;attached&lt;/i&gt;" in page and 'id="answer-question"' not in page
    # once answered, the same form sent again changes nothing
    response = me.post(f"{path}/information", data={**data, "message": "again"})
    assert response.status_code == 409 and "not possible at this stage" in _text(response)


def _answered(db, shop):
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, shop.mine.id)
        complaint.severity, complaint.cause_category = "minor", "machine"
        complaint.responsible_department_id = shop.quality.department_id
        for name, who in (("start_verification", "after_sales"), ("accept", "quality"),
                          ("start_containment", "quality")):
            workflow.transition(complaint, getattr(shop, who), name)
        db.session.add(Action(complaint_id=complaint.id, kind="containment", title="Spare sent"))
        workflow.transition(complaint, shop.quality, "answer", "Fixed by a new bearing.")
        db.session.flush()


def test_accepting_the_answer_closes_the_complaint(me, shop, db):
    path = f"{shop.base}/complaints/{shop.mine.number}"
    page = me.get(path).get_data(as_text=True)
    early = me.post(f"{path}/accept", data={"csrf_token": csrf_from(page)})
    assert early.status_code == 303 and _status(db, shop) == "received"  # not answered yet
    _answered(db, shop)
    page = me.get(path).get_data(as_text=True)
    assert "Fixed by a new bearing." in page and "Accept the answer" in page
    assert me.post(f"{path}/accept", data={}).status_code == 400  # no CSRF token
    assert me.post(f"{path}/accept", data={"csrf_token": csrf_from(page)}).status_code == 303
    assert _status(db, shop) == "closed"
    with activate(shop.tenant):
        assert db.session.get(Complaint, shop.mine.id).customer_verdict == "accepted"
    assert "You accepted this answer." in _text(me.get(path))


def test_disputing_needs_a_reason_and_reopens(me, shop, db):
    _answered(db, shop)
    path = f"{shop.base}/complaints/{shop.mine.number}"
    token = csrf_from(me.get(path).get_data(as_text=True))
    response = me.post(f"{path}/dispute", data={"csrf_token": token, "reason": "  "})
    assert response.status_code == 422 and "Tell us why" in _text(response)
    assert "<details open>" in response.get_data(as_text=True)
    response = me.post(f"{path}/dispute", data={"csrf_token": token, "reason": "Still stops."})
    assert response.status_code == 303
    assert _status(db, shop) == "analysis"
    with activate(shop.tenant):
        complaint = db.session.get(Complaint, shop.mine.id)
        assert complaint.customer_verdict == "disputed"
        assert complaint.events[-1].message == "Still stops."


def test_disputing_a_rejection_sends_it_back_to_verification(me, shop, db):
    _staff(db, shop, ("start_verification", "after_sales", None),
           ("reject", "after_sales", "Operated outside the specification."))
    path = f"{shop.base}/complaints/{shop.mine.number}"
    page = me.get(path).get_data(as_text=True)
    assert "Operated outside the specification." in page
    response = me.post(f"{path}/dispute", data={"csrf_token": csrf_from(page),
                                                "reason": "We followed the manual."})
    assert response.status_code == 303 and _status(db, shop) == "verifying"
