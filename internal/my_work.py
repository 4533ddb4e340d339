"""My work: everything waiting on the signed-in staff user, and its count in the header
(refreshed by htmx every minute)."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from portal import my_work
from portal.complaints.vocabulary import REQUEST_LABELS, RETURN_STATE_LABELS, STAFF_STATE_LABELS
from portal.web import render

from . import blueprint


def _staff():
    if not getattr(current_user, "is_authenticated", False) or current_user.kind != "staff":
        abort(403)
    return current_user


@blueprint.app_template_global("my_work_count")
def _count() -> int:
    if not getattr(current_user, "is_authenticated", False) or current_user.kind != "staff":
        return 0
    return my_work.count(current_user)


@blueprint.get("/my-work")
def my_work_page():
    work = my_work.load(_staff())
    return render("internal/my_work.html", work=work, request_labels=REQUEST_LABELS,
                  return_states=RETURN_STATE_LABELS, status_labels=STAFF_STATE_LABELS)


@blueprint.get("/my-work/count")
def my_work_count():
    _staff()
    return render("internal/_my_work_link.html")
