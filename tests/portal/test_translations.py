"""Both languages complete: every English string shown by the product has a Chinese
translation, placeholders match, and the compiled catalog is the one committed."""

import re
from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "portal/translations/zh_CN/LC_MESSAGES/messages.po"
MO = ROOT / "portal/translations/zh_CN/LC_MESSAGES/messages.mo"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _source_msgids():
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def _catalog():
    with open(PO, "rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_every_string_is_translated():
    catalog = _catalog()
    missing = []
    for msgid in sorted(_source_msgids()):
        message = catalog.get(msgid)
        text = message.string if message else None
        if isinstance(text, tuple):
            text = text[0]
        if not text or (message and message.fuzzy):
            missing.append(msgid)
    assert missing == [], f"{len(missing)} strings without Chinese: {missing[:20]}"


def test_placeholders_match():
    wrong = []
    for message in _catalog():
        if not message.id or not message.string:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        target = message.string[0] if isinstance(message.string, tuple) else message.string
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)):
            wrong.append(source)
    assert wrong == []


def test_compiled_catalog_is_current():
    with open(MO, "rb") as fh:
        compiled = read_mo(BytesIO(fh.read()))
    catalog = _catalog()
    def key(value):  # plural entries come back as lists from .mo and tuples from .po
        return tuple(value) if isinstance(value, (list, tuple)) else value

    expected = {key(m.id): key(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    actual = {key(m.id): key(m.string) for m in compiled if m.id}
    assert actual == expected, "run `make translations` and commit the .mo file"
