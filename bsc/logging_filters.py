"""Logging filters for the project's LOGGING setting: a refused action (403) is an expected answer, logged as
one line with its reason, not as an error with a traceback."""

from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    """On `django.request`: a 403's record keeps its line ("Forbidden (Permission denied): /path") and gains the
    reason the permission check gave, but drops the PermissionDenied traceback Django attaches to it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            reason = str(record.exc_info[1] or "")
            record.msg, record.args = record.getMessage() + (f" ({reason})" if reason else ""), ()
            record.exc_info, record.exc_text = None, None
        return True
