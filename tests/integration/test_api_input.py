"""What the API takes, as its OpenAPI schema describes it: every create endpoint works with just the fields its
schema requires (or names the one missing with a 400), numbers are read by the schema's pattern, and times
need their UTC offset. Bad input is a 400 naming the field and writes nothing."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from bsc import org_calendar, strategy
from bsc.models import Initiative, Objective, Organization, Perspective, Scorecard
from bsc.tenancy import organization_scope
from coaching.models import CoachingSession
from kpis import services as kpi_services
from kpis.models import Kpi, Measurement, Target

API = "/api/v1/o/acme/"
PATH = "path"  # in a sample: the values of the path's own parameters ({kind}, {target_id})


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
    last_month = f"{org_calendar.due_month(world.org_a):%Y-%m}"

    def version() -> int:  # the map's version when the request is sent
        return Scorecard.objects.for_organization(world.org_a).get(pk=scorecard.pk).version

    common = {"name": "Quality", "unit": world.division_a.pk, "kpi": kpi.pk, "version": version}
    return {
        "units/": common | {"parent": world.division_a.pk},
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
        "review-packs/": common | {"unit": world.company_a.pk, "period": last_month},
        "period-closes/": common | {"month": last_month},
        "comments/{kind}/{target_id}/": common | {"body": "Looks right", PATH: {"kind": "kpi", "target_id": kpi.pk}},
    }


def test_every_create_endpoint_works_with_the_fields_its_schema_requires(world, samples):
    """Each POST on a list path of the schema, with only its required fields: created, or a 400 naming the one
    field a rule needs in this case (never a 500 for a field the schema let the caller leave out)."""
    schema = openapi()
    client = client_for(world.admin_a)
    due = org_calendar.due_month(world.org_a)
    outcomes = {}
    for path, operations in schema["paths"].items():
        resource = path.removeprefix("/api/v1/o/{org_slug}/")
        if resource == path or "post" not in operations or "{id}" in path or resource == "measurements/bulk/":
            continue  # bulk/ takes a list of items: see test_api_kpis
        required = request_schema(schema, operations["post"]).get("required", [])
        sample = dict(samples[resource])
        route = resource.format(**sample.pop(PATH, {}))
        body = {name: value() if callable(value) else value for name, value in sample.items()}
        response = client.post(API + route, {name: body[name] for name in required}, format="json")
        outcomes[resource] = (
            response.status_code,
            response.json() if response.status_code == 400 else sorted(required),
        )

    assert outcomes == {
        "units/": (201, ["name", "parent"]),
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
        "period-closes/": (201, ["month", "unit"]),
        "comments/{kind}/{target_id}/": (201, ["body"]),
        "sessions/": (201, ["kind", "scheduled_at", "unit"]),
        "action-items/": (201, ["due_date", "owner", "title"]),
        "cadences/": (400, {"weekday": ["Choose the weekday the sessions fall on (Monday to Sunday)."]}),
        "review-packs/": (
            400,
            {"period": [f"No scores are stored for {due:%b %Y}: the organization has no stored scores yet."]},
        ),
    }


def test_a_cadence_without_a_kind_is_a_monthly_review(world):
    body = {"unit": world.division_a.pk, "frequency": "weekly", "weekday": 2, "time_of_day": "09:00"}
    body["starts_on"] = f"{org_calendar.today(world.org_a) + timedelta(days=1):%Y-%m-%d}"

    response = client_for(world.admin_a).post(API + "cadences/", body, format="json")

    assert response.status_code == 201
    assert response.json()["kind"] == "monthly_review"
    properties = openapi()["components"]["schemas"]["CadenceRequest"]["properties"]
    assert properties["kind"]["default"] == "monthly_review"


# --- Numbers ------------------------------------------------------------------------------------------------

NOT_A_NUMBER = "Enter a number such as 1234.5 (digits, an optional minus sign and a dot for decimals)."


def months_ago(count: int, organization: Organization) -> str:
    """A past month as YYYY-MM, counted back from the organization's month now."""
    return f"{org_calendar.month_shift(org_calendar.this_month(organization), -count):%Y-%m}"


@pytest.fixture
def orders(world):
    """A monthly company KPI with a target and a value two months ago."""
    period = kpi_services.parse_period(months_ago(2, world.org_a))
    with organization_scope(world.org_a):
        kpi = kpi_services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
        target = kpi_services.target_create(kpi=kpi, period=period, value=Decimal(200))
        value = kpi_services.measurement_record(kpi=kpi, period=period, value=Decimal(150), by=world.admin_a)
    return {"kpi": kpi, "target": target, "measurement": value}


