"""The queue (filters, search incl. Chinese, views, paging, htmx fragment, URL kept), its Excel
export, the PDF exports (text extracted and checked, Chinese included), and the number of SQL
statements per page, which must not grow with the rows shown."""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from portal.extensions import db as _db
from portal.models import utcnow
from portal.tenancy import activate
from tests.internal.conftest import advance


@pytest.fixture
def queue_shop(shop, make_complaint, make_company, make_contact, db):
    company = make_company(shop.tenant, "北方重工机械厂")
    other = make_contact(shop.tenant, company=company)
    with activate(shop.tenant):
        company_id = company.id
    made = []
    for i in range(30):
        made.append(make_complaint(
            shop.tenant, other if i % 5 == 0 else shop.contact, title=f"Complaint {i}",
            description="主轴启动后异响 spindle noise" if i % 3 == 0 else "Laser will not start",
            product_model_id=shop.product_id if i % 2 == 0 else None))
    advance(db, shop, made[0], "containment")  # class B, general, owner quality
    with activate(shop.tenant):
        from portal.models import SerialNumber

        made[7].serial_numbers.append(SerialNumber(value="CL001042"))
        made[29].owner_id = shop.staff_ids["after_sales"]
        db.session.flush()
        return {"numbers": [c.number for c in made], "company": company_id}


def text_of(response):
    return response.get_data(as_text=True)


def test_queue_views_filters_search_and_paging(shop, as_role, queue_shop):
    staff = as_role("after_sales")
    numbers = queue_shop["numbers"]
    html = text_of(staff.get("/"))
    assert "30" in html and numbers[-1] in html and numbers[0] not in html  # 25 per page
    page2 = text_of(staff.get("/?page=2"))
    assert numbers[0] in page2
    assert numbers[5] not in text_of(staff.get("/?q=异响"))  # Chinese, 2 characters
    found = text_of(staff.get("/?q=异响"))
    assert numbers[3] in found and numbers[4] not in found
    found = text_of(staff.get("/?q=主轴启动"))  # 4 characters: the trigram path
    assert numbers[6] in found and numbers[1] not in found
    assert numbers[7] in text_of(staff.get("/?q=cl001042"))  # serial number
    found = text_of(staff.get("/?q=北方重工"))  # customer
    assert numbers[5] in found and numbers[1] not in found
    assert numbers[12] in text_of(staff.get(f"/?q={numbers[12]}"))
    assert numbers[0] in text_of(staff.get("/?severity=general&class=B"))
    assert numbers[1] not in text_of(staff.get("/?severity=general"))
    assert numbers[2] in text_of(staff.get(f"/?product={shop.product_id}&sort=oldest"))
    assert numbers[1] not in text_of(staff.get(f"/?product={shop.product_id}"))
    assert numbers[29] in text_of(staff.get("/?view=mine"))
    assert numbers[28] not in text_of(staff.get("/?view=mine"))
    assert numbers[0] not in text_of(staff.get("/?view=unassigned&sort=oldest"))
    assert numbers[5] in text_of(staff.get(f"/?customer={queue_shop['company']}"))
    assert "No complaint matches." in text_of(staff.get("/?view=waiting"))
    assert "No complaint matches." in text_of(staff.get("/?to=2000-01-01"))
    # bad values never error
    assert staff.get("/?page=x&severity=zzz&owner=-1&from=nope&sort=;drop").status_code == 200


