"""The data tables behind the analytics charts, drawn in Python: some 2,500 cells a dashboard,
each an expression evaluation, an undefined check and an escape in Jinja, were a large share
of the page's CPU. The markup is the one internal/templates/internal/analytics/_macros.html
and dashboard.html drew; the headings are translated once per table, numbers need no escape,
only names (departments, customers, models…) are escaped, and the queue links come escaped
already (``QueueLinks`` joins its arguments with ``&amp;``). The templates call these through
the globals registered at the end."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from portal.i18n import datetime_formatter
from portal.web import cached_url_for

from . import blueprint

WRAP = '<div class="table-wrap"><table class="table figures-table">'
END = "</tbody></table></div>"
NUM = '<td class="num">'


_ONCE: dict = {}


def _once(name: str, build):
    """``build()`` (headings, phrases) once per process and language: the catalogs do not
    change while a process runs, and a page draws the same headings up to six times."""
    key = (name, str(get_locale()))
    found = _ONCE.get(key)
    if found is None:
        found = _ONCE[key] = build()
    return found


def pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def money(value) -> str:
    return f"{float(value):,.2f}"


def hours(value) -> str:
    return "—" if value is None else f"{value:.1f} h"


def _head(*columns) -> str:
    """``columns``: (text, numeric); the text is escaped here."""
    cells = "".join(f'<th scope="col" class="num">{escape(t)}</th>' if numeric
                    else f'<th scope="col">{escape(t)}</th>' for t, numeric in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def _link(href, text) -> str:
    return f'<a href="{escape(href)}">{text}</a>' if href else str(text)


def _muted(text: str) -> str:  # (gettext outside f-strings: pybabel does not read them)
    return f'<span class="muted">{escape(text)}</span>'


def _strong(text: str) -> str:
    return f"<strong>{escape(text)}</strong>"


def _empty(columns: int, text: str) -> str:
    return f'<tr><td colspan="{columns}" class="muted">{escape(text)}</td></tr>'


@blueprint.app_template_global("pareto_table")
def pareto_table(section, measure=None, limit: int = 15) -> Markup:
    title = escape(section.title)
    numbers = _once("pareto", lambda: _head((_("Complaints"), True), (_("Defective units"), True),
                                            (_("Cumulative share"), True))[len("<thead><tr>"):])
    out = [WRAP, f'\n  <caption class="visually-hidden">{title}</caption>\n  ',
           f'<thead><tr><th scope="col">{title}</th>{numbers}', "\n  <tbody>"]
    for r in section.rows[:limit]:
        out.append(f'<tr><th scope="row">{_link(r.queue, escape(r.label))}</th>'
                   f'{NUM}{r.complaints}</td>{NUM}{r.defects}</td>{NUM}{pct(r.cumulative)}</td>'
                   "</tr>\n")
    if not section.rows:
        out.append(_empty(4, _("Nothing in this period.")))
    if len(section.rows) > limit:
        out.append(_empty(4, _("%(n)s more rows not shown.", n=len(section.rows) - limit)))
    out.append(END)
    return Markup("".join(out))


@blueprint.app_template_global("ratio_table")
def ratio_table(model) -> Markup:
    unknown, head = _once("ratio", lambda: (
        _muted(_("unknown")),
        _head((_("Month"), False), (_("Defective units"), True), (_("Units shipped"), True),
              (_("Defect ratio"), True), (_("Upper control limit"), True))))
    out = [WRAP, head, "<tbody>"]
    for p in model.points:
        warn = ' class="warn"' if p.outside or p.rising else ""
        ratio = unknown if p.ratio is None else f"{p.ratio * 1000:.2f}‰"
        ucl = "—" if p.ucl is None else f"{p.ucl * 1000:.2f}‰"
        out.append(f'<tr{warn}><th scope="row">{_link(p.queue, p.month)}</th>'
                   f"{NUM}{p.defects}</td>{NUM}{p.shipped}</td>{NUM}{ratio}</td>"
                   f"{NUM}{ucl}</td></tr>\n")
    out.append(END)
    return Markup("".join(out))


@blueprint.app_template_global("clock_table")
def clock_table(rows, link: bool = True) -> Markup:
    head = _once("clocks", lambda: _head(
        (_("Clock"), False), (_("Department"), False), (_("On time"), True), (_("Late"), True),
        (_("Running"), True), (_("On-time rate"), True), (_("Median time"), True)))
    out = [WRAP, head, "<tbody>"]
    labels: dict = {}
    for r in rows:
        label = labels.get(r.label)
        if label is None:
            label = labels[r.label] = escape(r.label)
        department = escape(r.department)
        if link and r.department_id:
            department = _link(r.queue, department)
        out.append(f'<tr><th scope="row">{label}</th><td>{department}</td>'
                   f"{NUM}{r.on_time}</td>{NUM}{r.late}</td>{NUM}{r.running}</td>"
                   f"{NUM}{pct(r.rate)}</td>{NUM}{hours(r.median_hours)}</td></tr>\n")
    if not rows:
        out.append(_empty(7, _("Nothing in this period.")))
    out.append(END)
    return Markup("".join(out))


@blueprint.app_template_global("figures_table")
def figures_table(head, rows: list, empty: str = "", columns: int = 2) -> Markup:
    """A plain table: ``head`` its <thead> (from ``_head``) or (text, numeric) per column; each
    row a list of cells, the first a row heading, each cell (html, numeric) with its html
    already escaped."""
    if not isinstance(head, str):
        columns, head = len(head), _head(*head)
    out = [WRAP, head, "<tbody>"]
    for row in rows:
        (first, _numeric), *rest = row
        cells = "".join(f"{NUM}{html}</td>" if numeric else f"<td>{html}</td>"
                        for html, numeric in rest)
        out.append(f'<tr><th scope="row">{first}</th>{cells}</tr>\n')
    if not rows and empty:
        out.append(_empty(columns, empty))
    out.append(END)
    return Markup("".join(out))


@blueprint.app_template_global("analytics_tables")
def dashboard_tables(sections: dict) -> dict:
    """The dashboard's tables other than the Pareto, ratio and clock tables, by name."""
    flow, age, rates = sections["flow"], sections["age"], sections["rates"]
    costs, sat = sections["costs"], sections["satisfaction"]
    heads = _once("dashboard", _dashboard_heads)
    nothing = heads["nothing"]
    return {
        "flow": figures_table(
            heads["flow"],
            [[(_link(r["queue"], r["month"]), False), (r["received"], True),
              (r["closed"], True)] for r in flow.rows]),
        "age": figures_table(
            heads["age"],
            [[(_link(r["queue"], escape(r["label"])), False), (r["count"], True)]
             for r in age.rows]),
        "recurrences": figures_table(
            heads["recurrences"],
            [[(_link(r["queue"], escape(r["label"])), False), (r["count"], True)]
             for r in rates.rows[:15]], heads["no_recurrence"]),
        "cost_month": figures_table(
            heads["cost_month"],
            [[(r["month"], False), (money(r["amount"]), True)] for r in costs.rows]),
        "cost_category": figures_table(
            heads["cost_category"],
            [[(escape(r["label"]), False), (money(r["amount"]), True)]
             for r in costs.extra["by_category"]], nothing),
        "cost_department": figures_table(
            heads["cost_department"],
            [[(_link(r["queue"], escape(r["label"])), False), (money(r["amount"]), True)]
             for r in costs.extra["by_department"]], nothing),
        "cost_supplier": figures_table(
            heads["cost_supplier"],
            [[(_link(r["queue"], escape(r["label"])), False), (money(r["amount"]), True)]
             for r in costs.extra["by_supplier"]], heads["no_supplier"]),
        "satisfaction": figures_table(
            heads["satisfaction"],
            [[(r["month"], False), (r["answers"], True)]
             + [("—" if r[k] is None else f"{r[k]:.1f}", True)
                for k in ("total", "overall", "service", "quality")] for r in sat.rows]),
        "low": low_scores(sat.extra["low"]),
    }


