"""The dashboard's sections: each figure with its chart, its table rows, a caption saying what
it counts, and for each row the queue arguments listing exactly those complaints. Used by the
page (internal/analytics.py) and by the meeting pack (page, PDF, xlsx)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..models import STATUSES, Tenant
from . import charts, loop, loop_rollup, money, pareto
from .counts import Counts
from .labels import CLOCK_LABELS, DIMENSION_LABELS, Names
from .loop_rollup import LoopFigures
from .period import Slice
from .sql import tune_for_aggregates

# Every status but "rejected": what the figures count (a rejection is not a product problem).
COUNTED_STATUSES = [s for s in STATUSES if s != "rejected"]
Link = Callable[[dict], str]
TABLE_ROWS = 15  # rows of a Pareto or recurrence table (the rest are counted, not listed)


@dataclass
class Section:
    key: str
    title: str
    caption: str
    chart: object = None
    rows: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def _permille(value: float | None) -> float | None:
    return None if value is None else value * 1000


def pareto_section(s: Slice, dimension: str, measure: str, names: Names, link: Link,
                   counts: Counts | None = None) -> Section:
    rows = pareto.pareto(s, dimension, measure, counts)
    column = pareto.DIMENSIONS[dimension][1]
    label = str(DIMENSION_LABELS[dimension])
    label = label[:1].lower() + label[1:]
    for row in rows[:TABLE_ROWS]:  # the rows the table shows (the chart shows fewer)
        row.label = names(dimension, row.key)
        row.queue = None if row.key is None else link(
            s.queue_args(status=COUNTED_STATUSES, **{column: row.key}))
    shown = rows[:pareto.TOP]
    value = (lambda r: r.complaints) if measure == "complaints" else (lambda r: r.defects)
    what = _("Complaints") if measure == "complaints" else _("Defective units")
    chart = charts.render(charts.Chart(
        title=_("%(what)s by %(dimension)s", what=what, dimension=label),
        labels=[r.label for r in shown],
        bars=[charts.Series(what, [value(r) for r in shown], charts.BLUE,
                            links=[r.queue for r in shown])],
        share_line=charts.Series(_("Cumulative share"), [r.cumulative for r in shown],
                                 charts.ORANGE)))
    caption = _("%(what)s received %(start)s – %(end)s (not rejected), by %(dimension)s, "
                "largest first; the line is the cumulative share of all of them.",
                what=what, start=s.start.isoformat(), end=s.last.isoformat(), dimension=label)
    return Section(f"pareto-{dimension}", str(DIMENSION_LABELS[dimension]), caption, chart, rows)


def ratio_section(s: Slice, tenant: Tenant, names: Names, link: Link,
                  counts: Counts | None = None) -> Section:
    exception = float(tenant.setting("defect_ratio_exception"))
    special = float(tenant.setting("defect_ratio_special"))
    models = pareto.ratio_by_model(s, names.locale, counts=counts)
    ratio_text, warning_text = _ratio_texts(), _warning_texts()
    for model in models:
        for point in model.points:
            since, before = s.month_bounds(point.month)
            point.queue = link(s.queue_args(since, before, status=COUNTED_STATUSES,
                                            product=model.product_id))
        model.chart = charts.render(charts.Chart(
            title=_("Defect ratio of %(model)s by month (‰ of units shipped)", model=model.code),
            labels=s.months, unit="‰",
            lines=[charts.Series(model.code, [_permille(p.ratio) for p in model.points],
                                 charts.BLUE, links=[p.queue for p in model.points],
                                 texts=[ratio_text(p) for p in model.points])],
            limits=charts.Series(_("Upper control limit"),
                                 [_permille(p.ucl) for p in model.points], "#57606a"),
            references=[charts.Reference(_("%(value)s‰ exception", value=_num(exception * 1000)),
                                         exception * 1000, charts.ORANGE),
                        charts.Reference(_("%(value)s‰ special", value=_num(special * 1000)),
                                         special * 1000, charts.VERMILLION, "8 3 2 3")]))
        model.warning_texts = [warning_text(w) for w in model.warnings]
    caption = _("Defective units reported in each month over the units of that model shipped "
                "in the same month, in ‰ (no shipments: unknown, not zero). Dashed lines: the "
                "exception (%(exception)s‰) and special-report (%(special)s‰) thresholds, and "
                "the p-chart's upper control limit.",
                exception=_num(exception * 1000), special=_num(special * 1000))
    return Section("ratio", _("Defect ratio by model"), caption, None, models,
                   {"exception": exception, "special": special})


def _num(value: float) -> str:
    return f"{value:g}"


def _ratio_texts() -> Callable:
    """A point's tooltip; the two phrases translated once for the page's 72 points."""
    unknown = _("%(month)s: %(defects)s defective, nothing shipped (ratio unknown)")
    known = _("%(month)s: %(defects)s defective of %(shipped)s shipped = %(ratio)s‰")

    def text(point) -> str:
        if point.ratio is None:
            return unknown % {"month": point.month, "defects": point.defects}
        return known % {"month": point.month, "defects": point.defects,
                        "shipped": point.shipped, "ratio": f"{point.ratio * 1000:.2f}"}
    return text


def _warning_texts() -> Callable:
    """A warning's words; the two phrases translated once for the page."""
    outside = _("%(month)s: above the upper control limit")
    rising = _("%(month)s: the third rise in a row")

    def text(code: str) -> str:
        kind, month = code.split(":", 1)
        return (outside if kind == "outside" else rising) % {"month": month}
    return text


