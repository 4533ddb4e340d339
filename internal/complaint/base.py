"""What every panel of the complaint page shares: loading the complaint, the ``Case`` (the
complaint with what several panels read, each loaded once and only when a panel asks), the
panel registry, and ``run()``, the one way a panel's POST is handled.

A panel is a module of this package with a context function registered by ``@panel(...)``
and a partial template ``internal/complaint/_<name>.html`` whose root element has the id
``panel-<name>``. A POST from a panel parses its form, calls one operation of
portal/complaints/, commits, and then: under htmx answers with the panel re-rendered (and the
case header out of band); without JavaScript flashes and redirects to the page (303). A
refused POST re-renders the panel with what was typed and the error: 422 (invalid), 409
(stale or wrong stage), 403 (not allowed); without JavaScript, the whole page with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from http import HTTPStatus
from urllib.parse import quote

from flask import abort, flash, g, make_response, redirect, render_template, url_for
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from portal import reference_cache, uow
from portal.complaints.permissions import STALE_MESSAGE, Refused, may
from portal.complaints.vocabulary import STAFF_STATE_LABELS
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    Action,
    Complaint,
    Department,
    EightDReport,
    EightDSection,
    FailureMode,
    Photo,
    Problem,
    SerialNumber,
    ServiceRequest,
    Shipment,
    StaffUser,
    TimelineEvent,
)
from portal.web import is_htmx

from ..forms import SEVERITY_LABELS, opts
from . import fields


def load(complaint_id: int, serials: bool = False, joined: bool = True) -> Complaint:
    """The complaint and the records it points at (customer, product, problem: not for a
    POST, ``joined=False``) in one statement, with ``serials`` its serial numbers, their
    shipments and models too; 404 if it is not the tenant's."""
    return _load(complaint_id, serials, joined)[0]


def _outline(complaint_id):
    """What the page needs to know of five tables, as scalar subqueries: the 8D report's id,
    its D4 content (the root cause form's 5 Whys and 5M1E), the latest checklist entry's id,
    and an action's, a request's and a photo's id if there is one."""
    report = select(EightDReport.id).where(EightDReport.complaint_id == complaint_id)
    d4 = (select(EightDSection.content)
          .join(EightDReport, EightDSection.report_id == EightDReport.id)
          .where(EightDReport.complaint_id == complaint_id, EightDSection.discipline == 4))
    checklist = (select(TimelineEvent.id)
                 .where(TimelineEvent.complaint_id == complaint_id,
                        TimelineEvent.kind == "verification.checklist")
                 .order_by(TimelineEvent.id.desc()).limit(1))
    # Whether there are any actions, requests, photos: a panel with none reads nothing.
    any_of = [select(model.id).where(model.complaint_id == complaint_id).limit(1)
              for model in (Action, ServiceRequest, Photo)]
    return tuple(q.scalar_subquery() for q in (report, d4, checklist, *any_of))


def _load(complaint_id: int, serials: bool, joined: bool, outline: bool = False) -> tuple:
    options = [joinedload(Complaint.company), joinedload(Complaint.product_model),
               joinedload(Complaint.problem)] if joined else []
    if serials:
        options.append(joinedload(Complaint.serial_numbers).joinedload(SerialNumber.shipment)
                       .joinedload(Shipment.product_model))
    columns = _outline(Complaint.id) if outline else ()
    row = db.session.execute(
        select(Complaint, *columns).where(Complaint.id == complaint_id).options(*options)
    ).unique(lambda r: r[0].id).one_or_none()
    if row is None:
        abort(404)
    return tuple(row)


def load_page(complaint_id: int) -> Case:
    """The complaint as the page draws it, and its outline, in one statement."""
    complaint, *outline = _load(complaint_id, serials=True, joined=True, outline=True)
    case = Case(complaint)
    case.__dict__["outline"] = tuple(outline)
    return case


