"""Spreadsheet imports (shipments, customers): read, validate, preview, write all or nothing.

The pure functions (``read_table``, ``map_header``, ``validate_shipments``,
``validate_customers``, ``neutralise``) take bytes and values and return values; they touch
no database. The operations ``run_preview`` and ``run_apply`` work on one ``ImportRun``
in the active tenant and flush (the job wrapper commits):

1. the upload is kept in storage and an ImportRun is ``uploaded``;
2. ``run_preview`` parses it, checks every row and stages the good rows in storage as
   gzipped JSON; the run is ``previewed`` with its problems (nothing written yet);
3. ``run_apply`` refuses a run with problems, re-checks the staged rows against the
   catalogue, and upserts them in one transaction on (product model, lot) — the same file
   imported twice writes the same rows, never duplicates.

Spreadsheets: .xlsx through openpyxl in read-only mode with ``data_only=True`` (a formula
is read as the value Excel saved with it, never evaluated); CSV in UTF-8 (with or without
BOM) or GB18030, as Chinese Excel saves it. Anything else is refused.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from .extensions import db
from .i18n import lazy_gettext as _l
from .models import Contact, CustomerCompany, ImportRun, ProductModel, Shipment, utcnow
from .spreadsheets import neutralise
from .storage import get_storage, tenant_key
from .tenancy import active_tenant_id, current_tenant

MAX_UPLOAD_BYTES = 30 * 1024 * 1024
MAX_ROWS = 200_000
MAX_PROBLEMS_KEPT = 500
CHUNK = 5_000

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls

# (field, English header, Chinese header, required). Both headers are accepted in any file.
SHIPMENT_COLUMNS = [
    ("model", "Model code", "型号", True),
    ("lot", "Lot", "批次号", True),
    ("quantity", "Quantity", "数量", True),
    ("shipped_on", "Ship date", "发货日期", True),
    ("customer", "Customer", "客户", False),
    ("serial_first", "First serial", "起始序列号", False),
    ("serial_last", "Last serial", "结束序列号", False),
    ("serials", "Serial numbers", "序列号清单", False),
]
CUSTOMER_COLUMNS = [
    ("company", "Company", "客户公司", True),
    ("code", "Customer code", "客户编码", False),
    ("key_account", "Key account", "重点客户", False),
    ("contact_name", "Contact name", "联系人", False),
    ("email", "E-mail", "邮箱", False),
    ("phone", "Phone", "电话", False),
    ("language", "Language", "语言", False),
]
COLUMNS = {"shipments": SHIPMENT_COLUMNS, "customers": CUSTOMER_COLUMNS}
_EXTRA_ALIASES = {
    "model code": "model", "product model": "model", "型号编码": "model", "产品型号": "model",
    "规格型号": "model", "lot number": "lot", "批次": "lot", "批号": "lot", "qty": "quantity",
    "发货数量": "quantity", "date": "shipped_on", "shipping date": "shipped_on",
    "发货时间": "shipped_on", "customer name": "customer", "客户名称": "customer",
    "company name": "company", "公司": "company", "客户名称 ": "company", "email": "email",
    "e-mail address": "email", "电子邮箱": "email", "手机": "phone", "联系电话": "phone",
    "name": "contact_name", "contact": "contact_name",
}

PROBLEM_MESSAGES = {
    "missing": _l("This column is empty."),
    "unknown_model": _l("No product model with code “%(value)s”."),
    "unknown_customer": _l("No customer company named “%(value)s”."),
    "bad_date": _l("“%(value)s” is not a date (use 2026-03-31)."),
    "not_a_number": _l("“%(value)s” is not a whole number."),
    "not_positive": _l("The quantity must be at least 1."),
    "too_long": _l("“%(value)s” is too long."),
    "duplicate": _l("Same model and lot as row %(other)s."),
    "duplicate_email": _l("Same e-mail as row %(other)s."),
    "bad_range": _l("The serial range %(value)s is not valid (same prefix, last after first)."),
    "range_incomplete": _l("Give both the first and the last serial number of a range."),
    "serial_format": _l("Serial number “%(value)s” does not match the model's format."),
    "bad_email": _l("“%(value)s” is not a valid e-mail address."),
    "contact_name_missing": _l("A contact with an e-mail needs a name."),
    "bad_language": _l("“%(value)s” is not a language we offer (zh_CN or en)."),
    "bad_flag": _l("“%(value)s” is not yes or no."),
}


def problem_message(problem: dict) -> str:
    """A problem in the current request's language."""
    template = PROBLEM_MESSAGES.get(problem.get("code"))
    if template is None:
        return str(problem.get("code"))
    return str(template) % {"value": problem.get("value", ""), "other": problem.get("other", "")}


