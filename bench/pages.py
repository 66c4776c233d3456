"""What the page cases time: a page through the full middleware stack as the logged-in admin, and the bare view
returning the same rows it is held against. Each call asserts a 200 and returns the response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.test import Client, RequestFactory


def admin_client(admin) -> Client:
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    return client


def page_get(client: Client, url: str, headers: dict | None = None) -> Callable[[], HttpResponse]:
    def get() -> HttpResponse:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.status_code
        return response

    return get


def bare_view(view, path: str, admin, *args) -> Callable[[], HttpResponse]:
    """`view(request, *args)` called directly with a GET of `path` by the admin: no middleware, no URL routing."""
    request = RequestFactory().get(path)
    request.user = admin

    def get() -> HttpResponse:
        response = view(request, *args)
        assert response.status_code == 200, response.status_code
        return response

    return get