def test_queue_htmx_returns_the_results_only_and_links_keep_filters(shop, as_role, queue_shop):
    staff = as_role("after_sales")
    response = staff.get("/?severity=general&page=1&per_page=10",
                         headers={"HX-Request": "true"})
    html = text_of(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith("{#") is False and '<section id="queue-results"' in html
    assert "<html" not in html
    all_pages = text_of(staff.get("/?q=Complaint&per_page=10"))
    assert "q=Complaint" in all_pages and "page=2" in all_pages  # pager keeps the search
    assert 'hx-push-url="true"' in all_pages


def test_excel_export_of_the_view_neutralises_formulas(shop, as_role, make_complaint):
    make_complaint(shop.tenant, shop.contact, title="=HYPERLINK(\"http://evil\")",
                   description="x")
    make_complaint(shop.tenant, shop.contact, title="@SUM(A1)", description="y")
    response = as_role("quality").get("/queue.xlsx?q=evil")
    assert response.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.data))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0].startswith("Number")
    assert len(rows) == 2 and rows[1][2] == "'=HYPERLINK(\"http://evil\")"
    rows = list(load_workbook(io.BytesIO(as_role("quality").get("/queue.xlsx").data))
                .active.iter_rows(values_only=True))
    assert any(r[2] == "'@SUM(A1)" for r in rows)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_exports_carry_chinese_text(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响", description="开机后异响明显")
    advance(db, shop, complaint, "analysis")
    from portal.complaints import eight_d

    with activate(shop.tenant):
        eight_d.start_report(complaint, shop.staff["quality"], requested_by_customer=True)
        eight_d.save_section(complaint, shop.staff["quality"], 4, text="轴承预紧力不足")
        eight_d.save_summary(complaint, shop.staff["quality"], summary="已更换轴承")
        cid = complaint.id
    staff = as_role("quality")
    response = staff.get(f"/complaints/{cid}/8d.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data)
    for expected in ("8D", "根本原因", "Root cause", "轴承预紧力不足", "已更换轴承", "主轴异响"):
        assert expected in text, expected
    response = staff.get(f"/complaints/{cid}/improvement-sheet.pdf")
    text = _pdf_text(response.data)
    for expected in ("问题反馈分析改善表", "Feedback analysis and improvement sheet", "开机后异响明显",
                     "Spare part"):
        assert expected in text, expected


def test_pdf_uses_the_cjk_font(shop, as_role, make_complaint, db):
    complaint = make_complaint(shop.tenant, shop.contact, title="主轴异响")
    with activate(shop.tenant):
        cid = complaint.id
    data = as_role("quality").get(f"/complaints/{cid}/improvement-sheet.pdf").data
    from pypdf import PdfReader

    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any("Noto-Sans-CJK-SC" in f for f in fonts), fonts
    assert not any("Serif" in f for f in fonts), fonts


# -- query counts ---------------------------------------------------------------------------

@contextmanager
def counting():
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):  # the harness's
            statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_queue_query_count_does_not_grow_with_rows(shop, as_role, queue_shop):
    staff = as_role("after_sales")
    staff.get("/")  # warm caches (session, tenant)
    counts = {}
    for size in (2, 10, 30):
        with counting() as statements:
            assert staff.get(f"/?per_page={size}&page=1").status_code == 200
        counts[size] = len(statements)
    assert counts[2] == counts[10] == counts[30], counts
    # tenant, user with its session row, rows, count, deadline badges, the bell, the
    # calendar's exceptions; the filter choices come from the per-tenant cache.
    assert counts[30] <= 7, "\n".join(s[:90] for s in statements)


def test_filter_choices_are_cached_and_a_change_shows_at_once(shop, as_role, queue_shop):
    from portal import reference_cache
    from portal.models import ProductModel, StaffUser, Tenant

    admin, staff = as_role("admin"), as_role("after_sales")
    staff.get("/")
    with counting() as statements:
        staff.get("/")
    assert not any("FROM departments" in s for s in statements), "choices not cached"
    # A department made on the admin page is a choice at once.
    response = admin.post("/admin/departments", {"name": "售后二部", "kind": "after_sales",
                                                 "manager_id": "0"}, page="/admin/departments")
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert "售后二部" in text_of(staff.get("/"))
    # A change written by another process: this process's entry is not dropped, but the
    # tenant's reference version moved with the write, so the next page rebuilds its lists.
    def version():
        return _db.session.scalar(select(Tenant.reference_version)
                                  .where(Tenant.id == shop.tenant.id))

    with activate(shop.tenant):
        before = version()
        _db.session.add(ProductModel(code="ZX-9000", name_zh="新机型", name_en="New model"))
        _db.session.flush()
        assert version() == before + 1
    assert reference_cache._entries, "the entry is still there"
    assert "ZX-9000" in text_of(staff.get("/"))
    # A sign-in stamp on a staff row changes no list: no new version.
    with activate(shop.tenant):
        user = _db.session.scalars(select(StaffUser)).first()
        before = version()
        user.last_sign_in_at = utcnow()
        _db.session.flush()
        assert version() == before


def test_complaint_page_query_count_does_not_grow(shop, as_role, make_complaint, db):
    from datetime import timedelta

    from portal.complaints import casework, costs
    from portal.complaints.timeline import record
    from portal.models import SerialNumber, utcnow

    small = make_complaint(shop.tenant, shop.contact)
    big = make_complaint(shop.tenant, shop.contact)
    for c in (small, big):
        advance(db, shop, c, "analysis")
    with activate(shop.tenant):
        for i in range(15):
            record(big, shop.staff["quality"], "note", message=f"n{i}")
            big.serial_numbers.append(SerialNumber(value=f"CL0010{i:02d}"))
            casework.add_action(big, shop.staff["quality"], kind="corrective", title=f"a{i}",
                                owner_id=shop.staff_ids["responder"],
                                due_at=utcnow() + timedelta(days=1))
            costs.add_cost(big, shop.staff["finance"], category="freight", amount=1)
        db.session.flush()
        ids = small.id, big.id
    staff = as_role("quality")
    staff.get(f"/complaints/{ids[0]}")
    counts = []
    for cid in ids:
        with counting() as statements:
            assert staff.get(f"/complaints/{cid}").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
