"""Languages and time zones: which one a request speaks, and the switch between them."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern
from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import format_datetime, get_locale, get_timezone, get_translations, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


class LazyText(LazyString):
    """Flask-Babel's lazy string, shown as text. Flask-Babel's own ``__html__`` declares the
    translated text safe HTML, so a value formatted into it (a typed serial number, a file's
    name) reached the page unescaped; our messages carry no markup, so all of it is escaped."""

    def __html__(self):
        return escape(str(self))

    def __str__(self):
        # A plain label (most of them: states, kinds, headings) is looked up in this request's
        # catalogue directly; Flask-Babel's path finds the locale, domain and catalogue again
        # on every use, and a page draws a few dozen labels.
        if self._kwargs or len(self._args) != 1:
            return str(self._func(*self._args, **self._kwargs))
        return _translations().ugettext(self._args[0])


def lazy_gettext(string: str, **variables) -> LazyText:
    """Flask-Babel's ``lazy_gettext``, rendering as text. Import it as ``_l``."""
    return LazyText(gettext, string, **variables)


def _supported(value: str | None) -> str | None:
    if not value:
        return None
    value = value.replace("-", "_")
    for code in current_app.config["LANGUAGES"]:
        if value == code or value.split("_")[0] == code.split("_")[0]:
            return code
    return None


def select_locale() -> str:
    """The signed-in user's choice, else this browser's, else the tenant's default, else the
    browser's Accept-Language, else Chinese."""
    if not has_request_context():  # jobs and CLI choose their locale with force_locale()
        return "zh_CN"
    tenant = g.get("tenant")
    if g.get("api_request"):  # an API caller says its language in Accept-Language only
        return (_supported(request.accept_languages.best_match(["zh_CN", "zh", "en"]))
                or _supported(tenant.default_locale if tenant else None) or "zh_CN")
    user_locale = getattr(current_user, "locale", None) if current_user else None
    return (
        _supported(user_locale)
        or _supported(session.get("locale"))
        or _supported(tenant.default_locale if tenant else None)
        or _supported(request.accept_languages.best_match(["zh_CN", "zh", "en"]))
        or "zh_CN"
    )


def select_timezone() -> str:
    tenant = g.get("tenant") if has_request_context() else None
    return tenant.timezone if tenant else current_app.config["BABEL_DEFAULT_TIMEZONE"]


def _translations():
    """The translations of the current context's locale, kept on Flask-Babel's own context
    (``babel_translations``, which ``force_locale`` and ``refresh`` reset), so a page's
    hundred-odd ``_()`` calls look them up once instead of each through Babel's domain
    (``g`` is resolved once per call: each proxy access costs as much as the lookup)."""
    try:
        space = g._get_current_object()
    except RuntimeError:  # no app context: Flask-Babel's own answer (no translations)
        return get_translations()
    cached = getattr(getattr(space, "_flask_babel", None), "babel_translations", None)
    if cached is None:
        cached = get_translations()  # creates g._flask_babel
        space._flask_babel.babel_translations = cached
    return cached


NAMED_FORMATS = ("full", "long", "medium", "short")


# Pattern fields formatted straight from the datetime (Babel's general machinery costs about
# 0.1 M instructions a date; a queue page shows fifty). Others fall back to Babel.
_FIELDS = {
    "y": lambda d, _p: str(d.year), "yyyy": lambda d, _p: f"{d.year:04d}",
    "yy": lambda d, _p: f"{d.year % 100:02d}",
    "M": lambda d, _p: str(d.month), "MM": lambda d, _p: f"{d.month:02d}",
    "d": lambda d, _p: str(d.day), "dd": lambda d, _p: f"{d.day:02d}",
    "H": lambda d, _p: str(d.hour), "HH": lambda d, _p: f"{d.hour:02d}",
    "h": lambda d, _p: str(d.hour % 12 or 12), "hh": lambda d, _p: f"{d.hour % 12 or 12:02d}",
    "m": lambda d, _p: str(d.minute), "mm": lambda d, _p: f"{d.minute:02d}",
    "s": lambda d, _p: str(d.second), "ss": lambda d, _p: f"{d.second:02d}",
    "a": lambda d, periods: periods[d.hour >= 12],
}
_FIELD_NAMES = re.compile(r"%\((\w+)\)s")


class _Pattern:
    """A Babel pattern compiled for the fields above, or Babel's own when it uses others."""

    def __init__(self, pattern, locale):
        self.pattern, self.locale = pattern, locale
        names = _FIELD_NAMES.findall(pattern.format)
        self.fields = [(n, _FIELDS[n]) for n in names] if all(n in _FIELDS for n in names) \
            else None
        am_pm = parse_pattern("a")
        self.periods = (am_pm.apply(datetime(2000, 1, 1, 9), locale),
                        am_pm.apply(datetime(2000, 1, 1, 15), locale))

    def apply(self, value) -> str:
        if self.fields is None:
            return self.pattern.apply(value, self.locale)
        periods = self.periods
        return self.pattern.format % {n: f(value, periods) for n, f in self.fields}