def column_label(kind: str, name: str, locale: str) -> str:
    for fname, en, zh, _req in COLUMNS[kind]:
        if fname == name:
            return en if str(locale).startswith("en") else zh
    return name


class ImportFileError(ValueError):
    """The upload cannot be read as a spreadsheet; the message says why, translated."""


# -- reading ------------------------------------------------------------------------------

def read_table(data: bytes) -> tuple[list, Iterable[tuple[int, list]]]:
    """Return (header cells, iterator of (row number, cells)) from .xlsx or CSV bytes.

    Row numbers are as the user sees them in Excel (header = row 1). Empty rows are skipped.
    Raises ImportFileError for anything that is not a readable spreadsheet.
    """
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_("The file is larger than 30 MB. Split it into several files."))
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls). Save it as .xlsx or CSV "
                                "and upload it again."))
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data)
    return _read_csv(data)


def sniff(data: bytes) -> str:
    """A cheap check, fit for the web request: "xlsx" for a zip holding an Excel workbook,
    "csv" for text that decodes; ImportFileError otherwise. ``read_table`` does the rest."""
    import zipfile

    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_("The file is larger than 30 MB. Split it into several files."))
    if data.startswith(OLE_MAGIC):
        raise ImportFileError(_("This is an old Excel file (.xls). Save it as .xlsx or CSV "
                                "and upload it again."))
    if data.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    raise zipfile.BadZipFile("no workbook")
        except zipfile.BadZipFile as exc:
            raise ImportFileError(_("This file is not an Excel workbook we can read. Save it "
                                    "as .xlsx or CSV and try again.")) from exc
        return "xlsx"
    _decode(data)
    return "csv"


def _read_xlsx(data: bytes):
    import zipfile

    from openpyxl import load_workbook

    try:
        # read_only streams the sheet; data_only gives the cached value of a formula cell
        # (never evaluating it).
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise ImportFileError(_("This file is not an Excel workbook we can read. Save it as "
                                ".xlsx or CSV and try again.")) from exc
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds on broken files
        raise ImportFileError(_("This file is not an Excel workbook we can read. Save it as "
                                ".xlsx or CSV and try again.")) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = None
    number = 0
    for cells in rows:
        number += 1
        if any(_present(c) for c in cells):
            header = list(cells)
            break
    if header is None:
        workbook.close()
        raise ImportFileError(_("The first sheet is empty."))

    def body(start=number):
        n = start
        try:
            for cells in rows:
                n += 1
                if any(_present(c) for c in cells):
                    yield n, list(cells)
        finally:
            workbook.close()

    return header, body()


def _decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise ImportFileError(_("This file is neither an Excel workbook (.xlsx) nor a CSV "
                                "text file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return codecs.decode(data, encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The CSV file's characters cannot be read. Save it as UTF-8 "
                            "(or as .xlsx) and try again."))


