"""Spreadsheet imports: reading (.xlsx made by openpyxl here, CSV in three encodings), every
row's problems in the preview, all-or-nothing writes, re-run idempotency, refusal of files
that are not spreadsheets, formulas read as values, and neutralised exports."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from flask_babel import force_locale
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from portal import imports
from portal.models import Contact, CustomerCompany, ImportRun, Shipment
from portal.spreadsheets import neutralise
from portal.tenancy import activate
from tests.conftest import csrf_from

HEADER_EN = ["Model code", "Lot", "Quantity", "Ship date", "Customer", "First serial",
             "Last serial", "Serial numbers"]
HEADER_ZH = ["型号", "批次号", "数量", "发货日期", "客户", "起始序列号", "结束序列号", "序列号清单"]


def xlsx(rows, header=HEADER_EN) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def check(data: bytes, models=None, customers=None):
    header, rows = imports.read_table(data)
    return imports.validate_shipments(
        header, rows, models=models or {"CL-3000": (1, None), "PX-45": (2, r"^PX\d{4}$")},
        customers=customers or {"acme ltd": 9}, default_pattern=r"^[A-Z0-9][A-Z0-9\-]{3,39}$")


# -- pure functions -----------------------------------------------------------------------

def test_good_rows_and_cell_types():
    checked = check(xlsx([
        ["CL-3000", "L1", 10, datetime(2026, 3, 1), "ACME Ltd", "CL3000-0001", "CL3000-0010", None],
        ["cl-3000", "L2", "1,200", "2026/03/02", None, None, None, "A1B2C3, D4E5F6"],
        ["PX-45", 77, 5.0, "2026年3月3日", "", None, None, "PX0001 PX0002"],
    ]))
    assert checked.problems == []
    assert [r["quantity"] for r in checked.rows] == [10, 1200, 5]
    assert [r["shipped_on"] for r in checked.rows] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert checked.rows[0]["customer_company_id"] == 9
    assert checked.rows[1]["serials"] == ["A1B2C3", "D4E5F6"]
    assert checked.rows[2]["lot"] == "77"


def test_every_rows_problems_are_reported():
    checked = check(xlsx([
        ["NOPE", "L1", 1, "2026-01-01"],                      # unknown model
        ["CL-3000", "L2", "many", "2026-01-01"],              # quantity not a number
        ["CL-3000", "L3", 0, "2026-01-01"],                   # not positive
        ["CL-3000", "L4", 3, "31/02/2026"],                   # bad date
        ["CL-3000", "L5", 3, "2026-01-01"],
        ["CL-3000", "L5", 3, "2026-01-02"],                   # duplicate of row 6
        ["CL-3000", "", 3, "2026-01-01"],                     # lot missing
        ["PX-45", "L8", 2, "2026-01-01", "Nobody Inc"],       # unknown customer
        ["PX-45", "L9", 2, "2026-01-01", None, None, None, "BAD-1"],  # serial format
        ["CL-3000", "L10", 2, "2026-01-01", None, "A-0009", "A-0001"],  # reversed range
        ["CL-3000", "L11", 2, "2026-01-01", None, "A-0001", None],      # half a range
    ]))
    found = {(p["row"], p["code"]) for p in checked.problems}
    assert found == {(2, "unknown_model"), (3, "not_a_number"), (4, "not_positive"),
                     (5, "bad_date"), (7, "duplicate"), (8, "missing"),
                     (9, "unknown_customer"), (10, "serial_format"), (11, "bad_range"),
                     (12, "range_incomplete")}
    assert next(p for p in checked.problems if p["code"] == "duplicate")["other"] == 6
    assert len(checked.rows) == 1 and checked.total == 11


def test_problem_messages_are_translated(app):
    problem = {"row": 3, "column": "quantity", "code": "not_a_number", "value": "many"}
    with app.test_request_context():
        with force_locale("en"):
            assert imports.problem_message(problem) == "“many” is not a whole number."
        with force_locale("zh_CN"):
            assert "many" in imports.problem_message(problem)


def test_formulas_are_read_as_cached_values_never_evaluated():
    # openpyxl saves formulas without a cached value: read with data_only they are empty,
    # so a formula quantity is reported missing rather than computed or executed.
    checked = check(xlsx([["CL-3000", "L1", "=2+3", "2026-01-01"],
                          ["CL-3000", "L2", '=HYPERLINK("http://x","y")', "2026-01-01"]]))
    assert [(p["row"], p["code"]) for p in checked.problems] == [(2, "missing"), (3, "missing")]


def test_chinese_headers_and_csv_encodings():
    rows = [["CL-3000", "批次一", "3", "2026-01-05", "", "", "", ""]]
    body = "\n".join(",".join(r) for r in [HEADER_ZH] + rows)
    for encoded in (body.encode("utf-8"), b"\xef\xbb\xbf" + body.encode("utf-8"),
                    body.encode("gb18030")):
        checked = check(encoded)
        assert checked.problems == [] and checked.rows[0]["lot"] == "批次一"
    semicolons = body.replace(",", ";").encode("gb18030")
    assert check(semicolons).rows[0]["quantity"] == 3


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 50, "neither"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    (b"PK\x03\x04this is not really a zip", "not an Excel workbook"),
    (b"\xff\xfe\xfa\xfb\x80\x81 not text", "cannot be read"),
])
def test_files_that_are_not_spreadsheets_are_refused(app, data, message):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(imports.ImportFileError, match=message):
            check(data)


def test_a_zip_that_is_not_a_workbook_is_refused(app):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(imports.ImportFileError, match="not an Excel workbook"):
            check(out.getvalue())


def test_missing_columns_are_named(app):
    with app.test_request_context(), force_locale("en"):
        with pytest.raises(imports.ImportFileError, match="Quantity / 数量"):
            check(xlsx([["CL-3000", "L1"]], header=["Model code", "Lot"]))


def test_neutralise_and_exports():
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("+86 21") == "'+86 21"
    assert neutralise("-5") == "'-5"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("safe") == "safe" and neutralise(-5) == -5
    data = imports.workbook_bytes(["a", "b"], [['=HYPERLINK("http://evil","x")', 3]])
    sheet = load_workbook(io.BytesIO(data)).active
    cell = sheet["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'=")
    assert sheet["B2"].value == 3
    text = imports.csv_bytes(["a"], [["=cmd|' /C calc'!A0"]]).decode("utf-8-sig")
    assert "\n'=cmd" in text.replace("\r", "")


# -- the whole flow through the web (a real .xlsx uploaded) -------------------------------

@pytest.fixture
def catalogue(db, make_tenant, make_staff, make_product, make_company, client, sign_in):
    tenant = make_tenant()
    admin = make_staff(tenant, "admin", locale="en")
    model = make_product(tenant, code="CL-3000")
    make_company(tenant, name="ACME Ltd")
    sign_in(client, tenant, admin.email)
    return tenant, model


def _upload(client, tenant, data: bytes, kind="shipments", name="shipments.xlsx"):
    base = f"/t/{tenant.slug}/staff/admin/import/{kind}"
    token = csrf_from(client.get(base).get_data(as_text=True))
    return client.post(base, data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _apply(client, tenant, location: str):
    page = client.get(location)
    return client.post(location + "/apply", data={"csrf_token": csrf_from(
        page.get_data(as_text=True))})


def _shipments(db, tenant) -> list:
    with activate(tenant):
        return db.session.execute(select(Shipment.lot, Shipment.quantity)
                                  .order_by(Shipment.lot)).all()


def test_preview_then_write_then_rerun_without_duplicates(client, db, catalogue):
    tenant, model = catalogue
    rows = [["CL-3000", f"L{n:03d}", n, date(2026, 1, n), "ACME Ltd"] for n in range(1, 21)]
    response = _upload(client, tenant, xlsx(rows))
    assert response.status_code == 303
    location = response.headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "20 rows read" in page and "20 new shipments" in page
    assert _shipments(db, tenant) == []  # the preview writes nothing
    done = client.get(_apply(client, tenant, location).headers["Location"])
    assert "20 rows written: 20 new, 0 updated" in done.get_data(as_text=True)
    assert len(_shipments(db, tenant)) == 20
    # the same file again: same rows, updated, no duplicates
    again = _upload(client, tenant, xlsx(rows)).headers["Location"]
    assert "0 new shipments, 20 already known" in client.get(again).get_data(as_text=True)
    text = client.get(_apply(client, tenant, again).headers["Location"]).get_data(as_text=True)
    assert "20 rows written: 0 new, 20 updated" in text
    assert len(_shipments(db, tenant)) == 20
    # a changed quantity in a re-run updates the row
    rows[0][2] = 999
    client.get(_apply(client, tenant, _upload(client, tenant, xlsx(rows)).headers["Location"])
               .headers["Location"])
    assert ("L001", 999) in _shipments(db, tenant)


def test_a_file_with_one_bad_row_writes_nothing(client, db, catalogue):
    tenant, _model = catalogue
    rows = [["CL-3000", f"L{n}", n, "2026-02-01"] for n in range(1, 10)]
    rows.append(["CL-3000", "L99", "ten", "2026-02-01"])
    location = _upload(client, tenant, xlsx(rows)).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "1 problems found" in page and "“ten” is not a whole number." in page
    assert "<td>11</td>" in page  # the row number as Excel shows it
    refused = _apply(client, tenant, location)
    assert refused.status_code == 303
    assert "cannot be written" in client.get(refused.headers["Location"]).get_data(as_text=True)
    assert _shipments(db, tenant) == []


def test_write_is_all_or_nothing_when_the_database_refuses(client, db, catalogue, monkeypatch):
    tenant, _model = catalogue
    rows = [["CL-3000", f"L{n}", n, "2026-02-01"] for n in range(1, 30)]
    location = _upload(client, tenant, xlsx(rows)).headers["Location"]
    original = imports.upsert_shipments

    def half_then_fail(rows, progress=None):
        original(rows[:10], progress)
        raise RuntimeError("database went away")

    monkeypatch.setattr(imports.runs, "upsert_shipments", half_then_fail)
    page = client.get(location)
    client.post(location + "/apply", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert _shipments(db, tenant) == []
    with activate(tenant):
        run = db.session.scalar(select(ImportRun).order_by(ImportRun.id.desc()))
        assert run.status == "failed" and "database went away" in run.error


def test_upload_that_is_not_a_spreadsheet_is_refused_at_once(client, db, catalogue):
    tenant, _model = catalogue
    response = _upload(client, tenant, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, name="photo.xlsx")
    assert response.status_code == 422
    assert "neither an Excel workbook" in response.get_data(as_text=True)
    with activate(tenant):
        assert db.session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_customers_import_and_rerun(client, db, catalogue):
    tenant, _model = catalogue
    header = ["客户公司", "客户编码", "重点客户", "联系人", "邮箱", "电话", "语言"]
    rows = [["ACME Ltd", "A1", "是", "Zhang San", "zhang@acme.example.com", "+86 1", "zh_CN"],
            ["Beta GmbH", "B1", "", "Anna", "anna@beta.example.com", "", "en"],
            ["Gamma Co", "", "no", "", "", "", ""]]
    location = _upload(client, tenant, xlsx(rows, header=header), kind="customers").headers[
        "Location"]
    text = client.get(_apply(client, tenant, location).headers["Location"]).get_data(as_text=True)
    assert "rows written" in text
    with activate(tenant):
        assert db.session.scalar(select(func.count()).select_from(CustomerCompany)) == 3
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 2
        acme = db.session.scalar(select(CustomerCompany).where(CustomerCompany.name == "ACME Ltd"))
        assert acme.key_account and acme.code == "A1"
    location = _upload(client, tenant, xlsx(rows, header=header), kind="customers").headers[
        "Location"]
    client.get(_apply(client, tenant, location).headers["Location"])
    with activate(tenant):
        assert db.session.scalar(select(func.count()).select_from(CustomerCompany)) == 3
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 2
    bad = [["", "", "maybe", "", "not-an-email", "", "fr"]]
    location = _upload(client, tenant, xlsx(bad, header=header), kind="customers").headers[
        "Location"]
    page = client.get(location).get_data(as_text=True)
    for message in ("This column is empty.", "is not yes or no", "not a valid e-mail",
                    "A contact with an e-mail needs a name.", "not a language we offer"):
        assert message in page


def test_templates_in_both_languages(client, db, catalogue):
    tenant, _model = catalogue
    base = f"/t/{tenant.slug}/staff/admin/import/shipments/template"
    zh = load_workbook(io.BytesIO(client.get(base + ".xlsx?lang=zh_CN").data)).active
    en = load_workbook(io.BytesIO(client.get(base + ".xlsx?lang=en").data)).active
    assert zh["A1"].value == "型号 *" and en["A1"].value == "Model code *"
    csv_text = client.get(base + ".csv?lang=en").data.decode("utf-8-sig")
    assert csv_text.startswith("Model code *,Lot *")
    # a downloaded template, filled in, imports as it is
    header, rows = imports.read_table(client.get(base + ".xlsx?lang=zh_CN").data)
    assert imports.map_header("shipments", header)["shipped_on"] == 3


def test_shipment_export_neutralises_cells(client, db, catalogue):
    tenant, model = catalogue
    with activate(tenant):
        db.session.add(Shipment(product_model_id=model.id, lot="=1+1", quantity=3,
                                shipped_on=date(2026, 1, 1)))
        db.session.flush()
    sheet = load_workbook(io.BytesIO(client.get(
        f"/t/{tenant.slug}/staff/admin/shipments/export.xlsx").data)).active
    assert sheet["B2"].value == "'=1+1" and sheet["B2"].data_type == "s"
    csv_text = client.get(f"/t/{tenant.slug}/staff/admin/shipments/export.csv").data.decode(
        "utf-8-sig")
    assert "'=1+1" in csv_text


def test_import_runs_of_another_tenant_are_404(client, db, catalogue, make_tenant, make_staff):
    tenant, _model = catalogue
    location = _upload(client, tenant, xlsx([["CL-3000", "L1", 1, "2026-01-01"]])).headers[
        "Location"]
    run_id = location.rstrip("/").rsplit("/", 1)[1]
    other = make_tenant()
    other_admin = make_staff(other, "admin", locale="en")
    from tests.conftest import PASSWORD

    other_client = client.application.test_client()
    path = f"/t/{other.slug}/staff/sign-in"
    other_client.post(path, data={"email": other_admin.email, "password": PASSWORD,
                                  "csrf_token": csrf_from(other_client.get(path).get_data(
                                      as_text=True))})
    assert other_client.get(f"/t/{other.slug}/staff/admin/imports/{run_id}").status_code == 404
    token = csrf_from(other_client.get(f"/t/{other.slug}/staff/admin/").get_data(as_text=True))
    assert other_client.post(f"/t/{other.slug}/staff/admin/imports/{run_id}/apply",
                             data={"csrf_token": token}).status_code == 404
