"""The supplier scorecard: per supplier and period (requests opened in it), how many
requests, how many answered on time, repeat defects (a part number of the supplier asked
about again within the period), the defective quantity against the quantity received from
the supplier in the period (deliveries, imported: ppm), and the costs charged back. One
supplier's page adds the same figures per part number or model and per month."""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ..complaints.costs import ACTIVE
from ..extensions import db
from ..models import (
    CostEntry,
    Supplier,
    SupplierCharge,
    SupplierDelivery,
    SupplierRequest,
    utcnow,
)
from ..spreadsheets import neutralise


@dataclass
class Score:
    supplier: Supplier
    requests: int = 0
    answered: int = 0
    on_time: int = 0
    judged: int = 0  # answered, or past their due time: what the on-time rate is out of
    repeats: int = 0
    defective: int = 0
    charged: dict = field(default_factory=lambda: defaultdict(Decimal))
    rows: list = field(default_factory=list)
    received: int = 0  # delivered by the supplier in the period; 0: not known
    # One supplier's page: per item and per month (YYYY-MM), [received, defective].
    items: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    months: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.judged if self.judged else None

    @property
    def ppm(self) -> float | None:
        return rate(self.defective, self.received)


def rate(defective: int, received: int) -> float | None:
    """Defective parts per million received; None when nothing received is known (unknown,
    never zero)."""
    return defective * 1_000_000 / received if received else None


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (datetime.combine(start, time.min, UTC),
            datetime.combine(end + timedelta(days=1), time.min, UTC))


def scores(start: date, end: date, supplier_id: int | None = None) -> list[Score]:
    low, high = period_bounds(start, end)
    now = utcnow()
    query = (select(SupplierRequest).where(SupplierRequest.created_at >= low,
                                           SupplierRequest.created_at < high)
             .order_by(SupplierRequest.created_at, SupplierRequest.id))
    suppliers = select(Supplier).order_by(Supplier.name)
    if supplier_id is not None:
        query = query.where(SupplierRequest.supplier_id == supplier_id)
        suppliers = suppliers.where(Supplier.id == supplier_id)
    result = {s.id: Score(s) for s in db.session.scalars(suppliers)}
    seen: set[tuple[int, str]] = set()
    for scar in db.session.scalars(query):
        score = result.get(scar.supplier_id)
        if score is None:
            continue
        score.requests += 1
        score.defective += scar.defective_quantity
        score.rows.append(scar)
        if scar.answered_at is not None:
            score.answered += 1
            score.on_time += scar.answered_at <= scar.due_at
        score.judged += scar.answered_at is not None or scar.due_at <= now
        part = (scar.supplier_id, scar.part_number.strip().upper())
        score.repeats += part in seen
        seen.add(part)
    charges = db.session.execute(
        select(SupplierCharge.supplier_id, CostEntry.currency, CostEntry.amount)
        .join(CostEntry, CostEntry.id == SupplierCharge.cost_entry_id)
        .join(SupplierRequest, SupplierRequest.id == SupplierCharge.request_id)
        .where(SupplierRequest.created_at >= low, SupplierRequest.created_at < high, ACTIVE))
    for sid, currency, amount in charges:
        if sid in result:
            result[sid].charged[currency] += amount
    received = db.session.execute(
        select(SupplierDelivery.supplier_id, func.sum(SupplierDelivery.quantity))
        .where(SupplierDelivery.received_on >= start, SupplierDelivery.received_on <= end)
        .group_by(SupplierDelivery.supplier_id))
    for sid, quantity in received:
        if sid in result:
            result[sid].received = int(quantity or 0)
    if supplier_id is not None and supplier_id in result:
        _breakdown(result[supplier_id], start, end)
    return list(result.values())


def _breakdown(score: Score, start: date, end: date) -> None:
    """Received and defective per item (as the supplier's record writes it, matched
    ignoring case) and per month, for one supplier's page."""
    names: dict[str, str] = {}
    for item, day, quantity in db.session.execute(
            select(SupplierDelivery.item_code, SupplierDelivery.received_on,
                   SupplierDelivery.quantity)
            .where(SupplierDelivery.supplier_id == score.supplier.id,
                   SupplierDelivery.received_on >= start, SupplierDelivery.received_on <= end)):
        item = names.setdefault(item.upper(), item)
        score.items[item][0] += quantity
        score.months[day.strftime("%Y-%m")][0] += quantity
    for scar in score.rows:
        item = names.setdefault(scar.part_number.strip().upper(), scar.part_number.strip())
        score.items[item][1] += scar.defective_quantity
        score.months[scar.created_at.strftime("%Y-%m")][1] += scar.defective_quantity


def _money(charged: dict) -> str:
    return "; ".join(f"{amount:.2f} {currency}" for currency, amount in sorted(charged.items()))


def ppm_text(ppm: float | None) -> str:
    """"1,250 ppm (1.25‰)", or "—" when unknown."""
    if ppm is None:
        return "—"
    return f"{ppm:,.0f} ppm ({ppm / 1000:.2f}‰)"


def export_xlsx(rows: list[Score], headers: list[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append([str(h) for h in headers])
    for s in rows:
        sheet.append([neutralise(v) for v in (
            s.supplier.code, s.supplier.name, s.requests, s.answered, s.on_time, s.repeats,
            s.defective, s.received or None,
            round(s.ppm, 1) if s.ppm is not None else None, _money(s.charged))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