def _read_csv(data: bytes):
    text = _decode(data)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    header = None
    number = 0
    try:
        for cells in reader:
            number += 1
            if any(c.strip() for c in cells):
                header = cells
                break
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(error)s", error=str(exc))) from exc
    if header is None:
        raise ImportFileError(_("The file is empty."))

    def body(start=number):
        n = start
        try:
            for cells in reader:
                n += 1
                if any(c.strip() for c in cells):
                    yield n, cells
        except csv.Error as exc:
            raise ImportFileError(_("The CSV file is malformed near row %(row)d.", row=n + 1)) \
                from exc

    return header, body()


def _present(value) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def _norm(value) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip().lower().rstrip("*").strip()


def map_header(kind: str, header: list) -> dict[str, int]:
    """Map field name -> column index. Raises ImportFileError naming missing columns."""
    aliases = dict(_EXTRA_ALIASES)
    for fname, en, zh, _req in COLUMNS[kind]:
        aliases[_norm(en)] = fname
        aliases[_norm(zh)] = fname
        aliases[fname] = fname
    mapping: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = aliases.get(_norm(cell))
        if name and name not in mapping:
            mapping[name] = index
    missing = [f"{en} / {zh}" for fname, en, zh, req in COLUMNS[kind]
               if req and fname not in mapping]
    if missing:
        raise ImportFileError(_("These columns are missing: %(columns)s. Download the template "
                                "to see the expected first row.", columns="; ".join(missing)))
    return mapping


# -- cell parsing -------------------------------------------------------------------------

def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    return str(value).strip()


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_EXCEL_EPOCH = date(1899, 12, 30)


def parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A date cell that lost its format reads as Excel's day number.
        if 20_000 <= value <= 80_000:
            return _EXCEL_EPOCH + timedelta(days=int(value))
        return None
    text = _text(value)
    text = text.split(" ")[0].split("T")[0] if re.match(r"^\d{4}\D\d", text) else text
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if 1990 <= parsed.year <= 2100:
            return parsed
    return None


def parse_quantity(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value).replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text):
        text = text.replace(",", "")
    if re.fullmatch(r"[+]?\d{1,10}(\.0+)?", text):
        return int(float(text))
    return None


_SERIAL_TAIL = re.compile(r"^(.*?)(\d+)$")
_SERIAL_SPLIT = re.compile(r"[\s,;，；、]+")


def split_range(first: str, last: str) -> int | None:
    """How many serial numbers the range covers, or None when it is not a valid range."""
    a, b = _SERIAL_TAIL.match(first), _SERIAL_TAIL.match(last)
    if not a or not b or a.group(1) != b.group(1) or len(a.group(2)) != len(b.group(2)):
        return None
    count = int(b.group(2)) - int(a.group(2)) + 1
    return count if count >= 1 else None


# -- validation ---------------------------------------------------------------------------

@dataclass
class Checked:
    rows: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    total: int = 0

    def add(self, row: int, column: str, code: str, value="", other=""):
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append({"row": row, "column": column, "code": code,
                                  "value": _text(value)[:80], "other": other})


def _compile(pattern: str | None):
    try:
        return re.compile(pattern) if pattern else None
    except re.error:
        return None


