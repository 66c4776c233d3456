"""Security headers on every response: the enforced Content-Security-Policy (scripts and styles only from our
own files, no plugins, no framing), the Permissions-Policy switching off the browser features the product
never uses, and the Referrer-Policy. Pages, the log-in page, htmx fragments, the API and a refusal alike."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bsc.tenancy import organization_scope
from kpis import services as kpi_services

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
EXPECTED_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), usb=()"
)


def csp_directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    directives = [part.strip().split(" ", 1) for part in header.split(";")]
    return {name: value for name, value in directives}


def assert_security_headers(response) -> None:
    assert csp_directives(response) == EXPECTED_CSP, response.request["PATH_INFO"]
    assert "Content-Security-Policy-Report-Only" not in response.headers
    assert response.headers["Permissions-Policy"] == EXPECTED_PERMISSIONS_POLICY
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.fixture
def kpi(world):
    with organization_scope(world.org_a):
        return kpi_services.kpi_create(
            unit=world.company_a, code="OTD", name="On-time delivery", baseline=Decimal(80), measurement_unit="%"
        )


def test_the_log_in_page_carries_the_policies(db, client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_security_headers(response)


def test_the_main_pages_carry_the_policies(world, client, kpi):
    client.force_login(world.admin_a)
    org = {"org_slug": "acme"}
    urls = [
        reverse("home"),
        reverse("org_overview", kwargs=org),
        reverse("strategy_map_index", kwargs=org),
        reverse("strategy_map", kwargs={**org, "unit_id": world.company_a.pk}),
        reverse("scorecard_index", kwargs=org),
        reverse("kpi_index", kwargs=org),
        reverse("kpi_detail", kwargs={**org, "pk": kpi.pk}),
        reverse("data_entry", kwargs=org),
        reverse("coaching_index", kwargs=org),
        reverse("admin_members", kwargs=org),
        reverse("inbox", kwargs=org),
        reverse("personal_tokens"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)


def test_an_htmx_fragment_and_a_refusal_carry_the_policies(world, client):
    client.force_login(world.admin_a)
    fragment = client.post(
        reverse("notifications_read_all", kwargs={"org_slug": "acme"}), headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert_security_headers(fragment)
    client.force_login(world.viewer_a)
    refusal = client.post(reverse("admin_units", kwargs={"org_slug": "acme"}), {"name": "Sneaky"})
    assert refusal.status_code == 403
    assert_security_headers(refusal)


def test_api_responses_carry_the_policies(world, client):
    client.force_login(world.admin_a)
    response = client.get("/api/v1/organizations/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert_security_headers(response)


def test_the_api_docs_pages_widen_only_what_their_libraries_need(db, client):
    swagger = client.get(reverse("api_docs"))
    assert csp_directives(swagger) == {**EXPECTED_CSP, "img-src": "'self' data:"}
    redoc = client.get(reverse("api_redoc"))
    assert csp_directives(redoc) == {
        **EXPECTED_CSP,
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",
        "worker-src": "blob:",
    }
    assert redoc.headers["Permissions-Policy"] == EXPECTED_PERMISSIONS_POLICY
