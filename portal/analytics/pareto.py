"""Where complaints come from: Pareto tables by 5M1E cause, failure mode, product model,
customer and responsible department, and the defect ratio per model by month over shipments
(a p-chart with the tenant's thresholds). Every figure is one GROUP BY in SQL; cumulative
shares come from a window function. Rejected complaints (not a product problem) count nowhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import func, select

from ..models import Complaint, ProductModel, Shipment
from .counts import Counts
from .labels import Names
from .period import Slice
from .sql import month_of_date, own, rows

DIMENSIONS = {
    "cause": (Complaint.cause_category, "cause"),
    "mode": (Complaint.failure_mode_id, "mode"),
    "product": (Complaint.product_model_id, "product"),
    "customer": (Complaint.customer_company_id, "customer"),
    "department": (Complaint.responsible_department_id, "department"),
}
MEASURES = ("complaints", "defects")
TOP = 12


def complaint_filters(s: Slice) -> list:
    """The complaints a slice counts: received in the period, not rejected, filtered."""
    where = [Complaint.created_at >= s.since, Complaint.created_at < s.before,
             Complaint.status != "rejected"]
    where.extend(slicing_filters(s))
    return where


def slicing_filters(s: Slice) -> list:
    where = []
    if s.product:
        where.append(Complaint.product_model_id == s.product)
    if s.customer:
        where.append(Complaint.customer_company_id == s.customer)
    if s.source:
        where.append(Complaint.source == s.source)
    if s.line:
        where.append(Complaint.product_model_id.in_(
            select(ProductModel.id).where(*own(ProductModel),
                                          ProductModel.product_line == s.line)))
    return where


@dataclass
class ParetoRow:
    key: object
    complaints: int
    defects: int
    cumulative: float  # share of the measure, this row and the ones before it
    label: str = ""
    queue: dict | None = None


def pareto(s: Slice, dimension: str, measure: str = "complaints",
           counts: Counts | None = None) -> list[ParetoRow]:
    """Rows by ``dimension`` ordered by ``measure`` (largest first), with cumulative shares.
    An unclassified group (no cause, no model…) is a row of its own with key None. From the
    rollup (``counts``: the page reads it once for every chart)."""
    found = (counts or Counts(s)).by(dimension)
    index = 0 if measure == "complaints" else 1
    groups = sorted(((k, v) for k, v in found.items() if v[0] > 0),
                    key=lambda kv: (-kv[1][index], kv[0] is None, kv[0] or 0))
    total = sum(v[index] for _, v in groups)
    rows, running = [], 0
    for key, (n, q, _closed) in groups:
        running += n if index == 0 else q
        rows.append(ParetoRow(key=key, complaints=n, defects=q,
                              cumulative=running / total if total else 0.0))
    return rows


# -- defect ratio per model by month ----------------------------------------------------------

@dataclass
class RatioPoint:
    month: str
    defects: int
    shipped: int
    ratio: float | None  # None: nothing shipped that month, the ratio is unknown (not zero)
    ucl: float | None = None
    lcl: float | None = None
    outside: bool = False
    rising: bool = False


@dataclass
class ModelRatio:
    product_id: int
    code: str
    name: str
    points: list[RatioPoint]
    centre: float | None  # p-bar over the window (None: nothing shipped at all)
    defects: int = 0
    shipped: int = 0
    warnings: list[str] = field(default_factory=list)


def ratio_by_model(s: Slice, locale: str, models: int = 6,
                   counts: Counts | None = None) -> list[ModelRatio]:
    """The ``models`` models with most defective units in the period, each with its monthly
    defect ratio over the quantity shipped that month, its p-chart limits and warnings."""
    totals: dict[int, int] = {}
    defects: dict[tuple[int, str], int] = {}
    for (product_id, key), (n, quantity, _closed) in (counts or Counts(s)).by(
            "product-month").items():
        if product_id is None or n == 0:
            continue
        defects[(product_id, key)] = quantity
        totals[product_id] = totals.get(product_id, 0) + quantity
    chosen = [p for p, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))][:models]
    if s.product and s.product not in chosen:
        chosen = [s.product]
    if not chosen:
        return []
    shipped_month = month_of_date(Shipment.shipped_on)
    shipment_where = [*own(Shipment), Shipment.product_model_id.in_(chosen),
                      Shipment.shipped_on >= s.start,
                      Shipment.shipped_on < s.end]
    if s.customer:
        shipment_where.append(Shipment.customer_company_id == s.customer)
    shipped = {(p, k): int(q or 0) for p, k, q in rows(
        select(Shipment.product_model_id, shipped_month, func.sum(Shipment.quantity))
        .where(*shipment_where).group_by(Shipment.product_model_id, shipped_month))}
    names = Names(locale)  # codes and names from the per-process reference cache
    codes, titles = names.table("product"), names.table("product_name")
    result = []
    for product_id in chosen:
        if product_id not in codes:  # another tenant's id in the URL: nothing to show
            continue
        points = [RatioPoint(month=k, defects=defects.get((product_id, k), 0),
                             shipped=shipped.get((product_id, k), 0), ratio=None)
                  for k in s.months]
        result.append(_control(ModelRatio(product_id=product_id, code=codes[product_id],
                                          name=titles.get(product_id, ""), points=points,
                                          centre=None)))
    return result


def _control(model: ModelRatio) -> ModelRatio:
    """p-chart: centre p̄ = Σ defects / Σ shipped over months with shipments; limits
    p̄ ± 3·√(p̄(1−p̄)/nᵢ) per month. Warns on a point above its upper limit and on a ratio
    rising three periods running (four known months, each above the one before)."""
    known = [p for p in model.points if p.shipped > 0]
    model.defects = sum(p.defects for p in model.points)
    model.shipped = sum(p.shipped for p in known)
    if not known:
        return model
    centre = sum(p.defects for p in known) / model.shipped
    model.centre = centre
    for p in known:
        p.ratio = p.defects / p.shipped
        sigma = math.sqrt(centre * (1 - centre) / p.shipped) if 0 < centre < 1 else 0.0
        p.ucl, p.lcl = centre + 3 * sigma, max(0.0, centre - 3 * sigma)
        p.outside = p.ratio > p.ucl + 1e-12
    run = 0
    for previous, current in zip(model.points, model.points[1:], strict=False):
        rose = previous.ratio is not None and current.ratio is not None \
            and current.ratio > previous.ratio
        run = run + 1 if rose else 0
        current.rising = run >= 3
    model.warnings = [f"outside:{p.month}" for p in model.points if p.outside] + \
                     [f"rising:{p.month}" for p in model.points if p.rising]
    return model
