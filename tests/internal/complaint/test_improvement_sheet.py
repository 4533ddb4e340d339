"""The feedback analysis and improvement sheet as a form to file: on the frame of every printed
form (logo and complaint number on every page, page x / y), its title once, no row split
across pages even with measures long enough to fill several pages, nothing off the paper,
every enumerated value as a word in both languages, and the sign-offs the product recorded
(name, role, time) beside empty boxes for those it did not."""

from __future__ import annotations

from datetime import timedelta

from portal.complaints import casework
from portal.models import utcnow
from portal.tenancy import activate
from tests.internal.conftest import advance
from tests.pdf_checks import read_pdf

LONG = "轴承预紧力不足，装配扭矩未按工艺卡执行；" * 18


def _long_case(db, shop, make_complaint) -> tuple[int, str]:
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响 spindle noise",
                               description="开机后异响明显\n" * 12)
    advance(db, shop, complaint, "analysis")
    with activate(shop.tenant):
        casework.record_root_cause(complaint, shop.staff["technical"], text="装配扭矩不足",
                                   whys=[], factors=[], expected_version=complaint.version)
        for i in range(14):
            casework.add_action(complaint, shop.staff["quality"], kind="preventive",
                                title=f"措施{i:02d} START 更换轴承",
                                description=f"{LONG} END{i:02d}",
                                owner_id=shop.staff["responder"].id,
                                due_at=utcnow() + timedelta(days=10 + i))
        db.session.flush()
        return complaint.id, complaint.number


def test_sheet_prints_on_the_frame_with_rows_whole(shop, as_role, make_complaint, db):
    cid, number = _long_case(db, shop, make_complaint)
    response = as_role("quality").get(f"/complaints/{cid}/improvement-sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    doc = read_pdf(response.data, "improvement")
    assert doc.page_count >= 3
    doc.assert_inside_pages()
    doc.assert_on_every_page(number)
    doc.assert_on_every_page(shop.tenant.name)
    doc.assert_on_every_page(f"/ {doc.page_count}")
    doc.assert_once("问题反馈分析改善表 Feedback analysis and improvement sheet")
    doc.assert_once("主轴异响 spindle noise")
    for i in range(14):
        doc.assert_together(f"措施{i:02d}START", f"END{i:02d}")
    # labels, not codes, in both languages
    assert doc.count("Preventive 预防") == 14
    assert "preventive" not in doc.text.replace("Preventive", "")
    for label in ("Machine / equipment", "General 一般"):
        assert label.replace(" ", "") in doc.text.replace(" ", ""), label
    # sign-offs: recorded ones with name, role and time; the rest empty boxes
    last = doc.pages[-1].text
    assert "quality person" in last and "Quality 质量" in last  # accepted
    assert "technical person" in last and "Technical 技术" in last  # root cause
    assert "Effectiveness verified" in last and "Date 日期" in last  # not yet: a box
    assert "Asia/Shanghai" in doc or shop.tenant.timezone in doc


def test_a_short_sheet_is_one_page(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, title="短问题")
    with activate(shop.tenant):
        cid, number = complaint.id, complaint.number
    doc = read_pdf(as_role("quality").get(f"/complaints/{cid}/improvement-sheet.pdf").data)
    assert doc.page_count == 1
    doc.assert_inside_pages()
    doc.assert_once("短问题")
    doc.assert_on_every_page(number)


def test_the_logo_is_on_every_page(shop, as_role, make_complaint, db):
    import io

    from pypdf import PdfReader

    from tests.internal.test_branding_outputs import _give_logo

    cid, _ = _long_case(db, shop, make_complaint)
    with activate(shop.tenant):
        _give_logo(db, shop.tenant)
    data = as_role("quality").get(f"/complaints/{cid}/improvement-sheet.pdf").data
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) >= 3 and all(len(page.images) == 1 for page in pages)
    read_pdf(data).assert_inside_pages()