def flow_section(s: Slice, link: Link, counts: Counts | None = None) -> Section:
    rows = loop.flow_by_month(s, counts)
    for row in rows:
        since, before = s.month_bounds(row["month"])
        row["queue"] = link(s.queue_args(since, before, status=COUNTED_STATUSES))
    chart = charts.render(charts.Chart(
        title=_("Complaints received and closed by month"), labels=[r["month"] for r in rows],
        bars=[charts.Series(_("Received"), [r["received"] for r in rows], charts.BLUE,
                            links=[r["queue"] for r in rows]),
              charts.Series(_("Closed"), [r["closed"] for r in rows], charts.GREEN)]))
    caption = _("Complaints received in each month (not rejected), and complaints closed in "
                "each month whatever month they came in.")
    return Section("flow", _("Received and closed"), caption, chart, rows)


def age_section(s: Slice, link: Link) -> Section:
    rows = loop.open_by_age(s)
    for row in rows:
        args = {**s.queue_args(row["since"], row["before"]), "view": "open"}
        if row["since"] is None:
            args.pop("created_since")
        row["queue"] = link(args)
    chart = charts.render(charts.Chart(
        title=_("Open complaints by age"), labels=[str(r["label"]) for r in rows],
        bars=[charts.Series(_("Open"), [r["count"] for r in rows], charts.VERMILLION,
                            links=[r["queue"] for r in rows])]))
    caption = _("Complaints open now, by days since they were received (the period does not "
                "apply; the other filters do).")
    return Section("age", _("Open by age"), caption, chart, rows)


def clock_section(s: Slice, names: Names, link: Link,
                  figures: LoopFigures | None = None) -> Section:
    rows = figures.clocks() if figures else loop.clock_performance(s)
    totals: dict[str, list[int]] = {}
    labels = {k: str(v) for k, v in CLOCK_LABELS.items()}
    for row in rows:
        row.label = labels.get(row.kind, row.kind)
        row.department = names("department", row.department_id)
        row.queue = link(s.queue_args(status=COUNTED_STATUSES, department=row.department_id))
        done = totals.setdefault(row.kind, [0, 0])
        done[0] += row.on_time
        done[1] += row.late
    kinds = [k for k in loop.CLOCK_KINDS if k in totals]
    chart = charts.render(charts.Chart(
        title=_("On-time rate by clock"), labels=[labels[k] for k in kinds], unit="%",
        bars=[charts.Series(_("On time"), [100 * totals[k][0] / sum(totals[k])
                                           if sum(totals[k]) else None for k in kinds],
                            charts.GREEN)],
        references=[charts.Reference(_("Target"), 95, charts.VERMILLION)]))
    caption = _("Deadline clocks of the complaints received in the period: met (stopped by the "
                "due time) over met and late (stopped after it, or still running past it); the "
                "median is the time taken by stopped clocks, less time waiting on the customer.")
    return Section("clocks", _("Deadlines by department"), caption, chart, rows)


def rates_section(s: Slice, names: Names, link: Link,
                  stored: LoopFigures | None = None) -> Section:
    figures = stored.rates() if stored else loop.rates(s)
    recurring = stored.recurrences() if stored else loop.recurrences(s)
    for row in recurring[:TABLE_ROWS]:
        row["label"] = f'{names("product", row["product"])} · {names("mode", row["mode"])}'
        row["queue"] = link(s.queue_args(status=COUNTED_STATUSES, product=row["product"],
                                         mode=row["mode"]))
    caption = _("Reopen rate: complaints of the period reopened after closing, over those "
                "closed at least once. Dispute rate: complaints the customer disputed, over "
                "those answered or disputed. Recurrences: complaints whose model and failure "
                "mode an earlier, already closed complaint had.")
    return Section("rates", _("Reopened, disputed, recurring"), caption, None, recurring,
                   figures)


