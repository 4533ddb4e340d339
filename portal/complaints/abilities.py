"""Old home of the non-status permissions, kept for internal/case_views.py until it imports
``portal.complaints.permissions`` itself (remove at merge). Nothing else imports this."""

from .permissions import ABILITIES, STALE_MESSAGE, check_version, may, require  # noqa: F401
