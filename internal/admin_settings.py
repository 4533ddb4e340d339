"""The tenant's rules in one settings area: brand, languages, time zone, failure modes, return
approval chain, escalation thresholds, survey weights, upload limits, notification channels.
Every change is recorded as a ``SettingChange`` (who, when, from, to) and listed below the
form. Keys in ``Tenant.settings`` are those of ``DEFAULT_SETTINGS`` (other parts read them)."""

from __future__ import annotations

from http import HTTPStatus

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from portal import uow
from portal.branding import LogoError, store_logo
from portal.extensions import db
from portal.models import FailureMode, SettingChange, StaffUser
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .admin_forms import APPROVER_ROLES, FailureModeForm, SettingsForm, chain_text

# Columns of Tenant edited here (the rest live in Tenant.settings).
TENANT_FIELDS = ("brand_color", "default_locale", "timezone", "logo_key")


def _for_history(key: str, value):
    """Robot secrets and webhook keys never reach the history list."""
    if key != "webhooks" or not value:
        return value
    from urllib.parse import urlsplit

    return [{**robot, "secret": "•••" if robot.get("secret") else None,
             "url": f"https://{urlsplit(robot.get('url', '')).hostname}/…"} for robot in value]


def change_settings(tenant, staff, changes: dict) -> list[str]:
    """Apply ``changes`` (key -> new value) to the tenant and record each real change.
    Tenant columns and settings keys alike. Returns the keys that changed. Flushes."""
    changed = []
    settings = dict(tenant.settings or {})
    for key, new in changes.items():
        old = getattr(tenant, key) if key in TENANT_FIELDS else tenant.setting(key)
        if old == new:
            continue
        if key in TENANT_FIELDS:
            setattr(tenant, key, new)
        else:
            settings[key] = new
        db.session.add(SettingChange(staff_id=getattr(staff, "id", None), key=key,
                                     old_value=_for_history(key, old),
                                     new_value=_for_history(key, new)))
        changed.append(key)
    tenant.settings = settings  # a new dict, so the JSON column is seen as changed
    db.session.flush()
    return changed


def _fill(form: SettingsForm, tenant) -> None:
    form.brand_color.data = tenant.brand_color
    form.default_locale.data = tenant.default_locale
    form.timezone.data = tenant.timezone
    form.languages.data = tenant.setting("languages")
    form.complaint_prefix.data = tenant.setting("complaint_prefix")
    form.return_approval_chain.data = chain_text(tenant.setting("return_approval_chain"))
    form.defect_ratio_exception.data = round(tenant.setting("defect_ratio_exception") * 1000)
    form.defect_ratio_special.data = round(tenant.setting("defect_ratio_special") * 1000)
    form.ratio_window_months.data = tenant.setting("ratio_window_months")
    weights = tenant.setting("survey_weights")
    form.weight_overall.data = weights.get("overall", 1)
    form.weight_service.data = weights.get("service", 1)
    form.weight_quality.data = weights.get("quality", 1)
    form.survey_low_score.data = tenant.setting("survey_low_score")
    form.survey_delay_hours.data = tenant.setting("survey_delay_hours")
    form.max_photos.data = tenant.setting("max_photos")
    form.max_photo_mb.data = tenant.setting("max_photo_mb")
    form.notification_channels.data = tenant.setting("notification_channels")
    form.deadline_digest_hour.data = tenant.setting("deadline_digest_hour")
    form.tell_customer_containment.data = tenant.setting("tell_customer_containment")


def _changes(form: SettingsForm) -> dict:
    return {
        "brand_color": form.brand_color.data.lower(),
        "default_locale": form.default_locale.data,
        "timezone": form.timezone.data,
        "languages": [c for c in ("zh_CN", "en") if c in form.languages.data],
        "complaint_prefix": form.complaint_prefix.data,
        "return_approval_chain": form.return_approval_chain.chain,
        "defect_ratio_exception": form.defect_ratio_exception.data / 1000,
        "defect_ratio_special": form.defect_ratio_special.data / 1000,
        "ratio_window_months": form.ratio_window_months.data,
        "survey_weights": {"overall": form.weight_overall.data,
                           "service": form.weight_service.data,
                           "quality": form.weight_quality.data},
        "survey_low_score": form.survey_low_score.data,
        "survey_delay_hours": form.survey_delay_hours.data,
        "max_photos": form.max_photos.data,
        "max_photo_mb": form.max_photo_mb.data,
        "notification_channels": [c for c in ("email", "in_app")
                                  if c in form.notification_channels.data],
        "deadline_digest_hour": form.deadline_digest_hour.data,
        "tell_customer_containment": bool(form.tell_customer_containment.data),
    }


