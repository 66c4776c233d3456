"""Small things of every page (issue 15, item 14): /favicon.ico answers the icon instead of 404, and a refused
action (403) is logged as one line with its reason, not with a traceback."""

import logging

import pytest
from django.test import RequestFactory

from bsc.logging_filters import ForbiddenWithoutTraceback
from bsc.views.favicon import favicon_ico


def test_favicon_ico_points_to_the_icon(db):
    response = favicon_ico(RequestFactory().get("/favicon.ico"))
    assert (response.status_code, response["Location"]) == (302, "/static/favicon.svg")
    assert "max-age=86400" in response["Cache-Control"]


def test_favicon_ico_is_served_at_the_root(client, db):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/favicon.svg")
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"


@pytest.fixture
def request_log(caplog):
    """django.request's records, with the filter installed as the LOGGING setting installs it."""
    logger = logging.getLogger("django.request")
    installed = any(isinstance(f, ForbiddenWithoutTraceback) for f in logger.filters)
    added = None if installed else ForbiddenWithoutTraceback()
    if added:
        logger.addFilter(added)
    caplog.set_level(logging.WARNING, logger="django.request")
    yield caplog
    if added:
        logger.removeFilter(added)


def test_a_403_is_logged_as_one_line_with_its_reason(world, client, request_log):
    client.force_login(world.viewer_a)
    response = client.post("/o/acme/admin/units/", {"name": "Sneaky", "parent": world.company_a.pk})
    assert response.status_code == 403
    [record] = [r for r in request_log.records if r.name == "django.request"]
    assert record.levelname == "WARNING" and record.exc_info is None
    assert record.getMessage().startswith("Forbidden (Permission denied): /o/acme/admin/units/ (")
    assert "Traceback" not in request_log.text


def test_other_errors_keep_their_traceback(request_log):
    try:
        raise ValueError("boom")
    except ValueError as error:
        logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=error,
                                                  extra={"status_code": 500})  # fmt: skip
    [record] = request_log.records
    assert record.exc_info is not None and "Traceback" in request_log.text


def test_the_settings_install_the_filter():
    logger = logging.getLogger("django.request")
    assert any(isinstance(f, ForbiddenWithoutTraceback) for f in logger.filters)