def _reference() -> dict:
    """The tenant's short lists the panels name things from (plain tuples: the cache
    outlives the session)."""
    staff = [tuple(r) for r in db.session.execute(
        select(StaffUser.id, StaffUser.name).order_by(StaffUser.name))]
    kinds = [tuple(r) for r in db.session.execute(
        select(Department.id, Department.name, Department.kind).order_by(Department.name))]
    modes = [tuple(r) for r in db.session.execute(
        select(FailureMode.id, FailureMode.code, FailureMode.name_zh, FailureMode.name_en)
        .order_by(FailureMode.code))]
    problems = [tuple(r) for r in db.session.execute(
        select(Problem.id, Problem.number, Problem.title).order_by(Problem.id.desc()).limit(100))]
    return {"staff": staff, "departments": [(i, n) for i, n, _k in kinds],
            "department_kinds": kinds, "modes": modes, "problems": problems}


def reference() -> dict:
    """Staff, departments, failure modes and recent problems: from portal.reference_cache
    (a minute; a commit in this process that writes one of them drops it at once)."""
    return reference_cache.cached("complaint_reference",
                                  (StaffUser, Department, FailureMode, Problem), _reference)


def checked(posted, cached_rows, load_rows, with_blank: bool = True):
    """Choices to check a posted value against: the cached list, or the table's own when the
    value is not in it (added a moment ago, in another process)."""
    rows = cached_rows
    if posted not in (None, "") and str(posted) not in {str(r[0]) for r in rows}:
        rows = load_rows()
    choices = blank(rows)
    return opts(choices if with_blank else choices[1:])


def blank(rows) -> list[tuple[str, str]]:
    """Choices with an empty first option."""
    return [("", "—")] + [(str(i), str(n)) for i, n in rows]


_url_patterns: dict[tuple, list[tuple[bool, str]]] = {}


