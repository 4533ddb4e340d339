"""Supplier imports: suppliers with their contacts and what they supply (one row per
contact), and the deliveries received from them (the denominator of their defect rate).
``validate_*`` are pure (what they need of the tenant's records is passed in, so a code of
another tenant is simply unknown); ``upsert_*`` write in the caller's transaction, keyed so
that the same file imported again writes the same rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select

from ..extensions import db
from ..models import ProductModel, Supplier, SupplierContact, SupplierDelivery, utcnow
from ..suppliers.codes import CODE, MAX_CODES, split_codes
from ..tenancy import active_tenant_id
from .columns import map_header
from .reading import CHUNK
from .validation import (
    Checked,
    _text,
    cell_reader,
    contact_checks,
    count_row,
    language,
    parse_date,
    parse_quantity,
)

MAX_DELIVERY_QUANTITY = 10**9

# -- what the checks need of the tenant ----------------------------------------------------

def supplier_maps() -> dict:
    """The active tenant's model codes, suppliers by code and by name (lower case), and
    what each supplier supplies (upper case -> as written)."""
    suppliers = db.session.execute(select(Supplier.id, Supplier.code, Supplier.name,
                                          Supplier.product_codes, Supplier.part_numbers)).all()
    return {
        "models": {c.upper() for c in db.session.scalars(select(ProductModel.code))},
        "codes": {code.lower(): (sid, name) for sid, code, name, _p, _n in suppliers},
        "names": {name.lower(): code for _i, code, name, _p, _n in suppliers},
        "items": {code.lower(): {i.upper(): i for i in (products or []) + (parts or [])}
                  for _i, code, _n, products, parts in suppliers},
    }


# -- suppliers ------------------------------------------------------------------------------

def _code_list(checked: Checked, number: int, column: str, text: str,
               models: set[str] | None = None) -> list[str]:
    codes = split_codes(text)
    if len(codes) > MAX_CODES:
        checked.add(number, column, "too_many", other=MAX_CODES)
    for code in codes:
        if not CODE.match(code):
            checked.add(number, column, "bad_code", code)
        elif models is not None and code.upper() not in models:
            checked.add(number, column, "unknown_model", code)
    return codes


class _SupplierRules:
    """The checks of one supplier row; remembers codes, names and e-mails seen in the file."""

    def __init__(self, header: list, maps: dict):
        self.cell = cell_reader(map_header("suppliers", header))
        self.maps = maps
        self.names: dict[str, tuple[str, int]] = {}  # code -> (name, first row)
        self.name_codes: dict[str, str] = {}  # name -> code, in the file
        self.emails: dict[str, dict[str, int]] = {}  # per supplier code

    def identity(self, checked, number, name, code) -> None:
        if not name:
            checked.add(number, "supplier", "missing")
        elif len(name) > 200:
            checked.add(number, "supplier", "too_long", name)
        if not code:
            checked.add(number, "code", "missing")
        elif len(code) > 40 or not CODE.match(code):
            checked.add(number, "code", "bad_code", code)
        if not name or not code:
            return
        key, lower = code.lower(), name.lower()
        first = self.names.setdefault(key, (lower, number))
        if first[0] != lower:
            checked.add(number, "supplier", "name_differs", name, other=first[1])
        owner = self.name_codes.setdefault(lower, key)
        known = self.maps["names"].get(lower)
        if owner != key:
            checked.add(number, "supplier", "name_taken", name, other=owner.upper())
        elif known is not None and known.lower() != key:
            checked.add(number, "supplier", "name_taken", name, other=known)

    def check(self, checked: Checked, number: int, cells) -> dict:
        text = lambda name: _text(self.cell(cells, name))  # noqa: E731
        name, code = text("supplier"), text("code")
        self.identity(checked, number, name, code)
        contact = text("contact_name")
        email = contact_checks(checked, number, self.emails.setdefault(code.lower(), {}),
                               name=contact, email=text("email").lower(), phone=text("phone"))
        return {"name": name, "code": code,
                "locale": language(checked, number, "language", text("language")),
                "product_codes": _code_list(checked, number, "product_codes",
                                            text("product_codes"), self.maps["models"]),
                "part_numbers": _code_list(checked, number, "part_numbers",
                                           text("part_numbers")),
                "contact_name": contact or None, "email": email or None,
                "phone": text("phone") or None,
                "contact_locale": language(checked, number, "contact_language",
                                           text("contact_language"))}


def validate_suppliers(header: list, rows: Iterable[tuple[int, list]], maps: dict) -> Checked:
    """Check supplier rows against ``maps`` (``supplier_maps()``). Pure: no database."""
    rules = _SupplierRules(header, maps)
    checked = Checked()
    for number, cells in rows:
        count_row(checked)
        before = checked.problem_count
        row = rules.check(checked, number, cells)
        if checked.problem_count == before:
            checked.rows.append(row)
    return checked


def _merge(existing: list[str] | None, more: list[str]) -> list[str]:
    merged = list(existing or [])
    known = {c.upper() for c in merged}
    for code in more:
        if code.upper() not in known:
            merged.append(code)
            known.add(code.upper())
    return merged


def _supplier_for(row: dict, suppliers: dict[str, Supplier]) -> tuple[Supplier, bool]:
    """The supplier of ``row`` (by code, ignoring case), created if new; whether it changed."""
    supplier = suppliers.get(row["code"].lower())
    if supplier is None:
        supplier = Supplier(code=row["code"], name=row["name"], locale=row["locale"] or "zh_CN",
                            product_codes=[], part_numbers=[], tenant_id=active_tenant_id())
        db.session.add(supplier)
        suppliers[row["code"].lower()] = supplier
    before = (supplier.name, supplier.locale, supplier.product_codes, supplier.part_numbers)
    supplier.name = row["name"]
    supplier.locale = row["locale"] or supplier.locale
    supplier.product_codes = _merge(supplier.product_codes, row["product_codes"])
    supplier.part_numbers = _merge(supplier.part_numbers, row["part_numbers"])
    return supplier, before != (supplier.name, supplier.locale, supplier.product_codes,
                                supplier.part_numbers)


def upsert_suppliers(rows: list[dict]) -> tuple[int, int]:
    """Suppliers by code, contacts by (supplier, e-mail); what they supply is added to, never
    removed (an administrator removes on the supplier's page). Returns (new, updated),
    suppliers and contacts together. Flushes."""
    suppliers = {s.code.lower(): s for s in db.session.scalars(select(Supplier))}
    contacts = {(c.supplier_id, c.email.lower()): c
                for c in db.session.scalars(select(SupplierContact))}
    new = updated = 0
    fresh: set[str] = set()  # created by this run: new, not also updated
    touched: set[str] = set()
    for row in rows:
        key = row["code"].lower()
        if key not in suppliers:
            fresh.add(key)
        supplier, changed = _supplier_for(row, suppliers)
        db.session.flush()
        if changed and key not in fresh:
            touched.add(key)
        if not row["email"]:
            continue
        contact = contacts.get((supplier.id, row["email"]))
        if contact is None:
            contact = SupplierContact(supplier_id=supplier.id, email=row["email"],
                                      name=row["contact_name"], tenant_id=active_tenant_id())
            db.session.add(contact)
            contacts[(supplier.id, row["email"])] = contact
            new += 1
        values = {"name": row["contact_name"], "phone": row["phone"] or contact.phone,
                  "locale": row["contact_locale"] or contact.locale}
        if any(getattr(contact, k) != v for k, v in values.items()) and contact.id:
            updated += 1
        for name, value in values.items():
            setattr(contact, name, value)
    db.session.flush()
    return new + len(fresh), updated + len(touched)


# -- deliveries -----------------------------------------------------------------------------

def validate_deliveries(header: list, rows: Iterable[tuple[int, list]], maps: dict,
                        today: date | None = None) -> Checked:
    """Check delivery rows: a supplier of the tenant, an item it supplies, a date not in the
    future, a quantity of at least 1, each (supplier, item, date, note) once. Pure."""
    cell = cell_reader(map_header("deliveries", header))
    today = today or date.today()
    checked, seen = Checked(), {}
    for number, cells in rows:
        count_row(checked)
        before = checked.problem_count
        code, item = _text(cell(cells, "code")), _text(cell(cells, "item"))
        note = _text(cell(cells, "delivery_note"))
        supplier = maps["codes"].get(code.lower()) if code else None
        if not code:
            checked.add(number, "code", "missing")
        elif supplier is None:
            checked.add(number, "code", "unknown_supplier", code)
        if not item:
            checked.add(number, "item", "missing")
        elif not CODE.match(item):
            checked.add(number, "item", "bad_code", item)
        elif supplier is not None:
            known = maps["items"][code.lower()].get(item.upper())
            if known is None:
                checked.add(number, "item", "not_supplied", item)
            item = known or item  # as the supplier's record writes it
        received = _received(checked, number, cell(cells, "received_on"), today)
        quantity = _quantity(checked, number, cell(cells, "quantity"))
        if len(note) > 60:
            checked.add(number, "delivery_note", "too_long", note)
        key = (code.lower(), item.upper(), received, note)
        if checked.problem_count == before and key in seen:
            checked.add(number, "item", "duplicate_delivery", item, other=seen[key])
        seen.setdefault(key, number)
        if checked.problem_count == before:
            checked.rows.append({"supplier_id": supplier[0], "item_code": item,
                                 "received_on": received.isoformat(), "quantity": quantity,
                                 "delivery_note": note})
    return checked


def _received(checked: Checked, number: int, raw, today: date) -> date | None:
    if raw is None or _text(raw) == "":
        checked.add(number, "received_on", "missing")
        return None
    day = parse_date(raw)
    if day is None:
        checked.add(number, "received_on", "bad_date", raw)
    elif day > today:
        checked.add(number, "received_on", "future_date", raw)
    return day


def _quantity(checked: Checked, number: int, raw) -> int | None:
    if raw is None or _text(raw) == "":
        checked.add(number, "quantity", "missing")
        return None
    quantity = parse_quantity(raw)
    if quantity is None or quantity > MAX_DELIVERY_QUANTITY:
        checked.add(number, "quantity", "not_a_number", raw)
    elif quantity < 1:
        checked.add(number, "quantity", "not_positive", raw)
    return quantity


def upsert_deliveries(rows: list[dict]) -> tuple[int, int]:
    """Insert or update deliveries by (supplier, item, date, delivery note): the quantity of
    a known one is replaced. Returns (new, updated). Core statements; the caller commits."""
    if not rows:
        return 0, 0
    tenant_id = active_tenant_id()
    table = SupplierDelivery.__table__
    existing = set(db.session.execute(
        select(table.c.supplier_id, func.upper(table.c.item_code), table.c.received_on,
               table.c.delivery_note)
        .where(table.c.supplier_id.in_({r["supplier_id"] for r in rows}))).all())
    updated = sum(1 for r in rows if (r["supplier_id"], r["item_code"].upper(),
                                      date.fromisoformat(r["received_on"]),
                                      r["delivery_note"]) in existing)
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "supplier_id", "item_code", "received_on",
                        "delivery_note"],
        set_={"quantity": stmt.excluded.quantity, "updated_at": stmt.excluded.updated_at})
    now = utcnow()
    for start in range(0, len(rows), CHUNK):
        db.session.execute(stmt, [{**r, "received_on": date.fromisoformat(r["received_on"]),
                                   "tenant_id": tenant_id, "created_at": now,
                                   "updated_at": now} for r in rows[start:start + CHUNK]])
    return len(rows) - updated, updated
