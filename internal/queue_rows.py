"""The queue's rows as HTML, drawn in Python: 25 rows of about twenty escaped values each were
half of the page's rendering in Jinja (an expression evaluation, an undefined check and an
escape per value). The markup is the one internal/_queue_results.html drew; the labels, the
link base and the phrases are looked up once per page, and only the values users typed are
escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from portal.web import cached_url_for

ROW = ('<tr class="queue-row">\n'
       '      <td data-label="{l_number}"><a class="row-link" href="{href}"><strong>{number}'
       '</strong></a>\n        <br><span class="muted small">{created}</span></td>\n'
       '      <td data-label="{l_complaint}"><a href="{href}">{title}</a>\n'
       '        <br><span class="muted small">{details}</span></td>\n'
       '      <td data-label="{l_customer}">{customer}</td>\n'
       '      <td data-label="{l_status}"><span class="badge badge-{status}">{status_label}'
       '</span></td>\n'
       '      <td data-label="{l_owner}">{owner}</td>\n'
       '      <td data-label="{l_left}">{badge}</td>\n'
       '    </tr>\n    ')
BADGE = '\n<span class="clock-badge clock-{css}" title="{title}">{text}</span>\n'


def rows_html(rows, labels: dict, severities: dict, badges: dict, created: dict,
              words: dict) -> Markup:
    """``words``: the column headings (number, complaint, customer, status, owner, left) and
    the word for a production exception, translated once by the caller."""
    base = cached_url_for("internal.complaint", complaint_id=0)[:-1]
    heads = {f"l_{k}": escape(words[k])
             for k in ("number", "complaint", "customer", "status", "owner", "left")}
    production = f" · {escape(words['production'])}"
    out = []
    for row in rows:
        details = [escape(row.product_code or "—")]
        if row.severity:
            details.append(f" · {escape(severities[row.severity])}")
        if row.info_class:
            details.append(f" · {escape(row.info_class)}")
        if row.source == "production":
            details.append(production)
        owner = escape(row.owner_name or "—")
        if row.department_name:
            owner = f'{owner}<br><span class="muted small">{escape(row.department_name)}</span>'
        badge = badges.get(row.id)
        out.append(ROW.format(
            href=f"{base}{row.id}", number=escape(row.number), created=escape(created[row.id]),
            title=escape(row.title), details="".join(details),
            customer=escape(row.company_name or row.reporter_company or row.reporter_name),
            status=escape(row.status), status_label=escape(labels[row.status]), owner=owner,
            badge=BADGE.format(css=escape(badge.css), title=escape(badge.title),
                               text=escape(badge.text)) if badge else "", **heads))
    return Markup("".join(out))