@lru_cache(maxsize=64)
def _datetime_patterns(locale_id: str, format: str):
    """What Babel's ``format_datetime`` looks up on every call, looked up once: the locale,
    and for a named format the joining pattern with its time and date patterns, compiled."""
    locale = Locale.parse(locale_id)
    if format in NAMED_FORMATS:
        return (get_datetime_format(format, locale).replace("'", ""),
                _Pattern(get_time_format(format, locale), locale),
                _Pattern(get_date_format(format, locale), locale))
    return None, _Pattern(parse_pattern(format), locale), None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    # The same zone as Flask-Babel's (a pytz zone), through the standard library's zoneinfo:
    # converting with pytz (astimezone, then normalize) was two thirds of formatting a date.
    return ZoneInfo(name)


def datetimeformat(value, format: str = "medium"):
    """The templates' ``datetimeformat`` filter: Flask-Babel's ``format_datetime`` (the
    request's language and time zone), with the patterns resolved and compiled once per
    language and format instead of interpreted on every call (a queue page formats fifty)."""
    if value is None or not hasattr(value, "astimezone") or value.tzinfo is None:
        return format_datetime(value, format)
    locale = get_locale()  # both cached by Flask-Babel on its context (force_locale aware)
    if locale is None:
        return format_datetime(value, format)
    joined, first, date_pattern = _datetime_patterns(str(locale), format)
    local = value.astimezone(_zone(str(get_timezone())))
    if joined is None:
        return first.apply(local)
    return joined.replace("{0}", first.apply(local)).replace("{1}", date_pattern.apply(local))


def datetime_formatter(format: str = "medium"):
    """``datetimeformat`` with the language, time zone and patterns looked up once: for a
    page that formats many dates in one language (the queue's rows). Returns ``f(value)``."""
    locale = get_locale()
    if locale is None:
        return lambda value: datetimeformat(value, format)
    joined, first, date_pattern = _datetime_patterns(str(locale), format)
    zone = _zone(str(get_timezone()))

    def format_one(value) -> str:
        if value is None or value.tzinfo is None:
            return datetimeformat(value, format)
        local = value.astimezone(zone)
        if joined is None:
            return first.apply(local)
        return joined.replace("{0}", first.apply(local)).replace("{1}",
                                                                 date_pattern.apply(local))

    return format_one


def register(app: Flask) -> None:
    app.jinja_env.filters["datetimeformat"] = datetimeformat
    from .complaints.vocabulary import event_text, label

    app.jinja_env.filters["label"] = label  # a code's words: {{ r.status|label("request_state") }}
    app.jinja_env.filters["duration"] = duration  # minutes in words: "3小时45分钟"
    app.jinja_env.globals["event_text"] = event_text  # a timeline entry's message, for reading
    # Replaces Flask-Babel's template callables (the same calls, with the lookup cached).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    app.jinja_env.globals["_"] = _template_gettext

    @app.context_processor
    def _languages():
        # Babel spells zh_CN as zh_Hans_CN: compare by language, not by the string.
        chinese = get_locale().language == "zh"
        return {
            "languages": LANGUAGE_NAMES,
            "current_locale": "zh_CN" if chinese else "en",
            "html_lang": "zh-CN" if chinese else "en",
            # the zone every time is shown in (the tenant's): printed forms and sheets say it
            "time_zone": str(get_timezone()),
        }


def duration(minutes: float | None, locale=None) -> str:
    """A length of time in the reader's language, largest two units: "2 days 3 hr" /
    "2天3小时", "3 hr 45 min" / "3小时45分钟", "12 min" / "12分钟" (CLDR's words, by Babel)."""
    if minutes is None:
        return ""
    return _duration(abs(int(round(minutes))), str(locale or get_locale() or "en"))


@lru_cache(maxsize=8192)
def _duration(minutes: int, locale: str) -> str:
    # Cached: a queue page shows a duration per row, and Babel's unit formatting was a
    # tenth of the page; the words for a whole number of minutes never change.
    from babel.lists import format_list
    from babel.units import format_unit

    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        parts = [(days, "duration-day"), (hours, "duration-hour")]
    elif hours:
        parts = [(hours, "duration-hour"), (mins, "duration-minute")]
    else:
        parts = [(mins, "duration-minute")]
    words = [format_unit(n, unit, length="short", locale=locale) for n, unit in parts
             if n or len(parts) == 1]
    return format_list(words, style="unit-narrow", locale=locale)


@pass_context
def _template_gettext(context, string: str, **variables) -> str:
    """The templates' ``_()``: what Jinja's newstyle ``gettext`` does (the translation marked
    safe under autoescape and always used as a format string, so ``%%`` reads ``%`` and
    values are escaped), without its two indirections (an alias that resolves ``gettext``
    by name, then a call through the context); a page has some eighty of these."""
    text = _translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables
