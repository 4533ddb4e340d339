"""The complaint page: the panels composed, in order. A deferred panel (8D, costs, timeline)
is a placeholder that htmx fills when it is opened or scrolled into view
(``GET …/panels/<name>``); without JavaScript, ``?panel=<name>`` draws it in full."""

from __future__ import annotations

from http import HTTPStatus

from flask import abort, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from portal.complaints.permissions import may
from portal.complaints.vocabulary import STAFF_STATE_LABELS
from portal.web import is_htmx, render

from .. import blueprint
from ..forms import SEVERITY_LABELS
from .base import PANELS, Case, load, load_page, panel_context, render_panel
from .fields import text

MAIN = ("steps", "intake", "photos", "verification", "classification", "containment",
        "requests", "returns", "actions", "eight_d", "effectiveness", "answer", "costs")
SIDE = ("clocks", "timeline")


@blueprint.app_template_global("may")
def _may(ability: str, complaint=None) -> bool:
    return may(current_user, ability, complaint)


@blueprint.app_template_global("draw_field")
def draw_field(f, hint=None, autocomplete=None):
    """A panel's field with its label, hint and errors (fields.FieldView.html)."""
    return f.html(hint, autocomplete)


@blueprint.app_template_global("form_start")
def form_start(url: str, multipart: bool = False, **attrs) -> Markup:
    """A panel's <form> opened for htmx (its answer replaces the panel) and for plain
    posting, with the CSRF token; the template closes it."""
    css = f' class="{escape(attrs["class"])}"' if attrs.get("class") else ""
    enctype = ' enctype="multipart/form-data"' if multipart else ""
    return Markup(f'<form method="post" action="{escape(url)}" hx-post="{escape(url)}"'
                  f'{enctype}{css}>\n<input type="hidden" name="csrf_token" '
                  f'value="{escape(generate_csrf())}">')


@blueprint.app_template_global("panel_start")
def panel_start(name: str, p: dict) -> Markup:
    """A panel's root element (htmx swaps it with the answer to a form inside), with the
    message of the step just done or the reason it was refused."""
    out = f'<div class="panel" id="panel-{name}" hx-target="this" hx-swap="outerHTML">\n'
    if p.get("notice"):
        out += f'<p class="flash flash-success" role="status">{escape(p["notice"])}</p>\n'
    if p.get("error"):
        out += f'<div class="form-errors" role="alert">{escape(p["error"])}</div>\n'
    return Markup(out)


@blueprint.app_template_global("deferred_panel")
def deferred_panel(panel, case: Case) -> Markup:
    """The placeholder of a panel drawn later: htmx fetches it when it is opened (a
    disclosure) or scrolled into view; without JavaScript its link draws the page with it."""
    name = escape(panel.name)
    url = case.url("internal.panel", name=panel.name)
    full = case.url("internal.complaint", panel=panel.name) + panel.anchor
    title = escape(text(case.panel_titles[panel.name], case.locale))
    show_label = escape(gettext("Show"))
    swap = f'hx-get="{url}" hx-target="#panel-{name}" hx-swap="outerHTML"'
    if panel.deferred == "revealed":
        body = (f"<h2>{title}</h2>\n<p {swap} hx-trigger=\"intersect once\">"
                f'<a href="{full}">{show_label}</a></p>')
    else:
        body = (f'<details {swap} hx-trigger="toggle once"><summary><h2>{title}</h2></summary>'
                f'\n<p><a href="{full}">{show_label}</a></p></details>')
    return Markup(f'<div class="panel panel-deferred" id="panel-{name}">\n'
                  f'<section class="card" id="{escape(panel.anchor[1:])}">\n{body}\n'
                  "</section>\n</div>\n")


@blueprint.app_template_global("folded_form")
def folded_form(case: Case, panel: str, key: str, summary) -> Markup:
    """A form folded away and not drawn: unfolding it asks htmx for the panel with the form
    open (``?open=<key>``) and swaps in only the form (``#fold-<key>``: what was typed
    elsewhere in the panel stays); without JavaScript the link draws the page with it."""
    url = case.url("internal.panel", name=panel) + f"?open={escape(key)}"
    full = case.url("internal.complaint", open=key) + PANELS[panel].anchor
    return Markup(
        f'<details class="subform" id="fold-{escape(key)}" hx-get="{url}" '
        f'hx-trigger="toggle once" hx-target="this" hx-select="#fold-{escape(key)}" '
        f'hx-swap="outerHTML"><summary>{escape(summary)}'
        f'</summary>\n<p><a href="{full}">{escape(gettext("Show"))}</a></p></details>')


def _drawn(case: Case, names, forms: dict, expand: set[str]) -> list[tuple]:
    """(panel, context) for each panel that shows; a deferred one not asked for has no
    context (its placeholder is drawn)."""
    drawn = []
    for name in names:
        found = PANELS[name]
        if found.deferred and name not in expand:
            if _placeholder_shows(case, name):
                drawn.append((found, None))
            continue
        context = panel_context(case, name, forms)
        if context is not None:
            drawn.append((found, context))
    return drawn


def _placeholder_shows(case: Case, name: str) -> bool:
    if name == "eight_d":
        return case.has_report or case.may("eight_d")
    return True


def show(case: Case, status: HTTPStatus = HTTPStatus.OK, /, error=None,
         forms: dict | None = None, expand: str | None = None):
    """The whole page; ``expand`` names a deferred panel to draw in full."""
    asked = request.args.get("panel", "")
    expand_set = {n for n in (expand, asked) if n in PANELS}
    forms = forms or {}
    return render("internal/complaint/page.html", None, status,
                  case=case, complaint=case.complaint, error=error,
                  main=_drawn(case, MAIN, forms, expand_set),
                  side=_drawn(case, SIDE, forms, expand_set),
                  labels=STAFF_STATE_LABELS, severities=SEVERITY_LABELS)


@blueprint.get("/complaints/<int:complaint_id>")
def complaint(complaint_id: int):
    return show(load_page(complaint_id))


@blueprint.get("/complaints/<int:complaint_id>/panels/<name>")
def panel(complaint_id: int, name: str):
    """One panel on its own (htmx); without JavaScript, the page with it drawn in full."""
    if name not in PANELS:
        abort(404)
    case = Case(load(complaint_id))
    if not is_htmx():
        return redirect(url_for("internal.complaint", complaint_id=complaint_id, panel=name)
                        + PANELS[name].anchor, code=303)
    return render_panel(case, name)
