"""The columns of each import kind (shipments, customers, suppliers, supplier deliveries:
English and Chinese headers, required or not), the header mapping with its aliases, the
problems' messages, the template files and the shipment export."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import CustomerCompany, ProductModel, Shipment
from ..spreadsheets import neutralise
from .reading import ImportFileError

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
    ("installed_on", "Installation date", "安装日期", False),
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
# One row per contact; a supplier on several rows gets the union of what they list.
SUPPLIER_COLUMNS = [
    ("supplier", "Supplier name", "供应商名称", True),
    ("code", "Supplier code", "供应商编码", True),
    ("language", "Language", "语言", False),
    ("product_codes", "Product models supplied", "供货产品型号", False),
    ("part_numbers", "Part numbers supplied", "供货零件号", False),
    ("contact_name", "Contact name", "联系人", False),
    ("email", "E-mail", "邮箱", False),
    ("phone", "Phone", "电话", False),
    ("contact_language", "Contact language", "联系人语言", False),
]
DELIVERY_COLUMNS = [
    ("code", "Supplier code", "供应商编码", True),
    ("item", "Part number or model", "零件号或型号", True),
    ("received_on", "Date received", "到货日期", True),
    ("quantity", "Quantity received", "到货数量", True),
    ("delivery_note", "Delivery note", "送货单号", False),
]
COLUMNS = {"shipments": SHIPMENT_COLUMNS, "customers": CUSTOMER_COLUMNS,
           "suppliers": SUPPLIER_COLUMNS, "deliveries": DELIVERY_COLUMNS}
_EXTRA_ALIASES = {
    "model code": "model", "product model": "model", "型号编码": "model", "产品型号": "model",
    "规格型号": "model", "lot number": "lot", "批次": "lot", "批号": "lot", "qty": "quantity",
    "发货数量": "quantity", "date": "shipped_on", "shipping date": "shipped_on",
    "发货时间": "shipped_on", "customer name": "customer", "客户名称": "customer",
    "company name": "company", "公司": "company", "客户名称 ": "company", "email": "email",
    "e-mail address": "email", "电子邮箱": "email", "手机": "phone", "联系电话": "phone",
    "name": "contact_name", "contact": "contact_name", "installed": "installed_on",
    "installation": "installed_on", "安装时间": "installed_on", "供应商": "supplier",
    "supplier": "supplier", "part number": "item", "零件号": "item", "物料号": "item",
    "物料编码": "item", "收货日期": "received_on", "入库日期": "received_on",
    "收货数量": "quantity", "入库数量": "quantity", "送货单": "delivery_note",
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
    "bad_code": _l("“%(value)s” is not a valid code (letters, digits, dots, dashes, "
                   "slashes)."),
    "too_many": _l("More than %(other)s entries."),
    "name_taken": _l("Another supplier (code %(other)s) has the name “%(value)s”."),
    "name_differs": _l("Row %(other)s gives this supplier code another name."),
    "unknown_supplier": _l("No supplier with code “%(value)s”."),
    "not_supplied": _l("“%(value)s” is not among the part numbers and models this supplier "
                       "supplies (add it to the supplier first)."),
    "duplicate_delivery": _l("Same supplier, item, date and delivery note as row %(other)s."),
    "future_date": _l("“%(value)s” lies in the future."),
    "installed_before_shipped": _l("Installed on %(value)s, before the ship date."),
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


# -- templates and exports ----------------------------------------------------------------

_EXAMPLES = {
    "shipments": ["CL-3000", "L2026-0301", 120, date(2026, 3, 2), "", "CL3000-000001",
                  "CL3000-000120", "", ""],
    "suppliers": ["", "SP-01", "zh_CN", "CL-3000", "SPN-6K-01, SPN-6K-02", "",
                  "sales@supplier.example.com", "+86 512 5555 0000", ""],
    "deliveries": ["SP-01", "SPN-6K-01", date(2026, 3, 2), 500, "DN-20260302-01"],
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
    english = str(locale).startswith("en")
    if kind == "customers":
        example[0] = "Example Customer Ltd" if english else "示例客户有限公司"
        example[3] = "Alex Wang" if english else "王先生"
    if kind == "suppliers":
        example[0] = "Example Spindle Co." if english else "示例主轴有限公司"
        example[5] = "Li Na" if english else "李娜"
    headers = template_headers(kind, locale)
    return workbook_bytes(headers, [example]) if fmt == "xlsx" else csv_bytes(headers, [example])


def shipment_export_rows() -> Iterable[list]:
    """Every shipment of the active tenant, in the import's column order."""
    query = (select(ProductModel.code, Shipment.lot, Shipment.quantity, Shipment.shipped_on,
                    CustomerCompany.name, Shipment.serial_first, Shipment.serial_last,
                    Shipment.serials, Shipment.installed_on)
             .join(ProductModel, Shipment.product_model_id == ProductModel.id)
             .outerjoin(CustomerCompany, Shipment.customer_company_id == CustomerCompany.id)
             .order_by(Shipment.shipped_on, ProductModel.code, Shipment.lot))
    for code, lot, qty, shipped_on, customer, first, last, serials, installed in \
            db.session.execute(query.execution_options(yield_per=2000)):
        yield [code, lot, qty, shipped_on, customer or "", first or "", last or "",
               ", ".join(serials or []), installed or ""]
