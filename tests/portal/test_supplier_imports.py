"""Supplier imports (issue 12): suppliers with contacts and what they supply, and the
deliveries received from them, through the spreadsheet import (preview with every row's
problems, all or nothing, re-runnable), from the admin suppliers page with templates; hostile
files (formula injection, wrong types, oversized, another tenant's codes); and the
scorecard's defect rate against what was delivered, in the list, the detail and the xlsx."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal import imports
from portal.models import (
    ImportRun,
    Supplier,
    SupplierContact,
    SupplierDelivery,
    SupplierRequest,
    utcnow,
)
from portal.tenancy import activate
from tests.portal.test_imports import _apply, _upload, xlsx

SUPPLIER_HEADER = ["Supplier name", "Supplier code", "Language", "Product models supplied",
                   "Part numbers supplied", "Contact name", "E-mail", "Phone",
                   "Contact language"]
DELIVERY_HEADER = ["Supplier code", "Part number or model", "Date received",
                   "Quantity received", "Delivery note"]
ROWS = [["Precision Spindle Co.", "SP-01", "zh_CN", "CL-3000", "SPN-6K-01, SPN-6K-02",
         "Zhang Gong", "zhang@spindle.example.com", "+86 512 1", ""],
        ["Precision Spindle Co.", "SP-01", "", "", "SPN-6K-03", "Wu Li",
         "wu@spindle.example.com", "", "en"],
        ["Hydra Valves GmbH", "HY-12", "English", "", "HV-80-PV", "", "", "", ""]]


@pytest.fixture
def admin(db, make_tenant, make_staff, make_product, client, sign_in):
    tenant = make_tenant()
    staff = make_staff(tenant, "admin", locale="en")
    make_product(tenant, code="CL-3000")
    sign_in(client, tenant, staff.email)
    return tenant


def csv_file(rows, header) -> bytes:
    """A CSV as Excel saves it: a cell starting with = stays text (in an .xlsx written here
    openpyxl would make it a formula, read back as its missing cached value)."""
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode("utf-8-sig")


def _run(client, tenant, rows, kind="suppliers", header=None, fmt="xlsx"):
    header = header or (SUPPLIER_HEADER if kind == "suppliers" else DELIVERY_HEADER)
    data = xlsx(rows, header=header) if fmt == "xlsx" else csv_file(rows, header)
    response = _upload(client, tenant, data, kind=kind, name=f"{kind}.{fmt}")
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return response.headers["Location"]


def _write(client, tenant, rows, kind="suppliers", fmt="xlsx") -> str:
    location = _run(client, tenant, rows, kind, fmt=fmt)
    return client.get(_apply(client, tenant, location).headers["Location"]).get_data(
        as_text=True)


def _suppliers(db, tenant) -> dict:
    with activate(tenant):
        return {s.code: (s.name, s.locale, s.product_codes, s.part_numbers,
                         sorted(c.email for c in s.contacts))
                for s in db.session.scalars(select(Supplier))}


def test_suppliers_import_from_the_admin_page_then_rerun(client, db, admin):
    page = client.get(f"/t/{admin.slug}/staff/admin/suppliers").get_data(as_text=True)
    assert f"/t/{admin.slug}/staff/admin/import/suppliers" in page
    assert "/admin/import/deliveries/template.xlsx" in page
    location = _run(client, admin, ROWS)
    preview = client.get(location).get_data(as_text=True)
    assert "3 rows read" in preview and _suppliers(db, admin) == {}  # nothing written yet
    done = client.get(_apply(client, admin, location).headers["Location"]).get_data(
        as_text=True)
    assert "4 rows written: 4 new, 0 updated" in done  # two suppliers, two contacts
    expected = {
        "SP-01": ("Precision Spindle Co.", "zh_CN", ["CL-3000"],
                  ["SPN-6K-01", "SPN-6K-02", "SPN-6K-03"],
                  ["wu@spindle.example.com", "zhang@spindle.example.com"]),
        "HY-12": ("Hydra Valves GmbH", "en", [], ["HV-80-PV"], []),
    }
    assert _suppliers(db, admin) == expected
    history = client.get(f"/t/{admin.slug}/staff/admin/import/suppliers").get_data(as_text=True)
    assert "· Written</span>" in history and "· done" not in history  # words, not codes
    assert "0 new, 0 updated" in _write(client, admin, ROWS)  # the same file again
    assert _suppliers(db, admin) == expected
    changed = [row[:] for row in ROWS]
    changed[2][0], changed[2][4] = "Hydra Valves AG", "HV-90"
    assert "0 new, 1 updated" in _write(client, admin, changed)
    assert _suppliers(db, admin)["HY-12"][0] == "Hydra Valves AG"
    assert _suppliers(db, admin)["HY-12"][3] == ["HV-80-PV", "HV-90"]  # added, never removed
    with activate(admin):
        wu = db.session.scalar(select(SupplierContact).where(
            SupplierContact.email == "wu@spindle.example.com"))
        assert wu.locale == "en" and wu.name == "Wu Li"


def test_hostile_supplier_rows_are_refused_row_by_row(client, db, admin, make_tenant,
                                                      make_product):
    other = make_tenant()
    make_product(other, code="ZX-900")  # another tenant's model: unknown here
    rows = [["=HYPERLINK(\"http://evil.example\",\"x\")", "=1+1", "", "", "", "", "", "", ""],
            ["<script>alert(1)</script>", "SC-01", "klingon", "ZX-900", "OK-1, +cmd|x",
             "Bob", "not-an-email", "", ""],
            ["A" * 201, "B" * 41, "", "", "", "", "", "", ""],
            ["Two Names", "TW-01", "", "", "", "", "", "", ""],
            ["Other Name", "TW-01", "", "", "", "", "", "", ""],
            [42, "N-1", "", ", ".join(f"P{n}" for n in range(201)), "", "", "", "", ""]]
    location = _run(client, admin, rows, fmt="csv")
    page = client.get(location).get_data(as_text=True)
    for message in ("is not a valid code", "No product model with code “ZX-900”",
                    "not a language we offer", "not a valid e-mail", "is too long",
                    "gives this supplier code another name", "More than 200 entries"):
        assert message in page, message
    assert "<script>alert(1)" not in page  # problems show values as text
    assert "cannot be written" in client.get(_apply(client, admin, location).headers[
        "Location"]).get_data(as_text=True)
    assert _suppliers(db, admin) == {}  # all or nothing
    with activate(admin):
        db.session.add(Supplier(code="OLD-1", name="Taken Name Ltd"))
        db.session.flush()
    taken = client.get(_run(client, admin, [["Taken Name Ltd", "NEW-1"] + [""] * 7])).get_data(
        as_text=True)
    assert "Another supplier (code OLD-1) has the name" in taken


def test_a_hostile_name_is_stored_as_text_and_neutralised_in_exports(client, db, admin, app,
                                                                      make_staff, sign_in):
    rows = [["=HYPERLINK(\"http://evil.example\")", "EV-1", "", "", "P-1", "", "", "", ""],
            ["<img src=x onerror=alert(1)>", "EV-2", "", "", "P-2", "", "", "", ""]]
    assert "2 new" in _write(client, admin, rows, fmt="csv")
    listing = client.get(f"/t/{admin.slug}/staff/admin/suppliers").get_data(as_text=True)
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt;" in listing
    boss = app.test_client()  # the scorecard is quality's and the managers'
    sign_in(boss, admin, make_staff(admin, "manager", locale="en").email)
    export = boss.get(f"/t/{admin.slug}/staff/suppliers/scorecard.xlsx")
    names = [row[1] for row in load_workbook(io.BytesIO(export.data)).active.values]
    assert "'=HYPERLINK(\"http://evil.example\")" in names


def test_templates_of_both_kinds_in_both_languages_import_as_they_are(client, db, admin):
    for kind, first_en, first_zh in (("suppliers", "Supplier name *", "供应商名称 *"),
                                     ("deliveries", "Supplier code *", "供应商编码 *")):
        base = f"/t/{admin.slug}/staff/admin/import/{kind}/template"
        en = load_workbook(io.BytesIO(client.get(base + ".xlsx?lang=en").data)).active
        zh = load_workbook(io.BytesIO(client.get(base + ".xlsx?lang=zh_CN").data)).active
        assert (en["A1"].value, zh["A1"].value) == (first_en, first_zh)
        header, _rows = imports.read_table(client.get(base + ".csv?lang=zh_CN").data)
        assert set(imports.map_header(kind, header)) == {c[0] for c in imports.COLUMNS[kind]}
    location = _upload(client, admin, client.get(
        f"/t/{admin.slug}/staff/admin/import/suppliers/template.xlsx?lang=zh_CN").data,
        kind="suppliers", name="模板.xlsx").headers["Location"]
    assert "problems found" not in client.get(location).get_data(as_text=True)


def test_wrong_files_and_oversized_uploads_are_refused(client, db, admin, monkeypatch):
    # the limit made small, so the test needs no 30 MB body (the same check either way)
    monkeypatch.setattr(imports, "MAX_UPLOAD_BYTES", 4096)
    monkeypatch.setattr(imports.reading, "MAX_UPLOAD_BYTES", 4096)
    big = csv_file([["Big Supplier", f"B-{n}"] + ["x"] * 7 for n in range(200)],
                   SUPPLIER_HEADER)
    assert len(big) > 4096
    response = _upload(client, admin, big, kind="suppliers", name="big.csv")
    assert response.status_code == 422
    assert "larger than 30 MB" in response.get_data(as_text=True)
    exe = _upload(client, admin, b"MZ\x90\x00" + b"\x00" * 100, kind="deliveries",
                  name="deliveries.csv")
    assert exe.status_code == 422
    missing = client.get(_run(client, admin, [["x"]], header=["Something else"], fmt="csv")).get_data(
        as_text=True)
    assert "These columns are missing" in missing
    with activate(admin):
        assert db.session.scalar(select(func.count()).select_from(Supplier)) == 0
    assert client.get(f"/t/{admin.slug}/staff/admin/import/payroll").status_code == 404


def test_problems_in_the_users_language(client, db, admin, make_staff, sign_in, app):
    chinese = make_staff(admin, "admin", locale="zh_CN")
    zh_client = app.test_client()
    sign_in(zh_client, admin, chinese.email)
    location = _run(zh_client, admin, [["", "SP-01", "", "", "", "", "x@", "", ""]])
    page = zh_client.get(location).get_data(as_text=True)
    assert "该列为空。" in page and "“x@”不是有效的邮箱地址。" in page
    assert "供应商名称" in page  # the column, named in Chinese too


# -- deliveries ---------------------------------------------------------------------------------

def _deliveries(db, tenant):
    with activate(tenant):
        return db.session.execute(select(SupplierDelivery.item_code, SupplierDelivery.received_on,
                                         SupplierDelivery.quantity)
                                  .order_by(SupplierDelivery.received_on)).all()


def test_deliveries_import_rerun_and_hostile_rows(client, db, admin, make_tenant):
    _write(client, admin, ROWS)
    other = make_tenant()
    with activate(other):
        db.session.add(Supplier(code="FOREIGN-1", name="Foreign", part_numbers=["F-1"]))
        db.session.flush()
    rows = [["SP-01", "spn-6k-01", date(2026, 3, 2), 500, "DN-1"],
            ["SP-01", "CL-3000", "2026/04/01", "1,200", ""],
            ["HY-12", "HV-80-PV", "2026年5月3日", 80, "DN-9"]]
    assert "3 new" in _write(client, admin, rows, kind="deliveries")
    assert _deliveries(db, admin) == [("SPN-6K-01", date(2026, 3, 2), 500),
                                      ("CL-3000", date(2026, 4, 1), 1200),
                                      ("HV-80-PV", date(2026, 5, 3), 80)]
    rows[0][3] = 450
    assert "0 new, 3 updated" in _write(client, admin, rows, kind="deliveries")
    assert _deliveries(db, admin)[0] == ("SPN-6K-01", date(2026, 3, 2), 450)
    future = (date.today() + timedelta(days=2)).isoformat()
    bad = [["FOREIGN-1", "F-1", "2026-03-02", 5, ""],  # another tenant's supplier
           ["SP-01", "HV-80-PV", "2026-03-02", 5, ""],  # not what SP-01 supplies
           ["SP-01", "SPN-6K-01", "tomorrow", "five", ""],
           ["SP-01", "SPN-6K-01", future, 0, ""],
           ["SP-01", "=SUM(A1)", "2026-03-02", 1.5, "N" * 61],
           ["SP-01", "SPN-6K-02", "2026-03-02", 1, ""],
           ["SP-01", "SPN-6K-02", "2026-03-02", 2, ""]]
    page = client.get(_run(client, admin, bad, kind="deliveries", fmt="csv")).get_data(
        as_text=True)
    for message in ("No supplier with code “FOREIGN-1”", "is not among the part numbers",
                    "“tomorrow” is not a date", "“five” is not a whole number",
                    "lies in the future", "must be at least 1", "is not a valid code",
                    "is too long", "Same supplier, item, date and delivery note as row 7"):
        assert message in page, message
    assert len(_deliveries(db, admin)) == 3


def test_scorecard_defect_rate_against_deliveries(client, db, admin, make_staff, sign_in,
                                                  app, make_complaint):
    _write(client, admin, ROWS)
    today = date.today()
    _write(client, admin, [["SP-01", "SPN-6K-01", today, 1500, "A"],
                           ["SP-01", "SPN-6K-02", today, 500, "B"]], kind="deliveries")
    complaint = make_complaint(admin)
    with activate(admin):
        supplier = db.session.scalar(select(Supplier).where(Supplier.code == "SP-01"))
        db.session.add(SupplierRequest(
            number="SCAR-1", complaint_id=complaint.id, supplier_id=supplier.id,
            part_number="SPN-6K-01", defect="Seized", defective_quantity=3, asks=["eight_d"],
            due_at=utcnow() + timedelta(days=30)))
        db.session.flush()
        supplier_id = supplier.id
    manager = make_staff(admin, "manager", locale="en")
    boss = app.test_client()
    sign_in(boss, admin, manager.email)
    base = f"/t/{admin.slug}/staff/suppliers/scorecard"
    listing = boss.get(base).get_data(as_text=True)
    assert "2,000" in listing and "1,500 ppm (1.50‰)" in listing
    assert "—" in listing  # HY-12: nothing delivered, unknown, never zero
    detail = boss.get(f"{base}/{supplier_id}").get_data(as_text=True)
    assert 'id="score-ppm">1,500 ppm (1.50‰)' in detail
    items = detail.split('id="score-items"')[1].split("</table>")[0]
    assert "SPN-6K-01" in items and "2,000 ppm (2.00‰)" in items and "SPN-6K-02" in items
    assert f"{today:%Y-%m}" in detail.split('id="score-months"')[1]
    sheet = load_workbook(io.BytesIO(boss.get(base + ".xlsx").data)).active
    rows = {row[0]: row for row in sheet.values}
    assert rows["SP-01"][7:9] == (2000, 1500.0)
    assert rows["HY-12"][7:9] == (None, None)
    with activate(admin):
        assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 2
    assert client.get(f"/t/{admin.slug}/staff/admin/imports/999999").status_code == 404
