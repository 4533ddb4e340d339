"""Filing a complaint through the portal form (no JavaScript): validation of every field,
nothing typed lost, once-only submission, filing limits, hostile input, the confirmation,
and the visitor's one-time link."""

from __future__ import annotations

import gc
import html
import re
import warnings

import pytest
from sqlalchemy import select

from portal.models import (
    Complaint,
    Contact,
    OutboxMessage,
    Photo,
    ProductModel,
)
from portal.tenancy import activate
from tests.conftest import csrf_from

from .conftest import EXE, PDF, SVG, VALID, heic, jpeg, png_bomb, staged_files


def _complaints(db, tenant):
    with activate(tenant):
        db.session.expire_all()
        return list(db.session.scalars(select(Complaint).order_by(Complaint.id)))


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">(.*?)</', page, re.S)
    return match.group(1) if match else ""


def _mail_to(db, address):
    return [m for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.job == "jobs.mail.send_email")) if m.args[0] == address]


def test_visitor_files_a_complete_complaint(filer, catalogue, db):
    response = filer.post(photos=[("a.jpg", jpeg()), ("b.heic", heic())])
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    tenant = catalogue["tenant"]
    [complaint] = _complaints(db, tenant)
    assert response.headers["Location"].endswith(f"/complaints/{complaint.number}/filed")
    with activate(tenant):
        assert [s.value for s in complaint.serial_numbers] == ["AB000101", "AB000102", "AB000103"]
        assert all(s.shipment_id == catalogue["shipment"].id for s in complaint.serial_numbers)
        assert complaint.shipped_on.isoformat() == "2026-03-02" and complaint.lot == "L1"
        assert complaint.contact_id is None and complaint.reporter_email.startswith("li.wei")
        assert complaint.reporter_locale == "en"  # its later e-mails are written in it
        assert complaint.title == "Display stays dark after power on."
        assert complaint.demands == ["replacement"] and complaint.channel == "portal"
        photos = list(db.session.scalars(select(Photo).where(Photo.complaint_id == complaint.id)))
        assert sorted(p.original_filename for p in photos) == ["a.jpg", "b.heic"]
        assert all(p.uploaded_by == "visitor" for p in photos)
        [mail] = _mail_to(db, VALID["reporter_email"])
        assert complaint.number in mail.args[1] and "/follow/" in mail.args[2]
        submitted = complaint.events[0]
        assert submitted.kind == "submitted" and submitted.data["origin_ip"] == "127.0.0.1"
    page = filer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert complaint.number in page
    assert page.count("<strong>by ") == 2  # first contact and answer, from the deadline clocks


def test_signed_in_contact_files_as_themselves(client, catalogue, make_contact, sign_in, db):
    from .conftest import Filer

    tenant = catalogue["tenant"]
    contact = make_contact(tenant, name="Zhang San", phone="+86 10 1234 5678")
    sign_in(client, tenant, contact.email, staff=False)
    filer = Filer(client, tenant)
    page = filer.page()
    assert "Zhang San" in page and 'name="reporter_email"' not in page
    response = filer.post(page=page, reporter_name="", reporter_company="",
                          reporter_email="", reporter_phone="")
    assert response.status_code == 303
    [complaint] = _complaints(db, tenant)
    with activate(tenant):
        assert complaint.contact_id == contact.id
        assert complaint.customer_company_id == contact.company_id
        assert complaint.reporter_email == contact.email
        assert complaint.reporter_phone == "+86 10 1234 5678"
        [mail] = _mail_to(db, contact.email)
        assert f"/complaints/{complaint.number}" in mail.args[2]
        assert all(p.uploaded_by == f"contact:{contact.id}" for p in complaint.photos)