def validate_shipments(header: list, rows: Iterable[tuple[int, list]], *,
                       models: dict[str, tuple[int, str | None]],
                       customers: dict[str, int], default_pattern: str | None,
                       progress: Callable[[int], None] | None = None) -> Checked:
    """Check every row. ``models`` maps upper-case code -> (id, serial pattern);
    ``customers`` maps lower-case company name -> id. Pure: no database."""
    cols = map_header("shipments", header)
    checked = Checked()
    seen: dict[tuple[int, str], int] = {}
    patterns: dict[int, re.Pattern | None] = {}
    default_re = _compile(default_pattern)

    def cell(cells, name):
        index = cols.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    for number, cells in rows:
        checked.total += 1
        if checked.total > MAX_ROWS:
            raise ImportFileError(_("The file has more than %(max)d rows. Split it.",
                                    max=MAX_ROWS))
        if progress and checked.total % CHUNK == 0:
            progress(checked.total)
        before = checked.problem_count
        code = _text(cell(cells, "model"))
        lot = _text(cell(cells, "lot"))
        raw_qty, raw_date = cell(cells, "quantity"), cell(cells, "shipped_on")
        customer_name = _text(cell(cells, "customer"))
        first, last = _text(cell(cells, "serial_first")), _text(cell(cells, "serial_last"))
        serial_list = [s for s in _SERIAL_SPLIT.split(_text(cell(cells, "serials"))) if s]

        model = None
        if not code:
            checked.add(number, "model", "missing")
        else:
            model = models.get(code.upper())
            if model is None:
                checked.add(number, "model", "unknown_model", code)
        if not lot:
            checked.add(number, "lot", "missing")
        elif len(lot) > 60:
            checked.add(number, "lot", "too_long", lot)
        quantity = None
        if not _present(raw_qty):
            checked.add(number, "quantity", "missing")
        else:
            quantity = parse_quantity(raw_qty)
            if quantity is None:
                checked.add(number, "quantity", "not_a_number", raw_qty)
            elif quantity < 1:
                checked.add(number, "quantity", "not_positive", raw_qty)
        shipped_on = None
        if not _present(raw_date):
            checked.add(number, "shipped_on", "missing")
        else:
            shipped_on = parse_date(raw_date)
            if shipped_on is None:
                checked.add(number, "shipped_on", "bad_date", raw_date)
        customer_id = None
        if customer_name:
            customer_id = customers.get(customer_name.lower())
            if customer_id is None:
                checked.add(number, "customer", "unknown_customer", customer_name)
        if bool(first) != bool(last):
            checked.add(number, "serial_first", "range_incomplete")
        elif first and (len(first) > 60 or len(last) > 60 or split_range(first, last) is None):
            checked.add(number, "serial_first", "bad_range", f"{first} – {last}")
        if model is not None:
            model_id, own_pattern = model
            if model_id not in patterns:
                patterns[model_id] = _compile(own_pattern) or default_re
            pattern = patterns[model_id]
            if pattern is not None:
                for serial in ([first, last] if first and last else []) + serial_list:
                    if len(serial) > 60 or not pattern.match(serial):
                        checked.add(number, "serials", "serial_format", serial)
                        break
            if lot:
                key = (model_id, lot)
                if key in seen:
                    checked.add(number, "lot", "duplicate", lot, other=seen[key])
                else:
                    seen[key] = number
        if checked.problem_count == before:
            checked.rows.append({
                "product_model_id": model[0], "lot": lot, "quantity": quantity,
                "shipped_on": shipped_on.isoformat(), "customer_company_id": customer_id,
                "serial_first": first or None, "serial_last": last or None,
                "serials": serial_list or None,
            })
    return checked


_YES = {"1", "y", "yes", "true", "x", "是", "√", "✓"}
_NO = {"", "0", "n", "no", "false", "否"}
_LANGS = {"zh_cn": "zh_CN", "zh": "zh_CN", "中文": "zh_CN", "chinese": "zh_CN", "en": "en",
          "english": "en", "英文": "en", "英语": "en"}


