"""Form fields drawn without WTForms' widgets.

The WTForms classes in internal/forms.py stay the one place that says what a field accepts:
they parse and validate every POST. Drawing them is another matter: WTForms builds each HTML
attribute through ``Markup.format`` (about 1 M instructions a field), and the complaint page
has dozens. So a panel draws its fields from a ``FieldView``: what the class declares (label,
kind, required, maximum length, static choices: read once per class), the value to show (the
initial value on a GET, what was typed on a refused POST) and the errors. ``view(...)`` makes
one for a form that was never bound; ``view(..., bound=form)`` wraps a bound, validated form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask_babel import get_locale
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

# The most specific classes first (TextAreaField is a StringField, and so on).
KINDS = ((TextAreaField, "textarea"), (HiddenField, "hidden"), (MultipleFileField, "file"),
         (DateTimeLocalField, "datetime-local"), (DateField, "date"),
         (DecimalField, "number"), (IntegerField, "number"), (BooleanField, "checkbox"),
         (RadioField, "radio"), (SelectMultipleField, "checkboxes"), (SelectField, "select"),
         (StringField, "text"))


@dataclass(frozen=True)
class Spec:
    """What a form class declares about one field."""

    name: str
    label: object
    kind: str
    required: bool
    maxlength: int | None
    minimum: object
    maximum: object
    choices: tuple


@cache
def specs(form_class) -> dict[str, Spec]:
    """The field specs of ``form_class`` in declaration order (read once per class)."""
    unbound = sorted(((name, value) for name in dir(form_class)
                      if isinstance(value := getattr(form_class, name, None), UnboundField)),
                     key=lambda item: item[1].creation_counter)
    return {name: _spec(name, field) for name, field in unbound}


def _spec(name: str, field: UnboundField) -> Spec:
    kwargs = field.kwargs
    label = kwargs.get("label", field.args[0] if field.args else "")
    validators = kwargs.get("validators") or ()
    kind = next(k for cls, k in KINDS if issubclass(field.field_class, cls))
    length = next((v for v in validators if isinstance(v, Length)), None)
    numbers = next((v for v in validators if isinstance(v, NumberRange)), None)
    choices = tuple((str(c.value), c.label) if hasattr(c, "value") else (str(c[0]), c[1])
                    for c in (kwargs.get("choices") or ()))
    return Spec(name, label, kind,
                any(isinstance(v, DataRequired | InputRequired) for v in validators),
                length.max if length and length.max and length.max > 0 else None,
                numbers.min if numbers else None, numbers.max if numbers else None, choices)


_translated: dict[tuple[str, str], str] = {}


def text(label, locale: str | None = None) -> str:
    """A (lazy) label in the request's language (``locale``, if the caller knows it), each
    one translated once per process and language (a lazy string looks its catalogue up
    again every time it is drawn)."""
    if isinstance(label, str):
        return label
    args = getattr(label, "_args", None)
    if not args or len(args) != 1 or getattr(label, "_kwargs", None):
        return str(label)  # formatted with values: not cached
    key = (locale or str(get_locale()), args[0])
    found = _translated.get(key)
    if found is None:
        found = _translated[key] = str(label)
    return found


class FieldView:
    """One field as a panel draws it."""

    __slots__ = ("spec", "id", "value", "errors", "choices", "locale")

    def __init__(self, spec: Spec, key: str, value, errors=(), choices=None, locale=None):
        self.spec = spec
        self.locale = locale
        self.id = f"{key}-{spec.name}"
        self.value = value
        self.errors = list(errors)
        self.choices = spec.choices if choices is None else choices

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return text(self.spec.label, self.locale)

    @property
    def required(self) -> bool:
        return self.spec.required

    def selected(self, value) -> bool:
        if isinstance(self.value, list | tuple | set):
            return str(value) in {str(v) for v in self.value}
        return self.value is not None and str(value) == str(self.value)

    def html(self, hint=None, autocomplete: str | None = None) -> Markup:
        """The field with its label, hint and errors (the markup of macros.html's field())."""
        fid, errors = self.id, self.errors
        describedby = f"{fid}-error" if errors else (f"{fid}-hint" if hint else None)
        required = ' <span class="req" aria-hidden="true">*</span>' if self.required else ""
        out = [f'<div class="field{" has-error" if errors else ""}">\n  <label for="{fid}">'
               f"{escape(self.label)}{required}</label>\n  ",
               self.control(describedby, autocomplete=autocomplete)]
        if hint:
            out.append(f'\n  <p class="hint" id="{fid}-hint">{escape(text(hint, self.locale))}</p>')
        if errors:
            message = escape(" ".join(str(e) for e in errors))
            out.append(f'\n  <p class="error" id="{fid}-error">{message}</p>')
        out.append("\n</div>")
        return Markup("".join(out))

    def control(self, describedby: str | None = None, **extra) -> Markup:
        """The input, textarea or select (label, hint and errors are the template's)."""
        spec = self.spec
        attrs = f' id="{self.id}" name="{spec.name}"'
        if spec.required and spec.kind not in ("checkbox", "hidden", "file"):
            attrs += " required"
        if spec.maxlength:
            attrs += f' maxlength="{spec.maxlength}"'
        if describedby:
            attrs += f' aria-describedby="{describedby}"'
        if self.errors:
            attrs += ' aria-invalid="true"'
        for key, value in extra.items():
            if value is True:
                attrs += f" {key.replace('_', '-')}"
            elif value not in (None, False):
                attrs += f' {key.replace("_", "-")}="{escape(value)}"'
        return Markup(self._draw(attrs))

    def _draw(self, attrs: str) -> str:
        spec, value = self.spec, self.value
        if spec.kind == "textarea":
            return f"<textarea{attrs} rows=\"3\">\n{escape(value or '')}</textarea>"
        if spec.kind == "select":
            options = "".join(
                f'<option{" selected" if self.selected(v) else ""} value="{escape(v)}">'
                f"{escape(text(label, self.locale))}</option>" for v, label in self.choices)
            return f"<select{attrs}>{options}</select>"
        if spec.kind == "checkbox":
            return f'<input type="checkbox"{attrs} value="y"{" checked" if value else ""}>'
        if spec.kind == "file":
            return f'<input type="file"{attrs} multiple>'
        if spec.kind == "number":
            limits = "".join(f' {k}="{v}"' for k, v in (("min", spec.minimum),
                                                       ("max", spec.maximum)) if v is not None)
            step = ' step="any"' if spec.minimum is not None and spec.minimum < 1 else ""
            return f'<input type="number"{attrs}{limits}{step} value="{escape(_text(value))}">'
        return f'<input type="{spec.kind}"{attrs} value="{escape(_text(value))}">'


def _text(value) -> str:
    return "" if value is None else str(value)


class FormView:
    """A form as a panel draws it: ``form.<field>`` is a FieldView, ``form.errors`` a dict."""

    def __init__(self, fields: dict[str, FieldView], errors: dict):
        self._fields = fields
        self.errors = errors

    def __getattr__(self, name: str) -> FieldView:
        try:
            return self.__dict__["_fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> FieldView:
        return self._fields[name]


def view(form_class, key: str, data: dict | None = None, choices: dict | None = None,
         bound=None, locale: str | None = None) -> FormView:
    """A FormView of ``form_class`` under the id prefix ``key``: from ``data`` (a GET), or
    from ``bound``, a form that was posted and validated (what was typed, and its errors)."""
    choices = choices or {}
    fields = {}
    for name, spec in specs(form_class).items():
        options = choices.get(name)
        if bound is not None:
            field = bound[name]
            value = field.data if spec.kind in ("select", "checkboxes", "radio", "checkbox") \
                else field._value()
            fields[name] = FieldView(spec, key, value, field.errors, options, locale)
        else:
            fields[name] = FieldView(spec, key, (data or {}).get(name), (), options, locale)
    return FormView(fields, bound.errors if bound is not None else {})
