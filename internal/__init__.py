"""The staff workspace blueprint, mounted at /t/<slug>/staff/."""

from flask import Blueprint

blueprint = Blueprint("internal", __name__, template_folder="templates")

from . import views  # noqa: E402,F401
from . import deadlines  # noqa: E402,F401  (deadline pages and template helpers)
