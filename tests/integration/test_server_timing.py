"""Server-Timing headers (bsc/project/server_timing.py): a page tells the browser's developer tools how long it
spent in SQL (and in how many statements), in templates and in total; the header is off when the setting is."""

from __future__ import annotations

import re

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

TIMING = re.compile(
    r'^db;dur=(?P<db>[\d.]+);desc="(?P<queries>\d+) quer(?:y|ies)", render;dur=(?P<render>[\d.]+);desc="templates", '
    r'total;dur=(?P<total>[\d.]+);desc="server"$'
)


def _timing(response) -> dict[str, float]:
    match = TIMING.match(response.headers["Server-Timing"])
    assert match, response.headers["Server-Timing"]
    return {name: float(value) for name, value in match.groupdict().items()}


@override_settings(SERVER_TIMING=True)
def test_a_page_reports_its_sql_its_templates_and_its_total(world):
    client = Client()
    client.force_login(world.admin_a)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("org_overview", kwargs={"org_slug": "acme"}))
    assert response.status_code == 200
    timing = _timing(response)
    # Every statement of the request is counted (the log-in session lookup included), and the parts fit the whole.
    assert timing["queries"] == len(queries) > 0
    assert 0 < timing["render"] <= timing["total"]
    assert 0 < timing["db"] <= timing["total"]


@override_settings(SERVER_TIMING=True)
def test_an_api_answer_without_templates_reports_no_render_time(world):
    client = Client()
    client.force_login(world.admin_a)
    response = client.get("/api/v1/organizations/")
    assert response.status_code == 200
    timing = _timing(response)
    assert timing["render"] == 0
    assert timing["queries"] >= 1


@override_settings(SERVER_TIMING=False)
def test_the_header_is_off_when_the_setting_is(world):
    client = Client()  # a new client builds its middleware chain under the setting
    client.force_login(world.admin_a)
    response = client.get(reverse("org_overview", kwargs={"org_slug": "acme"}))
    assert response.status_code == 200
    assert "Server-Timing" not in response.headers
