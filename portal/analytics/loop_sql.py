"""The loop figures' statements in one place, in the shape of the loop rollup's rows
(``analytics_loop_monthly``: local month, source, figure, key1, key2, hours bucket, n1–n4, x).

``groups(live=False)`` is what the job writes for a whole tenant (portal/analytics/
loop_rollup.py ``refresh``). ``groups(live=True, ...)`` is the same figures counted now for the
days a rollup cannot answer — the edges of a range that does not start or end on a month's
first day, or every day of a view filtered by model, product line or customer — with the same
rules, so the two add up: a complaint's reopen/dispute events and its model + failure mode's
first closing are looked up per complaint through their indexes (``ix_timeline_events_loop``,
``ix_complaints_recurrence``) instead of grouped for the whole tenant, which suits a few
thousand complaints rather than two hundred thousand. Figures read from the same rows (met,
late and running clocks and their hours; recurrences by model and mode and by department)
come from one common table expression, scanned once.
"""

from __future__ import annotations

MONTH = "date_trunc('month', timezone(:zone, {}))::date"
HOURS = ("extract(epoch from dc.stopped_at - dc.started_at) / 3600.0 "
         "- dc.paused_minutes / 60.0")
# the hours bucket of ``hh.h`` (a stopped clock's HOURS, computed once per clock)
BUCKET = ("CASE WHEN hh.h < 48 THEN floor(greatest(hh.h, 0) / 2) "
          "WHEN hh.h < 720 THEN 24 + floor((hh.h - 48) / 12) "
          "ELSE least(80 + floor((hh.h - 720) / 24), 9999) END")
CLOCK_KIND = "CASE WHEN dc.action_id IS NOT NULL THEN 'corrective' ELSE dc.kind END"
# every complaint the figures count: the tenant's, not rejected
COUNTED = "c.tenant_id = :t AND c.status <> 'rejected'"
EVENTS_GROUPED = (
    "LEFT JOIN (SELECT complaint_id, max(CASE WHEN kind = 'transition.reopen' THEN 1 ELSE 0 "
    "END) reopened, max(CASE WHEN kind = 'transition.dispute' THEN 1 ELSE 0 END) disputed "
    "FROM timeline_events WHERE kind IN ('transition.reopen', 'transition.dispute') "
    "GROUP BY complaint_id) e ON e.complaint_id = c.id")
EVENTS_PER_COMPLAINT = (
    "LEFT JOIN LATERAL (SELECT max(CASE WHEN kind = 'transition.reopen' THEN 1 ELSE 0 END) "
    "reopened, max(CASE WHEN kind = 'transition.dispute' THEN 1 ELSE 0 END) disputed FROM "
    "timeline_events WHERE complaint_id = c.id AND kind IN ('transition.reopen', "
    "'transition.dispute')) e ON true")
FIRST_CLOSED_GROUPED = (
    "JOIN (SELECT product_model_id AS p, failure_mode_id AS f, min(closed_at) AS first FROM "
    "complaints WHERE tenant_id = :t AND closed_at IS NOT NULL AND product_model_id IS NOT NULL "
    "AND failure_mode_id IS NOT NULL GROUP BY 1, 2) fc ON c.product_model_id = fc.p "
    "AND c.failure_mode_id = fc.f")
FIRST_CLOSED_PER_COMPLAINT = (
    "JOIN LATERAL (SELECT min(f.closed_at) AS first FROM complaints f WHERE f.tenant_id = :t "
    "AND f.product_model_id = c.product_model_id AND f.failure_mode_id = c.failure_mode_id "
    "AND f.closed_at IS NOT NULL) fc ON true")
COLUMNS = "month, source, figure, key1, key2, bucket, n1, n2, n3, n4, x"


def scope(parts: list | None = None, moment: str = "c.created_at") -> tuple[str, dict]:
    """Conditions (SQL) and parameters limiting ``moment`` to the periods of ``parts`` (slices
    with the same filters: the edges of one range) and the complaints ``c`` to their filters;
    none for None."""
    if not parts:
        return "", {}
    periods, params = [], {}
    for i, part in enumerate(parts):
        periods.append(f"{moment} >= :since{i} AND {moment} < :before{i}")
        params.update({f"since{i}": part.since, f"before{i}": part.before})
    sql = f" AND ({' OR '.join(periods)})" if len(periods) > 1 else f" AND {periods[0]}"
    s = parts[0]
    if s.source:
        sql += " AND c.source = :source"
        params["source"] = s.source
    if s.product:
        sql += " AND c.product_model_id = :product"
        params["product"] = s.product
    if s.customer:
        sql += " AND c.customer_company_id = :customer"
        params["customer"] = s.customer
    if s.line:
        sql += (" AND c.product_model_id IN (SELECT id FROM product_models WHERE tenant_id = :t "
                "AND product_line = :line)")
        params["line"] = s.line
    return sql, params