def kpi_rows(organization) -> dict:
    """Everything of the organization's KPIs, targets and values a number could change."""
    with organization_scope(organization):
        return {
            "kpis": list(Kpi.objects.order_by("id").values_list("baseline", "green_threshold", "band_low")),
            "targets": list(Target.objects.order_by("id").values_list("period", "value")),
            "measurements": list(Measurement.objects.order_by("id").values_list("period", "value", "version")),
        }


BAD_NUMBERS = [
    ("1_000", NOT_A_NUMBER),
    ("１２", NOT_A_NUMBER),  # full-width digits
    ("+5", NOT_A_NUMBER),
    ("1e3", NOT_A_NUMBER),
    (" 12.5 ", NOT_A_NUMBER),
    ("1e309", NOT_A_NUMBER),
    ("NaN", NOT_A_NUMBER),
    ("12.", NOT_A_NUMBER),
    (".5", NOT_A_NUMBER),
    ("", NOT_A_NUMBER),
    ("1,234.5", NOT_A_NUMBER),
    (True, NOT_A_NUMBER),
    ("12,5", "Use a dot as the decimal separator: 12.5"),
    ("-3,75", "Use a dot as the decimal separator: -3.75"),
    ("123456789012345", "Ensure that there are no more than 14 digits before the decimal point."),
    ("000000000000012", "Ensure that there are no more than 14 digits before the decimal point."),
    ("1.1234567", "Ensure that there are no more than 6 decimal places."),
    (1e20, "Ensure that there are no more than 14 digits before the decimal point."),
    (1e-7, "Ensure that there are no more than 6 decimal places."),
]


@pytest.mark.parametrize(("value", "message"), [pytest.param(v, m, id=repr(v)) for v, m in BAD_NUMBERS])
def test_a_value_other_than_the_schemas_number_is_refused_with_the_reason(world, orders, value, message):
    before = kpi_rows(world.org_a)

    response = client_for(world.admin_a).post(
        API + "measurements/",
        {"kpi": orders["kpi"].pk, "period": months_ago(1, world.org_a), "value": value},
        format="json",
    )

    assert (response.status_code, response.json()) == (400, {"value": [message]})
    assert kpi_rows(world.org_a) == before


@pytest.mark.parametrize(
    ("value", "stored"),
    [("1234.5", "1234.500000"), ("-3", "-3.000000"), ("0012", "12.000000"), (12.5, "12.500000"), (7, "7.000000")],
)
def test_plain_numbers_and_json_numbers_are_taken(world, orders, value, stored):
    response = client_for(world.admin_a).post(
        API + "measurements/",
        {"kpi": orders["kpi"].pk, "period": months_ago(1, world.org_a), "value": value},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["value"] == stored


def test_every_number_the_api_takes_follows_the_same_rule(world, orders):
    """KPI definitions, targets, recalibrations, values (one by one and in bulk) and map weights and budgets."""
    client = client_for(world.admin_a)
    kpi, target, measurement = orders["kpi"], orders["target"], orders["measurement"]
    with organization_scope(world.org_a):
        scorecard = Scorecard.objects.get(unit=world.company_a)
        perspective = Perspective.objects.filter(scorecard=scorecard).order_by("order").first()
        objective = strategy.objective_create(perspective=perspective, name="Grow revenue")
        initiative = strategy.initiative_create(objective=objective, name="Price review")
        scorecard.refresh_from_db(fields=["version"])
        version = scorecard.version
    before, maps_before = kpi_rows(world.org_a), map_numbers(world.org_a)
    unit = world.company_a.pk
    month = months_ago(1, world.org_a)
    comma = "Use a dot as the decimal separator: 0.95"

    answers = {
        "kpi baseline": client.post(
            API + "kpis/", {"unit": unit, "name": "Scrap", "code": "SCR", "baseline": "1e3"}, format="json"
        ),
        "kpi band": client.patch(API + f"kpis/{kpi.pk}/", {"band_low": "+5"}, format="json"),
        "kpi threshold": client.patch(API + f"kpis/{kpi.pk}/", {"green_threshold": "0,95"}, format="json"),
        "target": client.post(API + "targets/", {"kpi": kpi.pk, "period": month, "value": "1_000"}, format="json"),
        "recalibration": client.patch(
            API + f"targets/{target.pk}/", {"value": "１２", "reason": "Plant shutdown"}, format="json"
        ),
        "value": client.patch(
            API + f"measurements/{measurement.pk}/", {"value": " 12.5 ", "version": 1}, format="json"
        ),
        "bulk": client.post(
            API + "measurements/bulk/",
            [
                {"kpi": "ORD", "period": month, "value": "90"},
                {"kpi": "ORD", "period": months_ago(3, world.org_a), "value": "1e3"},
            ],
            format="json",
        ),
        "perspective weight": client.post(
            API + "perspectives/",
            {"scorecard": scorecard.pk, "name": "Risk", "weight": "2,5", "version": version},
            format="json",
        ),
        "objective weight": client.patch(
            API + f"objectives/{objective.pk}/", {"weight": "1e1", "version": version}, format="json"
        ),
        "initiative budget": client.patch(API + f"initiatives/{initiative.pk}/", {"budget": "+500"}, format="json"),
    }

    assert {name: (r.status_code, r.json()) for name, r in answers.items()} == {
        "kpi baseline": (400, {"baseline": [NOT_A_NUMBER]}),
        "kpi band": (400, {"band_low": [NOT_A_NUMBER]}),
        "kpi threshold": (400, {"green_threshold": [comma]}),
        "target": (400, {"value": [NOT_A_NUMBER]}),
        "recalibration": (400, {"value": [NOT_A_NUMBER]}),
        "value": (400, {"value": [NOT_A_NUMBER]}),
        "bulk": (400, [{"index": 1, "errors": {"value": [NOT_A_NUMBER]}}]),
        "perspective weight": (400, {"weight": ["Use a dot as the decimal separator: 2.5"]}),
        "objective weight": (400, {"weight": [NOT_A_NUMBER]}),
        "initiative budget": (400, {"budget": [NOT_A_NUMBER]}),
    }
    assert kpi_rows(world.org_a) == before
    assert map_numbers(world.org_a) == maps_before


def map_numbers(organization) -> dict:
    with organization_scope(organization):
        return {
            "perspectives": list(Perspective.objects.order_by("id").values_list("name", "weight")),
            "objectives": list(Objective.objects.order_by("id").values_list("weight")),
            "initiatives": list(Initiative.objects.order_by("id").values_list("budget")),
        }


def test_the_schema_pattern_of_every_number_the_api_takes_is_the_rule(db):
    """Each decimal of a request body says what the API takes; a number field that does not use the rule's
    field (drf-spectacular's own pattern also matches "", "12." and ".5") fails here."""
    components = openapi()["components"]["schemas"]
    patterns = {
        f"{name}.{field}": spec["pattern"]
        for name, component in components.items()
        if name.endswith("Request")
        for field, spec in component.get("properties", {}).items()
        if spec.get("format") == "decimal"
    }

    assert patterns["MeasurementRequest.value"] == r"^-?\d{1,14}(?:\.\d{1,6})?$"
    assert patterns["KpiRequest.green_threshold"] == r"^\d{1,1}(?:\.\d{1,3})?$"  # nothing below zero
    assert patterns["InitiativeRequest.budget"] == r"^-?\d{1,12}(?:\.\d{1,2})?$"
    assert len(patterns) >= 15
    assert [key for key, pattern in patterns.items() if not pattern.startswith((r"^-?\d{1,", r"^\d{1,"))] == []


# --- Times --------------------------------------------------------------------------------------------------

OFFSET_RULE = "ISO 8601 with its UTC offset, e.g. 2027-03-10T09:00:00+01:00; a time without one is refused."


@pytest.fixture
def berlin(world):
    Organization.objects.filter(pk=world.org_a.pk).update(time_zone="Europe/Berlin")


def sessions_of(organization) -> list:
    with organization_scope(organization):
        return list(CoachingSession.objects.order_by("id").values_list("id", "scheduled_at", "status"))


@pytest.mark.parametrize(
    ("sent", "example"),
    [
        ("2027-03-10T09:00:00", "2027-03-10T09:00:00+01:00"),
        ("2027-07-10T09:00", "2027-07-10T09:00:00+02:00"),  # summer time in Berlin
        ("2027-03-10", "2027-03-10T00:00:00+01:00"),
    ],
)
def test_a_session_time_without_its_offset_is_refused_with_an_example_in_the_organizations_zone(
    world, berlin, sent, example
):
    body = {"unit": world.division_a.pk, "kind": "check_in", "scheduled_at": sent}

    response = client_for(world.admin_a).post(API + "sessions/", body, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"scheduled_at": [f"Give the time with its UTC offset, e.g. {example}"]},
    )
    assert sessions_of(world.org_a) == []


def test_a_session_time_that_is_not_a_time_is_refused_with_the_form_it_takes(world):
    body = {"unit": world.division_a.pk, "kind": "check_in", "scheduled_at": "next Tuesday 9am"}

    response = client_for(world.admin_a).post(API + "sessions/", body, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"scheduled_at": ["Give the time in ISO 8601 with its UTC offset, e.g. 2027-03-10T09:00:00+01:00"]},
    )


def test_a_session_time_with_its_offset_is_the_moment_it_names(world, berlin):
    day = org_calendar.today(world.org_a) + timedelta(days=40)
    client = client_for(world.admin_a)
    created = client.post(
        API + "sessions/",
        {"unit": world.division_a.pk, "kind": "check_in", "scheduled_at": f"{day}T09:00:00+01:00"},
        format="json",
    )
    assert created.status_code == 201
    session_id = created.json()["id"]

    moved = client.patch(API + f"sessions/{session_id}/", {"scheduled_at": f"{day}T07:30:00Z"}, format="json")
    naive = client.patch(API + f"sessions/{session_id}/", {"scheduled_at": f"{day}T10:00:00"}, format="json")

    assert moved.status_code == 200
    example = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=ZoneInfo("Europe/Berlin")).isoformat()
    assert (naive.status_code, naive.json()) == (
        400,
        {"scheduled_at": [f"Give the time with its UTC offset, e.g. {example}"]},
    )
    expected = datetime.fromisoformat(f"{day}T07:30:00+00:00")
    assert [(pk, at) for pk, at, _ in sessions_of(world.org_a)] == [(session_id, expected)]


def test_every_moment_the_api_takes_asks_for_its_offset(db):
    """Each date-time of a request body uses the rule's field (a new one that does not fails here)."""
    components = openapi()["components"]["schemas"]
    descriptions = {
        f"{name}.{field}": spec.get("description", "")
        for name, component in components.items()
        if name.endswith("Request")
        for field, spec in component.get("properties", {}).items()
        if spec.get("format") == "date-time"
    }

    assert descriptions == {
        "SessionCreateRequest.scheduled_at": f"{OFFSET_RULE} A future time.",
        "PatchedSessionChangeRequest.scheduled_at": (
            f"{OFFSET_RULE} Moves a scheduled session (a cadence's occurrence keeps its date)."
        ),
    }


# --- Ids in query parameters ----------------------------------------------------------------------------------


def id_filters() -> list[tuple[str, str]]:
    """Every (list path, integer query parameter) of the schema but the page's own, and action items' owner."""
    schema = openapi()
    found = [("action-items/", "owner")]  # a member's id or `me`
    for path, operations in schema["paths"].items():
        resource = path.removeprefix("/api/v1/o/{org_slug}/")
        if resource == path or "{" in resource or "get" not in operations:
            continue
        for parameter in operations["get"].get("parameters", []):
            is_id = parameter["in"] == "query" and parameter["schema"].get("type") == "integer"
            if is_id and parameter["name"] not in ("limit", "offset"):
                found.append((resource, parameter["name"]))
    return found


def test_an_id_filter_that_is_not_an_id_is_refused_naming_it(world):
    client = client_for(world.admin_a)
    filters = id_filters()
    answers = {
        (resource, name, text): client.get(API + resource, {name: text})
        for resource, name in filters
        for text in ("²", "１２", "1" * 5000, "-1")
    }

    assert len(filters) >= 14
    assert {key: (r.status_code, r.json()) for key, r in answers.items()} == {
        key: (400, {key[1]: ["A valid integer is required."]}) for key in answers
    }


def test_a_bulk_item_naming_its_kpi_by_something_not_an_id_or_code_is_refused(world, orders):
    response = client_for(world.admin_a).post(
        API + "measurements/bulk/", [{"kpi": "²", "period": months_ago(1, world.org_a), "value": "1"}], format="json"
    )

    assert (response.status_code, response.json()) == (
        400,
        [{"index": 0, "errors": {"kpi": ["Unknown KPI “²”: give its id or code."]}}],
    )
