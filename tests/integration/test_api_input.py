"""What the API takes, as its OpenAPI schema describes it: every create endpoint works with just the fields its
schema requires (or names the one missing with a 400), numbers are read by the schema's pattern, and times
need their UTC offset. Bad input is a 400 naming the field and writes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bsc import strategy
from bsc.models import Perspective, Scorecard
from bsc.tenancy import organization_scope
from kpis import services as kpi_services

API = "/api/v1/o/acme/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def openapi() -> dict:
    return APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


def request_schema(schema: dict, operation: dict) -> dict:
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


@pytest.fixture
def samples(world):
    """A value for every field a create endpoint of organization A may require, by endpoint and field."""
    with organization_scope(world.org_a):
        kpi = kpi_services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
        scorecard = Scorecard.objects.get(unit=world.company_a)
        perspective = Perspective.objects.filter(scorecard=scorecard).order_by("order").first()
        grow = strategy.objective_create(perspective=perspective, name="Grow revenue")
        delight = strategy.objective_create(perspective=perspective, name="Delight customers")
    now = timezone.now()
    future = (now + timedelta(days=30)).replace(microsecond=0)
    last_month = (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")

    def version() -> int:  # the map's version when the request is sent
        return Scorecard.objects.for_organization(world.org_a).get(pk=scorecard.pk).version

    common = {"name": "Quality", "unit": world.division_a.pk, "kpi": kpi.pk, "version": version}
    return {
        "units/": common,
        "perspectives/": common | {"scorecard": scorecard.pk},
        "objectives/": common | {"perspective": perspective.pk},
        "links/": common | {"source": grow.pk, "target": delight.pk},
        "initiatives/": common | {"objective": grow.pk},
        "kpis/": common | {"code": "Q1"},
        "targets/": common | {"period": last_month, "value": "120"},
        "measurements/": common | {"period": last_month, "value": "110"},
        "sessions/": common | {"kind": "check_in", "scheduled_at": future.isoformat()},
        "action-items/": common
        | {"title": "Call the supplier", "owner": world.admin_a.pk, "due_date": f"{future:%Y-%m-%d}"},
        "cadences/": common
        | {"frequency": "weekly", "weekday": 2, "time_of_day": "09:00", "starts_on": f"{future:%Y-%m-%d}"},
    }


def test_every_create_endpoint_works_with_the_fields_its_schema_requires(world, samples):
    """Each POST on a list path of the schema, with only its required fields: created, or a 400 naming the one
    field a rule needs in this case (never a 500 for a field the schema let the caller leave out)."""
    schema = openapi()
    client = client_for(world.admin_a)
    outcomes = {}
    for path, operations in schema["paths"].items():
        resource = path.removeprefix("/api/v1/o/{org_slug}/")
        if resource == path or "post" not in operations or "{id}" in path or resource == "measurements/bulk/":
            continue  # bulk/ takes a list of items: see test_api_kpis
        required = request_schema(schema, operations["post"]).get("required", [])
        body = {name: value() if callable(value) else value for name, value in samples[resource].items()}
        response = client.post(API + resource, {name: body[name] for name in required}, format="json")
        outcomes[resource] = (
            response.status_code,
            response.json() if response.status_code == 400 else sorted(required),
        )

    assert outcomes == {
        "units/": (400, {"parent": ["Choose a parent unit: the organization already has a top-level unit."]}),
        "perspectives/": (201, ["name", "scorecard", "version"]),
        "objectives/": (201, ["name", "perspective", "version"]),
        "links/": (201, ["source", "target", "version"]),
        "initiatives/": (201, ["name", "objective"]),
        "kpis/": (
            400,
            {"baseline": ["An increase or decrease KPI needs a baseline (the value progress starts from)."]},
        ),
        "targets/": (201, ["kpi", "period", "value"]),
        "measurements/": (201, ["kpi", "period", "value"]),
        "sessions/": (201, ["kind", "scheduled_at", "unit"]),
        "action-items/": (201, ["due_date", "owner", "title"]),
        "cadences/": (400, {"weekday": ["Choose the weekday the sessions fall on (Monday to Sunday)."]}),
    }


def test_a_cadence_without_a_kind_is_a_monthly_review(world):
    body = {"unit": world.division_a.pk, "frequency": "weekly", "weekday": 2, "time_of_day": "09:00"}
    body["starts_on"] = f"{timezone.localdate() + timedelta(days=1):%Y-%m-%d}"

    response = client_for(world.admin_a).post(API + "cadences/", body, format="json")

    assert response.status_code == 201
    assert response.json()["kind"] == "monthly_review"
    properties = openapi()["components"]["schemas"]["CadenceRequest"]["properties"]
    assert properties["kind"]["default"] == "monthly_review"
