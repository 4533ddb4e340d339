"""Every row checked: cells parsed (text, dates in the usual Chinese and ISO forms and as
Excel serials, quantities, serial ranges), then the shipments' and customers' rules. Pure
functions: values in, checked rows and problems out; no database."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _

from ..complaints.serials import MAX_LENGTH, compile_pattern, has_format, range_size, split
from .columns import map_header
from .reading import CHUNK, MAX_PROBLEMS_KEPT, MAX_ROWS, ImportFileError, _present

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


def validate_shipments(header: list, rows: Iterable[tuple[int, list]], *,
                       models: dict[str, tuple[int, str | None]],
                       customers: dict[str, int], default_pattern: str | None,
                       progress: Callable[[int], None] | None = None) -> Checked:
    """Check every row. ``models`` maps upper-case code -> (id, serial pattern);
    ``customers`` maps lower-case company name -> id. Pure: no database."""
    rules = _ShipmentRules(map_header("shipments", header), models, customers,
                           compile_pattern(default_pattern))
    checked = Checked()
    for number, cells in rows:
        checked.total += 1
        if checked.total > MAX_ROWS:
            raise ImportFileError(_("The file has more than %(max)d rows. Split it.",
                                    max=MAX_ROWS))
        if progress and checked.total % CHUNK == 0:
            progress(checked.total)
        before = checked.problem_count
        row = rules.check(checked, number, cells)
        if checked.problem_count == before:
            checked.rows.append(row)
    return checked


class _ShipmentRules:
    """The checks of one shipment row; remembers (model, lot) pairs seen in the file."""

    def __init__(self, cols: dict[str, int], models, customers, default_re):
        self.cols, self.models, self.customers = cols, models, customers
        self.default_re = default_re
        self.seen: dict[tuple[int, str], int] = {}
        self.patterns: dict[int, re.Pattern | None] = {}

    def cell(self, cells, name):
        index = self.cols.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def check(self, checked: Checked, number: int, cells) -> dict:
        """The row's values (meaningful only when it added no problem)."""
        lot = _text(self.cell(cells, "lot"))
        first = _text(self.cell(cells, "serial_first"))
        last = _text(self.cell(cells, "serial_last"))
        listed = split(_text(self.cell(cells, "serials")))
        model = self.model(checked, number, _text(self.cell(cells, "model")))
        if not lot:
            checked.add(number, "lot", "missing")
        elif len(lot) > 60:
            checked.add(number, "lot", "too_long", lot)
        quantity = self.quantity(checked, number, self.cell(cells, "quantity"))
        shipped_on = self.shipped_on(checked, number, self.cell(cells, "shipped_on"))
        customer_id = self.customer(checked, number, _text(self.cell(cells, "customer")))
        installed_on = None
        if _present(self.cell(cells, "installed_on")):
            installed_on = parse_date(self.cell(cells, "installed_on"))
            if installed_on is None:
                checked.add(number, "installed_on", "bad_date", self.cell(cells, "installed_on"))
            elif shipped_on is not None and installed_on < shipped_on:
                checked.add(number, "installed_on", "installed_before_shipped",
                            installed_on.isoformat())
        self.serials(checked, number, model, first, last, listed)
        if model is not None and lot:
            key = (model[0], lot)
            if key in self.seen:
                checked.add(number, "lot", "duplicate", lot, other=self.seen[key])
            else:
                self.seen[key] = number
        return {"product_model_id": model[0] if model else None, "lot": lot,
                "quantity": quantity,
                "shipped_on": shipped_on.isoformat() if shipped_on else None,
                "customer_company_id": customer_id, "serial_first": first or None,
                "serial_last": last or None, "serials": listed or None,
                "installed_on": installed_on.isoformat() if installed_on else None}

    def model(self, checked, number, code):
        if not code:
            checked.add(number, "model", "missing")
            return None
        model = self.models.get(code.upper())
        if model is None:
            checked.add(number, "model", "unknown_model", code)
        return model

    def quantity(self, checked, number, raw):
        if not _present(raw):
            checked.add(number, "quantity", "missing")
            return None
        quantity = parse_quantity(raw)
        if quantity is None:
            checked.add(number, "quantity", "not_a_number", raw)
        elif quantity < 1:
            checked.add(number, "quantity", "not_positive", raw)
        return quantity

    def shipped_on(self, checked, number, raw):
        if not _present(raw):
            checked.add(number, "shipped_on", "missing")
            return None
        shipped_on = parse_date(raw)
        if shipped_on is None:
            checked.add(number, "shipped_on", "bad_date", raw)
        return shipped_on

    def customer(self, checked, number, name):
        if not name:
            return None
        customer_id = self.customers.get(name.lower())
        if customer_id is None:
            checked.add(number, "customer", "unknown_customer", name)
        return customer_id

    def serials(self, checked, number, model, first, last, listed):
        """The range (both ends, a valid range) and every serial in the model's format."""
        if bool(first) != bool(last):
            checked.add(number, "serial_first", "range_incomplete")
        elif first and (len(first) > MAX_LENGTH or len(last) > MAX_LENGTH
                        or range_size(first, last) is None):
            checked.add(number, "serial_first", "bad_range", f"{first} – {last}")
        if model is None:
            return
        model_id, own_pattern = model
        if model_id not in self.patterns:
            self.patterns[model_id] = compile_pattern(own_pattern) or self.default_re
        pattern = self.patterns[model_id]
        if pattern is None:
            return
        for serial in ([first, last] if first and last else []) + listed:
            if not has_format(pattern, serial):
                checked.add(number, "serials", "serial_format", serial)
                break