def _dashboard_heads() -> dict:
    cny = ("CNY", True)
    return {
        "nothing": _("Nothing in this period."),
        "flow": _head((_("Month"), False), (_("Received"), True), (_("Closed"), True)),
        "age": _head((_("Age"), False), (_("Open"), True)),
        "recurrences": _head((_("Model and failure mode"), False), (_("Recurrences"), True)),
        "no_recurrence": _("No recurrence in this period."),
        "cost_month": _head((_("Month"), False), cny),
        "cost_category": _head((_("Category"), False), cny),
        "cost_department": _head((_("Department"), False), cny),
        "cost_supplier": _head((_("Supplier (charged back)"), False), cny),
        "no_supplier": _("Nothing charged back to a supplier in this period."),
        "satisfaction": _head((_("Month"), False), (_("Answers"), True), (_("Total"), True),
                              (_("Overall"), True), (_("Our service"), True),
                              (_("Product quality"), True)),
    }


def low_scores(rows) -> Markup:
    """The lowest survey scores with their complaint and follow-up."""
    answered = datetime_formatter("short")
    base = cached_url_for("internal.complaint", complaint_id=0)[:-1]
    survey, done, still_open, head, empty = _once("low", lambda: (
        _muted(_("Yearly survey")), escape(_("done")), _strong(_("open")),
        _head((_("Answered"), False), (_("Complaint"), False), (_("Total"), True),
              (_("Follow-up"), False)), _("No low score in this period.")))
    out = [WRAP, head, "<tbody>"]
    for r in rows:
        complaint = (f'<a href="{base}{r.complaint_id}">{escape(r.number)}</a>'
                     if r.complaint_id else survey)
        follow = (f"{escape(r.title)} · {done if r.done_at else still_open}" if r.title
                  else "—")
        out.append(f"<tr><td>{escape(answered(r.answered_at))}</td><td>{complaint}</td>"
                   f"{NUM}{r.total_score}</td><td>{follow}</td></tr>\n")
    if not rows:
        out.append(_empty(4, empty))
    out.append(END)
    return Markup("".join(out))
