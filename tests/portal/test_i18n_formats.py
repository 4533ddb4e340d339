"""The templates' helpers for the request's language: the ``datetimeformat`` filter gives
exactly what Flask-Babel's ``format_datetime`` gives (it only resolves the patterns once), and
the template ``_()`` follows ``force_locale`` (e-mails in the recipient's language)."""

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale, format_datetime

from portal.i18n import datetimeformat

MOMENTS = [
    datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # Berlin: an hour before the spring change
    datetime(2026, 3, 29, 1, 1, tzinfo=UTC),  # and just after it
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # the autumn change
    datetime(2026, 2, 16, 23, 45, tzinfo=UTC),  # Shanghai: past midnight, Spring Festival
    datetime(2026, 12, 1, 12, 0, 5, tzinfo=UTC),
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_datetimeformat_is_flask_babels(app, zone, locale, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", zone)
    with app.test_request_context("/"), force_locale(locale):
        for moment in MOMENTS:
            for fmt in ("short", "medium", "long", "full", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"):
                assert datetimeformat(moment, fmt) == format_datetime(moment, fmt), (moment, fmt)


def test_datetimeformat_leaves_other_values_to_flask_babel(app):
    naive = datetime(2026, 12, 1, 8, 0)
    with app.test_request_context("/"), force_locale("en"):
        assert datetimeformat(naive, "short") == format_datetime(naive, "short")


def test_template_gettext_follows_force_locale(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string('{{ _("Complaints") }}')
        with force_locale("zh_CN"):
            assert template.render() == "投诉"
            with force_locale("en"):
                assert template.render() == "Complaints"
            assert template.render() == "投诉"


def test_lazy_messages_escape_the_values_formatted_into_them(app):
    from markupsafe import escape

    from portal.i18n import lazy_gettext

    with app.test_request_context("/"), force_locale("en"):
        message = lazy_gettext("%(value)s is not a serial number.", value="<svg/onload=alert(1)>")
        assert str(escape(message)) == "&lt;svg/onload=alert(1)&gt; is not a serial number."
        template = app.jinja_env.from_string("{{ m }}")
        assert "<svg" not in template.render(m=message)


def test_no_code_uses_flask_babels_own_lazy_gettext():
    """Its strings render unescaped; portal.i18n.lazy_gettext is the one to import."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [str(path.relative_to(root))
                 for package in ("portal", "customer", "internal", "jobs")
                 for path in (root / package).rglob("*.py")
                 if "from flask_babel import lazy_gettext" in path.read_text(encoding="utf-8")
                 or "flask_babel.lazy_gettext" in path.read_text(encoding="utf-8")]
    assert offenders == []


@pytest.mark.parametrize("locale", ["en", "zh_Hans_CN"])
@pytest.mark.parametrize("format", ["short", "medium", "long", "full", "yyyy-MM-dd HH:mm"])
def test_compiled_patterns_format_like_babel(locale, format):
    """The filter's compiled patterns give Babel's own text (hours either side of noon and
    midnight, single- and double-digit fields); patterns with other fields use Babel's."""
    import random
    from datetime import datetime, timedelta

    from babel import Locale
    from babel.dates import format_datetime

    from portal.i18n import _datetime_patterns

    rng = random.Random(11)
    joined, first, date_pattern = _datetime_patterns(locale, format)
    for _ in range(200):
        moment = datetime(2020, 1, 1) + timedelta(minutes=rng.randrange(0, 4_000_000))
        ours = first.apply(moment) if joined is None else (
            joined.replace("{0}", first.apply(moment)).replace("{1}", date_pattern.apply(moment)))
        assert ours == format_datetime(moment, format, locale=Locale.parse(locale))