@pytest.mark.parametrize("field,value,message", [
    ("reporter_name", "", "Enter your name."),
    ("reporter_company", "", "Enter your company."),
    ("reporter_email", "", "Enter your e-mail address"),
    ("reporter_email", "not-an-address", "Enter a valid e-mail address."),
    ("reporter_phone", "", "Enter a phone number"),
    ("reporter_phone", "call me maybe", "Enter a phone number with digits"),
    ("reporter_name", "x" * 121, "120"),
    ("product", "", "Choose the product model."),
    ("product", "NO-SUCH-MODEL", "We do not know this model."),
    ("serials", "", "Enter at least one serial number"),
    ("serials", "AB000101\n!!bad!!", "!!BAD!! does not look like one of our serial numbers"),
    ("serials", "\n".join(f"AB{n:06d}" for n in range(100, 302)), "At most 200 serial numbers"),
    ("defect_quantity", "", "Enter how many units are defective."),
    ("defect_quantity", "0", "Enter a number from 1 to 1,000,000."),
    ("defect_quantity", "2000000", "Enter a number from 1 to 1,000,000."),
    ("defect_quantity", "three", "Enter a whole number."),
    ("shipped_on", "2099-01-01", "This date is in the future."),
    ("shipped_on", "1980-01-01", "This date is too far in the past."),
    ("shipped_on", "31/02/2026", "Enter a date like 2026-03-31."),
    ("found_on", "2099-01-01", "This date is in the future."),
    ("description", "", "Describe the problem."),
    ("description", "broken", "Write between 10 and 5000 characters."),
    ("description", "y" * 5001, "Write between 10 and 5000 characters."),
    ("description", "Stops after\x00 ten minutes", "control characters"),
    ("demands", [], "Choose at least one."),
    ("demands", ["bribe"], "Choose from the list."),
    ("claim_amount", "1200", "Tick “Compensation (claim)” or clear the amount."),
    ("claim_amount", "abc", "Enter an amount like 1200 or 1200.50."),
    ("claim_amount", "NaN", "Enter an amount like 1200 or 1200.50."),
    ("claim_amount", "-5", "Enter an amount above 0."),
    ("quantity_received", "-1", "Enter 0 or more."),
    ("order_number", "o" * 61, "60"),
    ("specification", "s" * 301, "300"),
    ("lot", "l" * 61, "60"),
    ("found_at_place", "p" * 201, "200"),
])
def test_every_field_is_checked_and_nothing_is_lost(filer, catalogue, db, field, value, message):
    response = filer.post(**{field: value})
    assert response.status_code == 422
    page = _text(response)
    assert message in page
    assert "Please correct the marked fields" in page
    kept = {"description": VALID["description"], "reporter_company": VALID["reporter_company"]}
    for name, typed in kept.items():
        if name != field:
            assert typed.splitlines()[0] in page
    # the photo sent with the failed attempt is kept for the next one
    assert page.count('name="staged_photo"') == 1
    assert _complaints(db, catalogue["tenant"]) == []


def test_claim_needs_an_amount_and_keeps_it(filer, catalogue, db):
    response = filer.post(demands=["claim"], claim_amount="")
    assert response.status_code == 422
    assert "Enter the amount you claim." in _text(response)
    response = filer.post(demands=["claim", "replacement"], claim_amount="1,200.50")
    assert response.status_code == 303
    [complaint] = _complaints(db, catalogue["tenant"])
    assert str(complaint.claim_amount) == "1200.50"


def test_cross_field_rules(filer, catalogue, db):
    response = filer.post(quantity_received="2", quantity_used="5")
    assert "More used than received" in _text(response)
    response = filer.post(shipped_on="2026-03-02", found_on="2026-03-01")
    assert "Found before it was shipped" in _text(response)


def test_shipping_date_or_lot_needed_when_serials_do_not_tell(filer, catalogue, make_product,
                                                             db):
    make_product(catalogue["tenant"], code="PX-300")  # a model without shipment records
    response = filer.post(product="PX-300", serials="QQ1234")
    assert response.status_code == 422
    assert "Give the shipping date or the lot number" in _text(response)
    response = filer.post(product="PX-300", serials="QQ1234", lot="B-7")
    assert response.status_code == 303


def test_serial_mismatch_is_a_warning_the_customer_confirms(filer, catalogue, db):
    page = filer.page()
    response = filer.post(page=page, product="PX-200", shipped_on="2026-04-05")
    assert response.status_code == 422
    text = _text(response)
    assert "AB000101 was shipped as model PX-100, not the model you chose." in text
    assert "AB000101 was shipped on 2026-03-02, not on the date you gave." in text
    assert 'name="confirm_serials"' in text
    assert _complaints(db, catalogue["tenant"]) == []
    token = re.search(r'name="staged_photo" value="([^"]+)"', text).group(1)
    response = filer.post(page=text, photos=(), product="PX-200", shipped_on="2026-04-05",
                          confirm_serials="y", staged_photo=token)
    assert response.status_code == 303
    [complaint] = _complaints(db, catalogue["tenant"])
    with activate(catalogue["tenant"]):
        assert all(s.mismatch_confirmed for s in complaint.serial_numbers)
        assert all(s.shipment_id == catalogue["shipment"].id for s in complaint.serial_numbers)
        assert len(complaint.photos) == 1  # the photo from the first attempt, not sent again


