"""403, 404 and 500 pages that keep the layout and say what happened, never whose data it was."""

from django.shortcuts import render

from bsc.permissions import role_allows


def permission_denied(request, exception=None):
    context = {"reason": str(exception or ""), "role_allows": role_allows(getattr(request, "membership", None))}
    return render(request, "403.html", context, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # Rendered without context processors' database work: the database may be what failed.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render())
