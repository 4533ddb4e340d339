"""The supplier scorecard pages: every supplier for a period, one supplier's requests in it,
and the xlsx export. The period defaults to the current calendar year."""

from __future__ import annotations

import io
from datetime import date

from flask import abort, request, send_file
from flask_babel import gettext as _
from flask_login import current_user

from portal.extensions import db
from portal.models import Supplier
from portal.suppliers import requests as scars
from portal.suppliers import scorecard
from portal.web import render

from . import blueprint
from .supplier_forms import PeriodForm


def _period() -> tuple[PeriodForm, date, date]:
    if not current_user.has_role(*scars.VIEW_ROLES):
        abort(403)
    form = PeriodForm(request.args)
    today = date.today()
    start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    if form.validate():
        start, end = form.start.data or start, form.end.data or end
    if end < start:
        form.end.errors = [_("The end comes before the start.")]
        start, end = end, start
    form.start.data, form.end.data = start, end
    return form, start, end


@blueprint.get("/suppliers/scorecard")
def supplier_scorecard():
    form, start, end = _period()
    rows = [s for s in scorecard.scores(start, end) if s.requests or s.supplier.active]
    return render("internal/suppliers/scorecard.html", form=form, rows=rows, start=start,
                  end=end, ppm_text=scorecard.ppm_text)


@blueprint.get("/suppliers/scorecard/<int:supplier_id>")
def supplier_score(supplier_id: int):
    supplier = db.get_or_404(Supplier, supplier_id)
    form, start, end = _period()
    score = scorecard.scores(start, end, supplier.id)[0]
    return render("internal/suppliers/score.html", form=form, score=score, start=start,
                  end=end, states=scars.STATE_LABELS, ppm_text=scorecard.ppm_text,
                  rate=scorecard.rate)


def headers() -> list[str]:
    return [_("Supplier code"), _("Supplier"), _("Requests"), _("Answered"),
            _("Answered on time"), _("Repeat defects"), _("Defective quantity"),
            _("Quantity received"), _("Defective parts per million received (ppm)"),
            _("Charged back")]


@blueprint.get("/suppliers/scorecard.xlsx")
def supplier_scorecard_xlsx():
    _form, start, end = _period()
    data = scorecard.export_xlsx(scorecard.scores(start, end), headers())
    return send_file(io.BytesIO(data), as_attachment=True,
                     download_name=f"supplier-scorecard-{start}-{end}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
