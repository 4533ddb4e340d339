"""What a new password must be: long enough and not one of the passwords guessed first.

``common-passwords.txt.gz`` beside this module holds 19,640 of the most used passwords,
lower-cased, one a line — the list Django ships (django/contrib/auth, BSD licence), built
from Royce Williams' compilation of breached-password frequency lists. It is read from the
package, never fetched. The check is used wherever a password is set: sign-up, accepting an
invitation, changing one's password, and the operator's ``create-operator`` command.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from wtforms.validators import ValidationError

from ..i18n import lazy_gettext as _l

MIN_PASSWORD_LENGTH = 10
_LIST = Path(__file__).with_name("common-passwords.txt.gz")

COMMON_MESSAGE = _l("This password is one of the most common ones, which are guessed first. "
                    "Choose another (a few unrelated words make a good one).")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(_LIST, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def is_common(password: str) -> bool:
    """True when ``password`` (compared lower-cased, without surrounding spaces) is on the
    bundled list of the most common passwords."""
    return (password or "").strip().lower() in common_passwords()


class NotCommon:
    """WTForms validator: refuse a password from the common-password list."""

    def __call__(self, form, field) -> None:
        if field.data and is_common(field.data):
            raise ValidationError(COMMON_MESSAGE)