_YES = {"1", "y", "yes", "true", "x", "是", "√", "✓"}
_NO = {"", "0", "n", "no", "false", "否"}
_LANGS = {"zh_cn": "zh_CN", "zh": "zh_CN", "中文": "zh_CN", "chinese": "zh_CN", "en": "en",
          "english": "en", "英文": "en", "英语": "en"}


def cell_reader(cols: dict[str, int]):
    def cell(cells, name):
        index = cols.get(name)
        return cells[index] if index is not None and index < len(cells) else None
    return cell


def count_row(checked: Checked) -> None:
    checked.total += 1
    if checked.total > MAX_ROWS:
        raise ImportFileError(_("The file has more than %(max)d rows. Split it.", max=MAX_ROWS))


def language(checked: Checked, number: int, column: str, text: str) -> str | None:
    """A language cell (zh_CN, en, 中文, English…) as a locale; None when empty or wrong."""
    if not text:
        return None
    locale = _LANGS.get(text.lower().replace("-", "_"))
    if locale is None:
        checked.add(number, column, "bad_language", text)
    return locale


def contact_checks(checked: Checked, number: int, seen_email: dict[str, int], *, name: str,
                   email: str, phone: str) -> str:
    """A contact's name, e-mail (valid, once in the file) and phone; the normalised e-mail."""
    from email_validator import EmailNotValidError, validate_email

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
    return email


def validate_customers(header: list, rows: Iterable[tuple[int, list]]) -> Checked:
    """Check customer rows (company, optional contact). Pure: no database."""
    cell = cell_reader(map_header("customers", header))
    checked = Checked()
    seen_email: dict[str, int] = {}
    for number, cells in rows:
        count_row(checked)
        before = checked.problem_count
        company = _text(cell(cells, "company"))
        code = _text(cell(cells, "code"))
        flag = _text(cell(cells, "key_account")).lower()
        name = _text(cell(cells, "contact_name"))
        phone = _text(cell(cells, "phone"))
        if not company:
            checked.add(number, "company", "missing")
        elif len(company) > 200:
            checked.add(number, "company", "too_long", company)
        if len(code) > 40:
            checked.add(number, "code", "too_long", code)
        if flag not in _YES | _NO:
            checked.add(number, "key_account", "bad_flag", flag)
        locale = language(checked, number, "language", _text(cell(cells, "language")))
        email = contact_checks(checked, number, seen_email, name=name, phone=phone,
                               email=_text(cell(cells, "email")).lower())
        if checked.problem_count == before:
            checked.rows.append({"company": company, "code": code or None,
                                 "key_account": flag in _YES if flag else None,
                                 "contact_name": name or None, "email": email or None,
                                 "phone": phone or None, "locale": locale})
    return checked
