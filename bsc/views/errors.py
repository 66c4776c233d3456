"""403, 404, 400 and 500 pages that keep the layout and say what happened, never whose data it was; a request
that failed because the database went away (a restart, a failover) answers 503 with a page saying so."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import defaults

from bsc.permissions import role_allows

RETRY_AFTER_SECONDS = 5


def permission_denied(request, exception=None):
    context = {"reason": str(exception or ""), "role_allows": role_allows(getattr(request, "membership", None))}
    return render(request, "403.html", context, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def _database_went_away(error: BaseException | None) -> bool:
    """The error, or one it arose from (a session the middleware could not load or save), is the database's
    connection failing, not a bug."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OperationalError | InterfaceError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _database_unavailable() -> HttpResponse:
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def bad_request(request, exception=None):
    # A session the middleware could not save because the database went away arrives here as a 400.
    if _database_went_away(exception):
        return _database_unavailable()
    return defaults.bad_request(request, exception)


def server_error(request):
    # Rendered without context processors' database work: the database may be what failed. Django calls this
    # inside its `except`, so the exception is still at hand.
    if _database_went_away(sys.exc_info()[1]):
        return _database_unavailable()
    from django.http import HttpResponseServerError

    return HttpResponseServerError(loader.get_template("500.html").render())
