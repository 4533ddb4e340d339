"""The customer portal blueprint (mobile first), mounted at /t/<slug>/."""

from flask import Blueprint

blueprint = Blueprint("customer", __name__, template_folder="templates")

from . import complaints, follow, supplier_answers, surveys, uploads, views  # noqa: E402,F401