def _page(form, fm_form, status=200):
    history = db.session.execute(
        select(SettingChange, StaffUser.name).outerjoin(
            StaffUser, SettingChange.staff_id == StaffUser.id)
        .order_by(SettingChange.changed_at.desc(), SettingChange.id.desc()).limit(100)).all()
    modes = db.session.scalars(select(FailureMode).order_by(FailureMode.code)).all()
    return render("internal/admin/settings.html", None, HTTPStatus(status), form=form, fm_form=fm_form, history=history,
                  modes=modes, approvers=chain_text(APPROVER_ROLES))


@blueprint.route("/admin/settings", methods=["GET", "POST"])
def admin_settings():
    tenant = current_tenant._get_current_object()
    form = SettingsForm()
    if request.method == "GET":
        _fill(form, tenant)
        return _page(form, FailureModeForm(formdata=None))
    if form.validate_on_submit():
        changes = _changes(form)
        upload = request.files.get("logo")
        try:
            if form.remove_logo.data:
                changes["logo_key"] = None
            elif upload and upload.filename:
                changes["logo_key"] = store_logo(tenant, upload.stream.read(2 * 1024 * 1024 + 1))
        except LogoError as exc:
            form.logo.errors = [str(exc)]
        else:
            changed = change_settings(tenant, current_user, changes)
            uow.commit()
            flash(_("Saved: %(count)d settings changed.", count=len(changed)), "success")
            return redirect(url_for("internal.admin_settings"), code=303)
    return _page(form, FailureModeForm(formdata=None), status=422)


def _mode_value(mode: FailureMode) -> dict:
    return {"code": mode.code, "name_zh": mode.name_zh, "name_en": mode.name_en,
            "severe": mode.severe}


@blueprint.post("/admin/settings/failure-modes")
def admin_failure_mode_new():
    fm_form = FailureModeForm()
    if fm_form.validate_on_submit():
        code = fm_form.code.data.strip()
        if db.session.scalar(select(FailureMode.id).where(
                func.lower(FailureMode.code) == code.lower())):
            fm_form.code.errors.append(_("A failure mode with this code exists already."))
        else:
            mode = FailureMode(code=code, name_zh=fm_form.name_zh.data.strip(),
                               name_en=fm_form.name_en.data.strip(), severe=fm_form.severe.data)
            db.session.add(mode)
            db.session.add(SettingChange(staff_id=current_user.id, key=f"failure_mode:{code}",
                                         old_value=None, new_value=_mode_value(mode)))
            uow.commit()
            flash(_("Failure mode %(code)s added.", code=code), "success")
            return redirect(url_for("internal.admin_settings") + "#failure-modes", code=303)
    form = SettingsForm(formdata=None)
    _fill(form, current_tenant)
    return _page(form, fm_form, status=422)


@blueprint.post("/admin/settings/failure-modes/<int:mode_id>")
def admin_failure_mode(mode_id: int):
    mode = db.get_or_404(FailureMode, mode_id)
    fm_form = FailureModeForm()
    fm_form.code.data = mode.code  # the code is the key other records use: never renamed
    if fm_form.validate_on_submit():
        old = _mode_value(mode)
        mode.name_zh, mode.name_en = fm_form.name_zh.data.strip(), fm_form.name_en.data.strip()
        mode.severe = fm_form.severe.data
        if _mode_value(mode) != old:
            db.session.add(SettingChange(staff_id=current_user.id,
                                         key=f"failure_mode:{mode.code}", old_value=old,
                                         new_value=_mode_value(mode)))
        uow.commit()
        flash(_("Saved."), "success")
        return redirect(url_for("internal.admin_settings") + "#failure-modes", code=303)
    form = SettingsForm(formdata=None)
    _fill(form, current_tenant)
    return _page(form, fm_form, status=422)