def groups(live: bool, parts: list | None = None) -> tuple[list[tuple[str, list[str]]], dict]:
    """The figures as (common table expressions, SELECTs giving rollup rows (``COLUMNS``)) per
    group of figures read from the same rows, and their parameters besides :t, :zone, :now.
    ``live``: limited to ``parts`` (periods and filters) and shaped for few complaints."""
    where, params = scope(parts)
    surveyed, _ = scope(parts, "s.answered_at")
    charged, _ = scope(parts, "e.created_at")
    events = EVENTS_PER_COMPLAINT if live else EVENTS_GROUPED
    first = FIRST_CLOSED_PER_COMPLAINT if live else FIRST_CLOSED_GROUPED
    arrived = MONTH.format("c.created_at")
    clocks = (
        f"clk AS (SELECT {arrived} AS m, c.source, {CLOCK_KIND} AS kind, "
        "coalesce(c.responsible_department_id::text, '') AS dept, dc.stopped_at, dc.due_at, "
        f"dc.paused_at, CASE WHEN dc.stopped_at IS NOT NULL THEN {BUCKET} END AS bucket "
        "FROM deadline_clocks dc JOIN complaints c ON c.id = dc.complaint_id "
        f"CROSS JOIN LATERAL (SELECT {HOURS} AS h) hh WHERE {COUNTED} AND dc.tenant_id = :t{where} AND (dc.kind IN ('first_contact', "
        "'answer', 'class_a_plan', 'containment') OR (dc.action_id IS NOT NULL AND EXISTS ("
        "SELECT 1 FROM actions a WHERE a.id = dc.action_id AND a.kind = 'corrective'))))")
    # the period's complaints that came in after their model and failure mode was first closed
    recurring = (f"rec AS (SELECT {arrived} AS m, c.source, c.product_model_id AS p, "
                 "c.failure_mode_id AS f, c.responsible_department_id AS d "
                 f"FROM complaints c {first} WHERE {COUNTED}{where} AND c.created_at > fc.first)")
    found = [
        (clocks, [
            # clocks: met / late (stopped late, or running past due) / running (bucket -1) ...
            "SELECT m, source, 'clock', kind, dept, -1, "
            "count(*) FILTER (WHERE stopped_at <= due_at), "
            "count(*) FILTER (WHERE stopped_at > due_at OR (stopped_at IS NULL "
            "AND paused_at IS NULL AND due_at < :now)), "
            "count(*) FILTER (WHERE stopped_at IS NULL AND (paused_at IS NOT NULL "
            "OR due_at >= :now)), 0, 0 FROM clk GROUP BY 1, 2, 4, 5",
            # ... and the stopped ones by hours taken, for the medians
            "SELECT m, source, 'clock_hours', kind, dept, bucket, count(*), 0, 0, 0, 0 "
            "FROM clk WHERE bucket IS NOT NULL GROUP BY 1, 2, 4, 5, 6"]),
        # rates: closed at least once, reopened, answered or disputed, disputed
        ("", [f"SELECT {arrived}, c.source, 'rates', '', '', -1, "
              "count(*) FILTER (WHERE c.closed_at IS NOT NULL OR e.reopened = 1), "
              "count(*) FILTER (WHERE e.reopened = 1), "
              "count(*) FILTER (WHERE c.answered_at IS NOT NULL OR e.disputed = 1), "
              f"count(*) FILTER (WHERE e.disputed = 1), 0 FROM complaints c {events} "
              f"WHERE {COUNTED}{where} GROUP BY 1, 2"]),
        # recurrences, by model and failure mode and by department
        (recurring, [
            "SELECT m, source, 'recur', p::text, f::text, -1, count(*), 0, 0, 0, 0 FROM rec "
            "GROUP BY 1, 2, 4, 5",
            "SELECT m, source, 'recur_dept', coalesce(d::text, ''), '', -1, count(*), 0, 0, 0, 0 "
            "FROM rec GROUP BY 1, 2, 4"]),
        # survey scores by answering month and module: count of values and their sum
        ("", [f"SELECT {MONTH.format('s.answered_at')}, coalesce(c.source, ''), "
              "'sat', m.module, '', -1, count(m.value), 0, 0, 0, coalesce(sum(m.value), 0) "
              "FROM surveys s LEFT JOIN complaints c ON c.id = s.complaint_id "
              "CROSS JOIN LATERAL (VALUES ('total', s.total_score::float), "
              "('overall', (s.answers -> 'modules' ->> 'overall')::float), "
              "('service', (s.answers -> 'modules' ->> 'service')::float), "
              "('quality', (s.answers -> 'modules' ->> 'quality')::float)) AS m (module, value) "
              "WHERE s.tenant_id = :t AND s.answered_at IS NOT NULL AND s.total_score IS NOT "
              f"NULL{surveyed} GROUP BY 1, 2, 4"]),
        ("", [_costs(charged)]),
    ]
    return found, params


def _costs(where: str) -> str:
    """Cost entries with the rules of ``money.costs()``: CNY only, corrected and voided
    entries left out (only active ones), a supplier through its charge-back; per local month,
    source and one grouping at a time."""
    from .money import CURRENCY

    return (
        f"SELECT {MONTH.format('e.created_at')}, c.source, 'cost', d.dim, d.key, -1, count(*), "
        "0, 0, 0, sum(e.amount) FROM cost_entries e JOIN complaints c ON c.id = e.complaint_id "
        "LEFT JOIN supplier_charges sc ON sc.cost_entry_id = e.id "
        "CROSS JOIN LATERAL (VALUES ('category', e.category), "
        "('department', coalesce(e.responsible_department_id::text, '')), "
        "('supplier', coalesce(sc.supplier_id::text, '')), ('month', '')) AS d (dim, key) "
        f"WHERE e.tenant_id = :t AND e.currency = '{CURRENCY}' AND e.state = 'active'{where} "
        "GROUP BY 1, 2, 4, 5")