def test_unknown_serial_of_a_model_with_records_is_a_warning(filer, catalogue, db):
    response = filer.post(product="PX-200", serials="ZX-9999", lot="L9")
    assert "ZX-9999 is not in our shipment records for this model." in _text(response)
    response = filer.post(product="PX-200", serials="ZX-1002\nzx-1003", lot="L9")
    assert response.status_code == 303  # listed serials match without a warning


def test_duplicates_in_the_list_are_flagged_and_kept_once(filer, catalogue, db, client):
    page = filer.page()
    response = client.post(f"/t/{catalogue['tenant'].slug}/complaints/new/serials", data={
        "csrf_token": csrf_from(page), "product": "PX-100",
        "serials": "AB000101, ab000101；AB000102"}, headers={"HX-Request": "true"})
    text = _text(response)
    assert response.status_code == 200 and text.lstrip().startswith('<div id="serial-report"')
    assert "Listed more than once, kept once: AB000101" in text
    assert "PX-100, shipped 2026-03-02, lot L1" in text
    response = filer.post(serials="AB000101\nAB000101\nAB000102")
    assert response.status_code == 303
    [complaint] = _complaints(db, catalogue["tenant"])
    with activate(catalogue["tenant"]):
        assert [s.value for s in complaint.serial_numbers] == ["AB000101", "AB000102"]


def test_serial_already_in_an_open_complaint_of_the_company(client, catalogue, make_contact,
                                                            make_complaint, sign_in, db):
    from portal.models import SerialNumber

    from .conftest import Filer

    tenant = catalogue["tenant"]
    contact = make_contact(tenant)
    earlier = make_complaint(tenant, contact)
    with activate(tenant):
        db.session.add(SerialNumber(complaint_id=earlier.id, value="AB000101"))
        db.session.flush()
    sign_in(client, tenant, contact.email, staff=False)
    response = Filer(client, tenant).post()
    assert response.status_code == 422
    assert f"AB000101 is already in your open complaint {earlier.number}." in _text(response)


@pytest.mark.parametrize("name,content,message", [
    ("virus.jpg", EXE, "virus.jpg is not a photo we can take"),
    ("drawing.svg", SVG, "drawing.svg is not a photo we can take"),
    ("scan.jpg", PDF, "scan.jpg is not a photo we can take"),
    ("empty.jpg", b"", "empty.jpg is empty"),
    ("bomb.png", png_bomb(), "bomb.png declares"),
    ("wide.png", png_bomb(30_000, 10), "wide.png declares 30000 × 10 pixels"),
    ("cut.jpg", jpeg()[:40], "cut.jpg could not be read as a photo"),
])
def test_disguised_and_hostile_files_are_refused_before_storage(filer, catalogue, app, db, name,
                                                                content, message):
    before = staged_files(app)
    response = filer.post(photos=[(name, content)])
    assert response.status_code == 422
    assert message in _text(response)
    assert _field_error(response.get_data(as_text=True), "photos") or "photos-error" in _text(response)
    assert staged_files(app) == before
    assert _complaints(db, catalogue["tenant"]) == []


def test_oversized_and_too_many_photos(filer, catalogue, app, db):
    tenant = catalogue["tenant"]
    tenant.settings = {"max_photo_mb": 1, "max_photos": 2}
    db.session.flush()
    before = staged_files(app)
    big = jpeg() + b"\x00" * (1024 * 1024)
    with warnings.catch_warnings():
        # Werkzeug's test client spools a body this large to a temporary file it never closes.
        warnings.simplefilter("ignore", ResourceWarning)
        response = filer.post(photos=[("huge.jpg", big)])
        assert "huge.jpg is larger than 1 MB" in _text(response)
        del response
        gc.collect()
    assert staged_files(app) == before
    response = filer.post(photos=[("1.jpg", jpeg()), ("2.jpg", jpeg()), ("3.jpg", jpeg())])
    text = _text(response)
    assert response.status_code == 422
    assert "3.jpg was not added: at most 2 photos per complaint." in text
    assert text.count('name="staged_photo"') == 2


def test_a_photo_is_required(filer, catalogue, db):
    response = filer.post(photos=())
    assert response.status_code == 422
    assert "Add at least one photo of the problem." in _text(response)