def validate_customers(header: list, rows: Iterable[tuple[int, list]]) -> Checked:
    """Check customer rows (company, optional contact). Pure: no database."""
    from email_validator import EmailNotValidError, validate_email

    cols = map_header("customers", header)
    checked = Checked()
    seen_email: dict[str, int] = {}

    def cell(cells, name):
        index = cols.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    for number, cells in rows:
        checked.total += 1
        if checked.total > MAX_ROWS:
            raise ImportFileError(_("The file has more than %(max)d rows. Split it.",
                                    max=MAX_ROWS))
        before = checked.problem_count
        company = _text(cell(cells, "company"))
        code = _text(cell(cells, "code"))
        flag = _text(cell(cells, "key_account")).lower()
        name = _text(cell(cells, "contact_name"))
        email = _text(cell(cells, "email")).lower()
        phone = _text(cell(cells, "phone"))
        language = _text(cell(cells, "language"))
        if not company:
            checked.add(number, "company", "missing")
        elif len(company) > 200:
            checked.add(number, "company", "too_long", company)
        if len(code) > 40:
            checked.add(number, "code", "too_long", code)
        if flag not in _YES | _NO:
            checked.add(number, "key_account", "bad_flag", flag)
        locale = None
        if language:
            locale = _LANGS.get(language.lower().replace("-", "_"))
            if locale is None:
                checked.add(number, "language", "bad_language", language)
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                checked.add(number, "email", "bad_email", email)
            if email in seen_email:
                checked.add(number, "email", "duplicate_email", email, other=seen_email[email])
            else:
                seen_email[email] = number
            if not name:
                checked.add(number, "contact_name", "contact_name_missing")
        if len(name) > 120:
            checked.add(number, "contact_name", "too_long", name)
        if len(phone) > 40:
            checked.add(number, "phone", "too_long", phone)
        if checked.problem_count == before:
            checked.rows.append({"company": company, "code": code or None,
                                 "key_account": flag in _YES if flag else None,
                                 "contact_name": name or None, "email": email or None,
                                 "phone": phone or None, "locale": locale})
    return checked


# -- the operations -----------------------------------------------------------------------

def start_run(kind: str, filename: str, data: bytes, staff) -> ImportRun:
    """Keep the upload in storage and create its run (status ``uploaded``). Flushes.
    Checks only that the bytes look like a spreadsheet; the preview job does the rest."""
    if kind not in COLUMNS:
        raise ValueError(kind)
    sniff(data)  # refuses at once a file that is no spreadsheet; the job reads it in full
    run = ImportRun(kind=kind, filename=(filename or "upload")[:200],
                    created_by_id=getattr(staff, "id", None), upload_key="pending")
    db.session.add(run)
    db.session.flush()
    run.upload_key = tenant_key(active_tenant_id(), "imports", str(run.id), "upload.bin")
    get_storage().put(run.upload_key, data, "application/octet-stream")
    return run