def cost_section(s: Slice, names: Names, link: Link,
                 stored: LoopFigures | None = None) -> Section:
    from ..complaints.vocabulary import COST_LABELS

    figures = stored.costs() if stored else money.costs(s)
    by_category = [{"key": k, "label": str(COST_LABELS[k]) if k in COST_LABELS else k,
                    "amount": v} for k, v in figures["by_category"]]
    by_department = [{"key": k, "label": names("department", k), "amount": v,
                      "queue": link(s.queue_args(status=COUNTED_STATUSES, department=k))
                      if k else None} for k, v in figures["by_department"]]
    by_supplier = [{"key": k, "label": names("supplier", k), "amount": v,
                    "queue": link(_charged_back(s, k))} for k, v in figures["by_supplier"]]
    by_month = [{"month": k, "amount": v} for k, v in figures["by_month"]]
    chart = charts.render(charts.Chart(
        title=_("Cost of poor quality by month (CNY)"), labels=[r["month"] for r in by_month],
        bars=[charts.Series(_("Cost"), [float(r["amount"]) for r in by_month], charts.PURPLE)]))
    category_chart = charts.render(charts.Chart(
        title=_("Cost of poor quality by category (CNY)"),
        labels=[r["label"] for r in by_category],
        bars=[charts.Series(_("Cost"), [float(r["amount"]) for r in by_category],
                            charts.PURPLE)]))
    caption = _("Cost entries recorded in the period, in CNY (other currencies are not "
                "converted and not counted), by category, by the department the entry charges, "
                "by the supplier it was charged back to, and by month.")
    return Section("costs", _("Cost of poor quality"), caption, chart, by_month,
                   {"by_category": by_category, "by_department": by_department,
                    "by_supplier": by_supplier,
                    "total": figures["total"], "category_chart": category_chart})


def _charged_back(s: Slice, supplier: int) -> dict:
    """Queue arguments: the complaints with a cost charged back to ``supplier``, whenever they
    came in (the cost is of the period, the complaint may be older)."""
    args = {**s.queue_args(), "supplier": supplier}
    del args["created_since"], args["created_before"]
    return args


def satisfaction_section(s: Slice, tenant: Tenant, stored: LoopFigures | None = None) -> Section:
    low_score = float(tenant.setting("survey_low_score"))
    figures = money.satisfaction(s, low_score, stored.satisfaction() if stored else None)
    rows = figures["by_month"]
    styles = [(_("Total"), "total", charts.BLUE, "", "circle"),
              (_("Overall"), "overall", charts.ORANGE, "6 3", "square"),
              (_("Our service"), "service", charts.GREEN, "2 3", "diamond"),
              (_("Product quality"), "quality", charts.VERMILLION, "8 3 2 3", "triangle")]
    chart = charts.render(charts.Chart(
        title=_("Satisfaction by month (0–100)"), labels=[r["month"] for r in rows],
        lines=[charts.Series(name, [r[key] for r in rows], colour, dash=dash, marker=marker)
               for name, key, colour, dash, marker in styles],
        references=[charts.Reference(_("Low score"), low_score, charts.VERMILLION)]))
    caption = _("Average scores of the surveys answered in each month (total and by module); "
                "low scores are those under %(low)s, with their follow-up action.",
                low=_num(low_score))
    return Section("satisfaction", _("Satisfaction"), caption, chart, rows,
                   {"low": figures["low"], "low_score": low_score})


def build(s: Slice, tenant: Tenant, measure: str, link: Link) -> dict:
    """Every section of the dashboard for the slice, in page order."""
    tune_for_aggregates()
    names = Names()
    counts = Counts(s)  # one statement for the Pareto, ratio and flow charts
    # the rollup's whole months and the other days counted now (SQLite: loop.py, money.py)
    stored = loop_rollup.LoopFigures(s) if loop_rollup.usable(s) else None
    return {
        "computed_at": stored.computed_at if stored else None,
        "pareto": [pareto_section(s, d, measure, names, link, counts) for d in pareto.DIMENSIONS],
        "ratio": ratio_section(s, tenant, names, link, counts),
        "flow": flow_section(s, link, counts),
        "age": age_section(s, link),
        "clocks": clock_section(s, names, link, stored),
        "rates": rates_section(s, names, link, stored),
        "costs": cost_section(s, names, link, stored),
        "satisfaction": satisfaction_section(s, tenant, stored),
    }