def test_removed_and_forged_staged_photos(filer, catalogue, db):
    response = filer.post(photos=[("keep.jpg", jpeg()), ("drop.jpg", jpeg())], description="")
    text = response.get_data(as_text=True)
    tokens = re.findall(r'name="staged_photo" value="([^"]+)"', text)
    assert len(tokens) == 2
    response = filer.post(page=text, photos=(), staged_photo=[*tokens, tokens[0][:-3] + "abc"],
                          drop_photo=tokens[1])
    assert "A photo sent earlier could not be used any more" in _text(response)
    response = filer.post(page=text, photos=(), staged_photo=tokens, drop_photo=tokens[1])
    assert response.status_code == 303
    [complaint] = _complaints(db, catalogue["tenant"])
    with activate(catalogue["tenant"]):
        assert [p.original_filename for p in complaint.photos] == ["keep.jpg"]


def test_staged_photo_token_of_another_form_is_refused(filer, catalogue, db):
    first = filer.post(description="").get_data(as_text=True)
    token = re.search(r'name="staged_photo" value="([^"]+)"', first).group(1)
    response = filer.post(photos=(), staged_photo=token)  # a new form, another key
    assert "could not be used any more" in _text(response)


def test_once_only_a_double_tap_files_one_complaint(filer, catalogue, db):
    page = filer.page()
    first = filer.post(page=page)
    second = filer.post(page=page)  # the same form sent again (double tap, resend)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(_complaints(db, catalogue["tenant"])) == 1
    with activate(catalogue["tenant"]):
        assert len(_mail_to(db, VALID["reporter_email"])) == 1


def test_a_bad_submission_key_files_without_idempotency(filer, catalogue, db):
    response = filer.post(submission_key="../../etc")
    assert response.status_code == 303
    [complaint] = _complaints(db, catalogue["tenant"])
    assert complaint.submission_key != "../../etc"


def test_filing_limit_per_email(filer, catalogue, db):
    catalogue["tenant"].settings = {"filing_limit_per_hour": 2}
    db.session.flush()
    for _ in range(2):
        assert filer.post().status_code == 303
    response = filer.post()
    assert response.status_code == 422
    assert "You have filed 2 complaints within the last hour" in _text(response)
    assert "Display stays dark" in _text(response)  # still nothing lost
    assert len(_complaints(db, catalogue["tenant"])) == 2


def test_filing_limit_per_address_for_visitors(filer, catalogue, db):
    catalogue["tenant"].settings = {"filing_limit_per_hour": 2}
    db.session.flush()
    for n in range(2):
        assert filer.post(reporter_email=f"person{n}@example.com").status_code == 303
    response = filer.post(reporter_email="third@example.com")
    assert response.status_code == 422
    assert "within the last hour" in _text(response)


def test_signed_in_contacts_are_not_limited_by_address(client, catalogue, make_contact, sign_in,
                                                       db):
    from .conftest import Filer

    tenant = catalogue["tenant"]
    tenant.settings = {"filing_limit_per_hour": 1}
    db.session.flush()
    assert Filer(client, tenant).post(reporter_email="visitor@example.com").status_code == 303
    contact = make_contact(tenant)
    sign_in(client, tenant, contact.email, staff=False)
    assert Filer(client, tenant).post().status_code == 303
    assert Filer(client, tenant).post().status_code == 422  # their own e-mail limit


def test_markup_is_shown_as_text(filer, catalogue, db):
    response = filer.post(description="<script>alert('x')</script> stops <b>now</b>",
                          reporter_name="<img src=x onerror=alert(1)>")
    assert response.status_code == 303
    page = filer.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_markup_in_a_serial_number_or_a_file_name_is_shown_as_text(filer, catalogue, db):
    """Messages that repeat what was typed or sent (a serial number, a file's name) escape it:
    the translated message itself is trusted, the value in it is not."""
    response = filer.post(serials="AB000101\n<svg/onload=alert(1)>")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<SVG" not in text and "&lt;SVG/ONLOAD=ALERT(1)&gt; does not look like" in text
    response = filer.post(photos=(("<img src=x onerror=alert(2)>.jpg", b"MZ not a photo"),))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<img src=x onerror=alert(2)>" not in text and "&lt;img src=x onerror=alert(2)&gt;" in text


def test_form_without_csrf_token_is_refused(client, catalogue, db):
    response = client.post(f"/t/{catalogue['tenant'].slug}/complaints/new", data=VALID)
    assert response.status_code == 400
    assert _complaints(db, catalogue["tenant"]) == []