def fast_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` for ids and plain names, building each (tenant,
    endpoint, argument names) once per process: url_for is called with stand-in values, and
    the URL kept as pieces (literal text, or the name of a value). A page draws some twenty."""
    names = tuple(sorted(values))
    tenant = g.get("tenant")
    key = (tenant.slug if tenant is not None else None, endpoint, names)
    pieces = _url_patterns.get(key)
    if pieces is None:
        stand_ins = {f"739{i}1937": name for i, name in enumerate(names)}
        built = url_for(endpoint, **{name: s for s, name in stand_ins.items()})
        pieces = _url_patterns[key] = [
            (part in stand_ins, stand_ins.get(part, part))
            for part in re.split("(" + "|".join(map(re.escape, stand_ins)) + ")", built)
            if part] if stand_ins else [(False, built)]
    return "".join(quote(str(values[text]), safe="") if is_value else text
                   for is_value, text in pieces)


class Case:
    """A complaint as the panels see it. Each collection is read at most once per request,
    and only if a panel being drawn asks for it."""

    labels = STAFF_STATE_LABELS
    severities = SEVERITY_LABELS
    panel_titles = {"eight_d": _l("8D report"), "costs": _l("Costs"), "timeline": _l("Timeline"),
                    "clocks": _l("Deadlines")}

    def __init__(self, complaint: Complaint, user=None):
        self.complaint = complaint
        self.user = user if user is not None else current_user._get_current_object()
        self._may: dict[str, bool] = {}

    def url(self, endpoint: str, **values) -> str:
        """A URL of this complaint's routes (see ``fast_url``)."""
        return fast_url(endpoint, complaint_id=self.complaint.id, **values)

    def may(self, ability: str) -> bool:
        if ability not in self._may:
            self._may[ability] = may(self.user, ability, self.complaint)
        return self._may[ability]

    @cached_property
    def locale(self) -> str:
        return str(get_locale())

    @cached_property
    def ref(self) -> dict:
        data = reference()
        english = self.locale.startswith("en")
        return {**data, "staff_names": dict(data["staff"]),
                "department_names": dict(data["departments"]),
                "mode_names": {i: (en if english else zh) for i, _c, zh, en in data["modes"]}}

    @cached_property
    def serials(self) -> list[SerialNumber]:
        """The serial numbers with their shipment and its model (read with the complaint by
        the page; else one statement, also set as the complaint's collection, so operations
        reading it do not ask again)."""
        if "serial_numbers" in self.complaint.__dict__:
            return self.complaint.serial_numbers
        rows = db.session.scalars(
            select(SerialNumber).where(SerialNumber.complaint_id == self.complaint.id)
            .options(joinedload(SerialNumber.shipment).joinedload(Shipment.product_model))
            .order_by(SerialNumber.id)).all()
        set_committed_value(self.complaint, "serial_numbers", list(rows))
        return rows

    def _none(self, index: int) -> bool:
        """The page's outline says there is no such row (never guessed otherwise)."""
        return "outline" in self.__dict__ and self.outline[index] is None

    @cached_property
    def photos(self) -> list[Photo]:
        if self._none(5):
            set_committed_value(self.complaint, "photos", [])
            return []
        rows = db.session.scalars(select(Photo).where(Photo.complaint_id == self.complaint.id)
                                  .order_by(Photo.id)).all()
        set_committed_value(self.complaint, "photos", list(rows))
        return rows

    @cached_property
    def actions(self) -> list[Action]:
        if self._none(3):
            return []
        return db.session.scalars(select(Action).where(Action.complaint_id == self.complaint.id)
                                  .order_by(Action.id)).all()

    @cached_property
    def service_requests(self) -> list[ServiceRequest]:
        if self._none(4):
            return []
        return db.session.scalars(
            select(ServiceRequest).where(ServiceRequest.complaint_id == self.complaint.id)
            .options(selectinload(ServiceRequest.approvals)).order_by(ServiceRequest.id)).all()

    @cached_property
    def report(self) -> EightDReport | None:
        return db.session.scalar(
            select(EightDReport).where(EightDReport.complaint_id == self.complaint.id)
            .options(selectinload(EightDReport.sections)))

    @cached_property
    def outline(self) -> tuple:
        """See ``_outline`` (read with the complaint by the page; else in one statement)."""
        return tuple(db.session.execute(select(*_outline(self.complaint.id))).one())

    @property
    def report_outline(self) -> tuple[bool, dict]:
        """Whether there is an 8D report, and its D4 content."""
        if "report" in self.__dict__:
            report = self.report
            d4 = next((s for s in report.sections if s.discipline == 4), None) if report else None
            return report is not None, (d4.content or {}) if d4 else {}
        return self.outline[0] is not None, self.outline[1] or {}

    @property
    def has_report(self) -> bool:
        return self.report_outline[0]

    @cached_property
    def checklist_event(self) -> TimelineEvent | None:
        event_id = self.outline[2]
        return db.session.get(TimelineEvent, event_id) if event_id is not None else None

    def wants(self, key: str, forms: dict) -> bool:
        """Draw the folded form ``key`` now? Only when it was just posted (refused) or asked
        for (``?open=<key>``: htmx when it is unfolded, or the link without JavaScript)."""
        from flask import request

        return key in forms or request.args.get("open") == key

    def form(self, form_class, key: str, forms: dict, data: dict | None = None,
             choices: dict | None = None) -> fields.FormView:
        """The panel's form ``key``: as posted if it was just refused, else from ``data``."""
        bound = forms.get(key)
        if bound is None and hasattr(form_class, "version"):
            data = {**(data or {}), "version": self.complaint.version}
        return fields.view(form_class, key, data, choices, bound=bound, locale=self.locale)


@dataclass(frozen=True)
class Panel:
    name: str
    anchor: str  # where the page scrolls after a POST without JavaScript
    context: Callable[[Case, dict], dict | None]
    # Drawn later, by htmx: "opened" (a disclosure) or "revealed" (scrolled into view, seen by an
    # IntersectionObserver: `intersect once`, which a window scroll listener can miss); or
    # without JavaScript with ?panel=<name>. None: drawn with the page.
    deferred: str | None = None

    @property
    def template(self) -> str:
        return f"internal/complaint/_{self.name}.html"


PANELS: dict[str, Panel] = {}


def panel(name: str, anchor: str, deferred: str | None = None):
    """Register a panel's context function: ``context(case, forms) -> dict | None`` (None:
    the panel does not show for this complaint and user)."""
    def register(function):
        PANELS[name] = Panel(name, anchor, function, deferred)
        return function
    return register


def panel_context(case: Case, name: str, forms: dict | None = None, **extra) -> dict | None:
    context = PANELS[name].context(case, forms or {})
    if context is not None:
        context.update(extra)
    return context


def render_panel(case: Case, name: str, status: HTTPStatus = HTTPStatus.OK, /,
                 forms: dict | None = None, notice=None, error=None, saved: bool = False):
    """Only the panel, as htmx swaps it. After a save (``saved``) the case header and the
    version every form of the page carries come along out of band: the save succeeded on
    the version the page showed, so the page's forms now edit the new one. Not after a
    refusal or a GET: a form of the page must not be told of a change it has not shown."""
    context = panel_context(case, name, forms, notice=notice, error=error)
    if context is None:  # the step made the panel disappear: the page is redrawn
        response = make_response("", HTTPStatus.OK)
        response.headers["HX-Refresh"] = "true"
        return response
    html = render_template(PANELS[name].template, case=case, complaint=case.complaint, p=context)
    if saved:
        html += render_template("internal/complaint/_oob.html", case=case,
                                complaint=case.complaint)
    response = make_response(html, status.value)
    response.vary.add("HX-Request")
    return response


def page_url(complaint: Complaint, anchor: str = "") -> str:
    return url_for("internal.complaint", complaint_id=complaint.id) + anchor


STATUS_OF = {"forbidden": HTTPStatus.FORBIDDEN, "stale": HTTPStatus.CONFLICT,
             "not_from_status": HTTPStatus.CONFLICT}


def answer(case: Case, name: str, status: HTTPStatus, forms: dict, error=None):
    """A refused POST: the panel under htmx, the whole page without JavaScript."""
    if is_htmx():
        return render_panel(case, name, status, forms=forms, error=error)
    from .page import show

    return show(case, status, error=error, forms=forms, expand=name)


def run(complaint_id: int, name: str, key: str, form, operation, message,
        complaint: Complaint | None = None):
    """Validate ``form`` (the panel ``name``'s form ``key``), run ``operation(complaint)``,
    commit, and answer with the panel or a redirect; or explain why not."""
    complaint = complaint or load(complaint_id, joined=False)
    if not form.validate_on_submit():
        return answer(Case(complaint), name, HTTPStatus.UNPROCESSABLE_ENTITY, {key: form})
    try:
        operation(complaint)
        db.session.flush()
    except (Refused, StaleDataError) as error:
        if isinstance(error, StaleDataError):  # saved by someone else between read and write
            error = Refused("stale", STALE_MESSAGE)
        uow.rollback()
        complaint = load(complaint_id)
        if error.code == "stale" and hasattr(form, "version"):
            form.version.data = complaint.version  # they have now seen the newer version
        return answer(Case(complaint), name, STATUS_OF.get(error.code, HTTPStatus(422)),
                      {key: form}, error=error.message)
    if is_htmx():
        # What was just flushed is what is committed: keep it loaded for the answer instead
        # of reading the complaint and the user again.
        session = db.session()
        session.expire_on_commit = False
        try:
            uow.commit()
        finally:
            session.expire_on_commit = True
        return render_panel(Case(complaint), name, HTTPStatus.OK, notice=message, saved=True)
    uow.commit()
    flash(message, "success")
    return redirect(panel_url(complaint, name), code=303)


def panel_url(complaint: Complaint, name: str) -> str:
    """The page scrolled to the panel (drawn in full there if it is a deferred one)."""
    found = PANELS[name]
    if found.deferred:
        return url_for("internal.complaint", complaint_id=complaint.id, panel=name) + found.anchor
    return page_url(complaint, found.anchor)


def done(complaint: Complaint, message: str, anchor: str = ""):
    uow.commit()
    flash(message, "success")
    return redirect(page_url(complaint, anchor), code=303)


def as_id(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