def _report(run_id: int, **values) -> None:
    """Progress written in its own short transaction, so a poll sees it while the import's
    own transaction is still open. PostgreSQL only: SQLite allows one writer, and there
    the job runs in process, so the page shows the finished result anyway."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(update(ImportRun.__table__).where(ImportRun.__table__.c.id == run_id)
                     .values(updated_at=utcnow(), **values))


def _catalogue_maps():
    models = {code.upper(): (mid, pattern) for mid, code, pattern in db.session.execute(
        select(ProductModel.id, ProductModel.code, ProductModel.serial_pattern))}
    customers = {name.lower(): cid for cid, name in db.session.execute(
        select(CustomerCompany.id, CustomerCompany.name))}
    return models, customers


def run_preview(run: ImportRun) -> ImportRun:
    """Parse and check the upload; stage the good rows. Never writes catalogue data.
    Sets the run ``previewed`` (or ``failed`` with a message for an unreadable file)."""
    _report(run.id, status="validating", processed_rows=0)
    try:
        data = get_storage().read(run.upload_key)
        header, rows = read_table(data)
        if run.kind == "shipments":
            models, customers = _catalogue_maps()
            checked = validate_shipments(
                header, rows, models=models, customers=customers,
                default_pattern=current_tenant_setting("serial_pattern"),
                progress=lambda n: _report(run.id, processed_rows=n))
        else:
            checked = validate_customers(header, rows)
    except ImportFileError as exc:
        run.status, run.error, run.finished_at = "failed", str(exc), utcnow()
        return run
    run.total_rows = run.processed_rows = checked.total
    run.problem_count, run.problems = checked.problem_count, checked.problems
    run.staged_key = tenant_key(active_tenant_id(), "imports", str(run.id), "rows.json.gz")
    get_storage().put(run.staged_key, gzip.compress(json.dumps(checked.rows).encode(), 5),
                      "application/gzip")
    if run.kind == "shipments":
        run.rows_new, run.rows_updated = _count_new(checked.rows)
    run.status = "previewed"
    return run


def current_tenant_setting(key: str):
    from .models import Tenant

    tenant = current_tenant._get_current_object() if current_tenant else None
    tenant = tenant or db.session.get(Tenant, active_tenant_id())
    return tenant.setting(key)


def _existing_keys(model_ids: set[int]) -> set[tuple[int, str]]:
    keys: set[tuple[int, str]] = set()
    for model_id in model_ids:
        keys.update((mid, lot) for mid, lot in db.session.execute(
            select(Shipment.product_model_id, Shipment.lot)
            .where(Shipment.product_model_id == model_id)))
    return keys


def _count_new(rows: list[dict]) -> tuple[int, int]:
    existing = _existing_keys({r["product_model_id"] for r in rows})
    updated = sum(1 for r in rows if (r["product_model_id"], r["lot"]) in existing)
    return len(rows) - updated, updated


class ImportRefused(RuntimeError):
    pass


def run_apply(run: ImportRun) -> ImportRun:
    """Write the staged rows, all or nothing, in the caller's transaction (flushes only).

    Refuses (ImportRefused) a run that is not previewed or has problems. The upsert keys
    are (product model, lot) for shipments and the company name / contact e-mail for
    customers, so running the same file again changes nothing but ``updated_at``.
    """
    if run.status not in ("previewed", "queued", "importing") or run.problem_count:
        raise ImportRefused(f"run {run.id} is {run.status} with {run.problem_count} problems")
    rows = json.loads(gzip.decompress(get_storage().read(run.staged_key)))
    _report(run.id, status="importing", processed_rows=0)
    if run.kind == "shipments":
        known = {mid for mid, _c in db.session.execute(select(ProductModel.id, ProductModel.code))}
        if any(r["product_model_id"] not in known for r in rows):
            raise ImportRefused("a product model was removed since the preview")
        new, updated = upsert_shipments(rows, progress=lambda n: _report(run.id, processed_rows=n))
    else:
        new, updated = upsert_customers(rows)
    run.rows_new, run.rows_updated, run.rows_written = new, updated, new + updated
    run.processed_rows = len(rows)
    run.status, run.finished_at = "done", utcnow()
    return run


def upsert_shipments(rows: list[dict], progress: Callable[[int], None] | None = None
                     ) -> tuple[int, int]:
    """Insert or update shipments by (product model, lot) with Core executemany, in chunks.
    Returns (new, updated). Flushes nothing through the ORM; the caller commits."""
    if not rows:
        return 0, 0
    tenant_id = active_tenant_id()
    if tenant_id is None:
        raise RuntimeError("upsert_shipments needs an active tenant")
    new, updated = _count_new(rows)
    table = Shipment.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "product_model_id", "lot"],
        set_={name: stmt.excluded[name] for name in (
            "quantity", "shipped_on", "customer_company_id", "serial_first", "serial_last",
            "serials", "updated_at")})
    now = utcnow()
    done = 0
    for start in range(0, len(rows), CHUNK):
        batch = [{**r, "shipped_on": date.fromisoformat(r["shipped_on"]), "tenant_id": tenant_id,
                  "created_at": now, "updated_at": now} for r in rows[start:start + CHUNK]]
        db.session.execute(stmt, batch)
        done += len(batch)
        if progress:
            progress(done)
    return new, updated


def upsert_customers(rows: list[dict]) -> tuple[int, int]:
    """Companies by name, contacts by e-mail (case-insensitive). Returns (new, updated)
    counting companies and contacts together. Flushes."""
    companies = {c.name.lower(): c for c in db.session.scalars(select(CustomerCompany))}
    contacts = {c.email.lower(): c for c in db.session.scalars(select(Contact))}
    new = updated = 0
    for r in rows:
        company = companies.get(r["company"].lower())
        if company is None:
            company = CustomerCompany(name=r["company"], code=r["code"],
                                      key_account=bool(r["key_account"]),
                                      tenant_id=active_tenant_id())
            db.session.add(company)
            db.session.flush()
            companies[company.name.lower()] = company
            new += 1
        else:
            changed = False
            if r["code"] and company.code != r["code"]:
                company.code, changed = r["code"], True
            if r["key_account"] is not None and company.key_account != r["key_account"]:
                company.key_account, changed = r["key_account"], True
            updated += changed
        if r["email"]:
            contact = contacts.get(r["email"])
            if contact is None:
                contact = Contact(company_id=company.id, name=r["contact_name"], email=r["email"],
                                  phone=r["phone"], locale=r["locale"],
                                  tenant_id=active_tenant_id())
                db.session.add(contact)
                contacts[r["email"]] = contact
                new += 1
            else:
                fields = {"company_id": company.id, "name": r["contact_name"]}
                if r["phone"]:
                    fields["phone"] = r["phone"]
                if r["locale"]:
                    fields["locale"] = r["locale"]
                changed = False
                for key, value in fields.items():
                    if getattr(contact, key) != value:
                        setattr(contact, key, value)
                        changed = True
                updated += changed
    db.session.flush()
    return new, updated


# -- templates and exports ----------------------------------------------------------------

_EXAMPLES = {
    "shipments": ["CL-3000", "L2026-0301", 120, date(2026, 3, 2), "", "CL3000-000001",
                  "CL3000-000120", ""],
    "customers": ["", "C001", "yes", "", "buyer@example.com", "+86 21 5555 0000", "zh_CN"],
}


def template_headers(kind: str, locale: str) -> list[str]:
    zh = not str(locale).startswith("en")
    return [(z if zh else e) + (" *" if req else "") for _f, e, z, req in COLUMNS[kind]]


def workbook_bytes(headers: list[str], rows: Iterable[list]) -> bytes:
    """An .xlsx with a header row and ``rows``; every text cell neutralised (openpyxl would
    otherwise write a string starting with = as a formula)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(headers: list[str], rows: Iterable[list]) -> bytes:
    """UTF-8 CSV with BOM (so Excel on Chinese Windows opens it right), cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v if not isinstance(v, date) else
                                                         v.isoformat()) for v in row])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def template_file(kind: str, locale: str, fmt: str) -> bytes:
    example = list(_EXAMPLES[kind])
    if kind == "customers":
        example[0] = "示例客户有限公司" if not str(locale).startswith("en") else "Example Customer Ltd"
        example[3] = "王先生" if not str(locale).startswith("en") else "Alex Wang"
    headers = template_headers(kind, locale)
    return workbook_bytes(headers, [example]) if fmt == "xlsx" else csv_bytes(headers, [example])


def shipment_export_rows() -> Iterable[list]:
    """Every shipment of the active tenant, in the import's column order."""
    query = (select(ProductModel.code, Shipment.lot, Shipment.quantity, Shipment.shipped_on,
                    CustomerCompany.name, Shipment.serial_first, Shipment.serial_last,
                    Shipment.serials)
             .join(ProductModel, Shipment.product_model_id == ProductModel.id)
             .outerjoin(CustomerCompany, Shipment.customer_company_id == CustomerCompany.id)
             .order_by(Shipment.shipped_on, ProductModel.code, Shipment.lot))
    for code, lot, qty, shipped_on, customer, first, last, serials in \
            db.session.execute(query.execution_options(yield_per=2000)):
        yield [code, lot, qty, shipped_on, customer or "", first or "", last or "",
               ", ".join(serials or [])]