def test_confirmation_only_for_the_filing_browser_and_the_company(app, filer, catalogue,
                                                                  make_contact, sign_in, db):
    location = filer.post().headers["Location"]
    assert filer.client.get(location).status_code == 200
    stranger = app.test_client()
    assert stranger.get(location).status_code == 404
    outsider = make_contact(catalogue["tenant"])
    sign_in(stranger, catalogue["tenant"], outsider.email, staff=False)
    assert stranger.get(location).status_code == 404


def _claim_link(db, tenant, email):
    with activate(tenant):
        [mail] = _mail_to(db, email)
    return re.search(r"http://localhost(/t/\S+/follow/\S+)", mail.args[2]).group(1)


def test_visitor_follows_the_link_and_becomes_a_contact(app, filer, catalogue, db):
    tenant = catalogue["tenant"]
    assert filer.post().status_code == 303
    path = _claim_link(db, tenant, VALID["reporter_email"])
    browser = app.test_client()  # e.g. the phone's mail app opens another browser
    page = browser.get(path)
    assert page.status_code == 200
    response = browser.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 303
    [complaint] = _complaints(db, tenant)
    assert response.headers["Location"].endswith(f"/complaints/{complaint.number}")
    assert browser.get(response.headers["Location"]).status_code == 200
    with activate(tenant):
        contact = db.session.scalar(select(Contact).where(Contact.email == VALID["reporter_email"]))
        assert complaint.contact_id == contact.id
        assert complaint.customer_company_id == contact.company_id
        assert contact.company.name == "Sample Works" and contact.phone == VALID["reporter_phone"]
    again = app.test_client()
    page = again.get(path).get_data(as_text=True)
    response = again.post(path, data={"csrf_token": csrf_from(page)})
    assert response.headers["Location"].endswith("/sign-in")  # used once only


def test_visitor_joins_a_company_only_with_a_colleague_of_the_same_domain(
        app, filer, catalogue, make_company, make_contact, db):
    tenant = catalogue["tenant"]
    works = make_company(tenant, "Sample Works")
    make_contact(tenant, works, email="boss@sample-works.example.com")
    assert filer.post().status_code == 303
    assert filer.post(reporter_email="someone@qq.com", reporter_company="Sample Works") \
        .status_code == 303
    for email in (VALID["reporter_email"], "someone@qq.com"):
        path = _claim_link(db, tenant, email)
        browser = app.test_client()
        page = browser.get(path).get_data(as_text=True)
        assert browser.post(path, data={"csrf_token": csrf_from(page)}).status_code == 303
    with activate(tenant):
        colleague = db.session.scalar(select(Contact).where(
            Contact.email == VALID["reporter_email"]))
        stranger = db.session.scalar(select(Contact).where(Contact.email == "someone@qq.com"))
        assert colleague.company_id == works.id
        assert stranger.company_id != works.id
        assert stranger.company.name == "Sample Works (someone@qq.com)"


def test_product_type_ahead_lists_only_this_tenants_active_models(client, catalogue,
                                                                  make_tenant, make_product, db):
    other = make_tenant()
    make_product(other, code="PX-999")
    with activate(catalogue["tenant"]):
        db.session.get(ProductModel, catalogue["b"].id).active = False
        db.session.flush()
    response = client.get(f"/t/{catalogue['tenant'].slug}/complaints/products?product=px",
                          headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert text.startswith('<datalist id="product-options">')
    assert 'value="PX-100"' in text and "PX-200" not in text and "PX-999" not in text


def test_javascript_uploader_stages_one_photo_at_a_time(client, catalogue, app, db):
    path = f"/t/{catalogue['tenant'].slug}/photos/stage"
    page = client.get(f"/t/{catalogue['tenant'].slug}/complaints/new").get_data(as_text=True)
    token = csrf_from(page)
    key = "k" * 32
    import io

    ok = client.post(path, data={"csrf_token": token, "form_key": key,
                                 "photo": (io.BytesIO(heic()), "IMG_0001.HEIC")},
                     content_type="multipart/form-data")
    assert ok.status_code == 200 and ok.json["name"] == "IMG_0001.HEIC" and ok.json["token"]
    refused = client.post(path, data={"csrf_token": token, "form_key": key,
                                      "photo": (io.BytesIO(SVG), "x.jpg")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "x.jpg is not a photo" in refused.json["error"]
    missing = client.post(path, data={"csrf_token": token, "form_key": "short"})
    assert missing.status_code == 400
