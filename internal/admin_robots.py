"""Group-chat robots (WeCom, DingTalk, Feishu) that receive the tenant's notifications: the
admin adds one with its webhook address, signing secret and the events it should hear.

Stored in the ``webhooks`` setting (read by portal/notifications) and recorded like every
other settings change. Addresses are accepted only on the platforms' own hosts over HTTPS,
so the setting cannot be turned into a way to make the server call internal addresses.
"""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import urlsplit

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from portal import uow
from portal.i18n import lazy_gettext as _l
from portal.notifications import EVENTS
from portal.tenancy import current_tenant
from portal.web import render

from . import blueprint
from .admin_forms import MultiCheckboxField, opts
from .admin_settings import change_settings

ROBOT_LABELS = {"wecom": _l("WeCom group robot"), "dingtalk": _l("DingTalk group robot"),
                "feishu": _l("Feishu group robot")}
# The documented webhook hosts of each platform.
ROBOT_HOSTS = {"wecom": {"qyapi.weixin.qq.com"}, "dingtalk": {"oapi.dingtalk.com"},
               "feishu": {"open.feishu.cn", "open.larksuite.com"}}


class RobotForm(FlaskForm):
    name = StringField(_l("Name"), validators=[
        DataRequired(_l("Give the robot a name, e.g. the group it posts to.")), Length(max=60)])
    channel = SelectField(_l("Platform"), choices=opts(ROBOT_LABELS.items()),
                          validators=[DataRequired()])
    url = StringField(_l("Webhook address"), validators=[
        DataRequired(_l("Paste the robot's webhook address.")), Length(max=500)])
    secret = PasswordField(_l("Signing secret"), validators=[Length(max=200)])
    events = MultiCheckboxField(_l("Events it receives"), choices=opts(EVENTS.items()),
                                validators=[DataRequired(_l("Choose at least one event."))])

    def validate_url(self, field):
        parts = urlsplit((field.data or "").strip())
        if parts.scheme != "https" or parts.hostname not in ROBOT_HOSTS.get(self.channel.data, ()):
            hosts = ", ".join(sorted(ROBOT_HOSTS.get(self.channel.data, ())))
            raise ValidationError(_("Use the https address the platform gives for this robot "
                               "(on %(hosts)s).", hosts=hosts))

    def validate_secret(self, field):
        if self.channel.data in ("dingtalk", "feishu") and not (field.data or "").strip():
            raise ValidationError(_("DingTalk and Feishu robots sign their messages: paste the "
                               "robot's signing secret."))


def _robots() -> list[dict]:
    return list(current_tenant.setting("webhooks") or [])


def _page(form, status=200):
    robots = [{**robot, "label": ROBOT_LABELS.get(robot.get("channel"), robot.get("channel")),
               "host": urlsplit(robot.get("url", "")).hostname} for robot in _robots()]
    return render("internal/admin/robots.html", None, HTTPStatus(status), form=form, robots=robots, events=EVENTS)


@blueprint.route("/admin/robots", methods=["GET", "POST"])
def admin_robots():
    form = RobotForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, status=422)
    robot = {"name": form.name.data.strip(), "channel": form.channel.data,
             "url": form.url.data.strip(), "secret": (form.secret.data or "").strip() or None,
             "events": [e for e in EVENTS if e in form.events.data]}
    change_settings(current_tenant._get_current_object(), current_user,
                    {"webhooks": [*_robots(), robot]})
    uow.commit()
    flash(_("Robot %(name)s added.", name=robot["name"]), "success")
    return redirect(url_for("internal.admin_robots"), code=303)


@blueprint.post("/admin/robots/<int:index>/delete")
def admin_robot_delete(index: int):
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    robots = _robots()
    if not 0 <= index < len(robots):
        abort(404)
    removed = robots.pop(index)
    change_settings(current_tenant._get_current_object(), current_user, {"webhooks": robots})
    uow.commit()
    flash(_("Robot %(name)s removed.", name=removed.get("name") or removed.get("channel")),
          "success")
    return redirect(url_for("internal.admin_robots"), code=303)
