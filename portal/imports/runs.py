"""The operations on one ``ImportRun`` in the active tenant: start (keep the upload),
preview (parse, check, stage the good rows), apply (all or nothing upsert). They flush; the
job wrapper commits."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select, update

from ..extensions import db
from ..models import (
    Contact,
    CustomerCompany,
    ImportRun,
    ProductModel,
    Shipment,
    Supplier,
    utcnow,
)
from ..storage import get_storage, tenant_key
from ..suppliers import warranty
from ..tenancy import active_tenant_id, current_tenant
from . import suppliers as supplier_imports
from .columns import COLUMNS
from .reading import CHUNK, ImportFileError, read_table, sniff
from .validation import validate_customers, validate_shipments

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


def catalogue_maps():
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
            models, customers = catalogue_maps()
            checked = validate_shipments(
                header, rows, models=models, customers=customers,
                default_pattern=current_tenant_setting("serial_pattern"),
                progress=lambda n: _report(run.id, processed_rows=n))
        elif run.kind == "suppliers":
            checked = supplier_imports.validate_suppliers(header, rows,
                                                          supplier_imports.supplier_maps())
        elif run.kind == "deliveries":
            checked = supplier_imports.validate_deliveries(header, rows,
                                                           supplier_imports.supplier_maps())
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
    from ..models import Tenant

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
    elif run.kind == "suppliers":
        new, updated = supplier_imports.upsert_suppliers(rows)
    elif run.kind == "deliveries":
        known = set(db.session.scalars(select(Supplier.id)))
        if any(r["supplier_id"] not in known for r in rows):
            raise ImportRefused("a supplier was removed since the preview")
        new, updated = supplier_imports.upsert_deliveries(rows)
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
        set_={**{name: stmt.excluded[name] for name in (
            "quantity", "shipped_on", "customer_company_id", "serial_first", "serial_last",
            "serials", "updated_at")},
            # A row without an installation date keeps the one recorded before.
            "installed_on": func.coalesce(stmt.excluded.installed_on, table.c.installed_on)})
    now = utcnow()
    done = 0
    for start in range(0, len(rows), CHUNK):
        batch = [{**r, "shipped_on": date.fromisoformat(r["shipped_on"]),
                  "installed_on": _day(r.get("installed_on")), "tenant_id": tenant_id,
                  "created_at": now, "updated_at": now} for r in rows[start:start + CHUNK]]
        db.session.execute(stmt, batch)
        done += len(batch)
        if progress:
            progress(done)
    # Dates and terms of these models' units may have changed: their complaints' warranty.
    warranty.refresh_for_models({r["product_model_id"] for r in rows})
    return new, updated


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


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
