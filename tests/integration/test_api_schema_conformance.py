"""The API schema tells the truth: schemathesis generates requests from /api/schema/ (valid and invalid ones) and
checks each answer against it: no server error, only declared status codes, bodies of the declared shape, valid
data accepted and invalid data refused.

It runs in-process against the WSGI application on the real stack, as an admin of organization A (a personal
token) with organization B present, with a fixed seed and a bounded budget per operation. Generated ids are
mostly swapped for real ones (organization B's among them, which must be 404s), so requests reach the code
behind the lookups.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, time, timedelta
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings

from bsc import org_calendar, services, strategy
from bsc.models import Membership, Perspective, Role, Scorecard
from bsc.tenancy import organization_scope
from coaching import cadences
from coaching import services as coaching_services
from kpis import services as kpi_services
from tests import clock, factories

SEED = 20261113
EXAMPLES_PER_OPERATION = 10  # generated cases; the coverage phase adds its boundary cases (about 4,000 in all)
MIN_CASES = 1000
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
]

# Writes whose refusals depend on the data already there, on today, or on several fields at once: rules a JSON
# schema cannot state, so a schema-valid request may rightly be a 400 here. Only `positive_data_acceptance` is
# left out for them; every other check still runs, and each rule has its own tests elsewhere.
STATEFUL_RULES = {
    ("POST", "units/"): "names are unique under one parent",
    ("PUT", "units/{id}/"): "no unit under itself; only the top-level unit has no parent; unique names",
    ("PATCH", "units/{id}/"): "the same rules",
    ("DELETE", "units/{id}/"): "only a unit without sub-units, members or data can go",
    ("DELETE", "perspectives/{id}/"): "only a band without objectives can go",
    ("POST", "links/"): "no arrow from an objective to itself, no duplicate, no cycle; both ends on one map",
    ("POST", "scorecards/{id}/copy-parent/"): "only an empty map can start as a copy",
    ("POST", "kpis/"): "the amber threshold below the green one, a band KPI's band, one code per organization",
    ("PATCH", "kpis/{id}/"): "the same rules, and a KPI stays with its unit (the schema cannot say 'unchanged')",
    ("POST", "targets/"): "one target per KPI and period, in a period that fits its frequency",
    ("POST", "measurements/"): "a period that already has a value needs its version; none in the future",
    ("POST", "measurements/bulk/"): "the same for each item, whose KPI is named by an id or code that exists",
    ("POST", "sessions/"): "a session is scheduled in the future (now moves on)",
    ("POST", "action-items/"): "the due date is today or later",
    ("POST", "cadences/"): "a weekly cadence needs its weekday, a monthly one its week of the month",
    ("PATCH", "cadences/{id}/"): "the same rules, and a cadence stays with its unit",
    ("GET", "scores/"): "a period with stored scores, starting a period of its kind in the organization's fiscal year",
    ("GET", "heat-map/"): "the same as scores/",
    ("GET", "dashboard/"): "the same as scores/; left out, the period now due must hold stored scores",
    ("POST", "review-packs/"): "a period with stored scores, starting a period of its kind; a unit with a strategy map",
    ("POST", "period-closes/"): "a month that has begun and is not closed yet over the unit",
    ("POST", "period-closes/{id}/reopen/"): "a close not reopened yet; a reason that is not blank",
}
ORG = "/api/v1/o/{org_slug}/"

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "parameters": {"org_slug": "acme"},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "no-shrink": True, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "operations": [
            {
                "include-method": method,
                "include-path": ORG + path,
                "checks": {"positive_data_acceptance": {"enabled": False}},
            }
            for method, path in STATEFUL_RULES
        ],
    }
)
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)
# The API also takes a JSON number for a decimal (tests/integration/test_api_input.py), read by its shortest
# form; JSON Schema cannot say "at most 6 decimals" of a binary float, so the schema describes the string form
# and a number generated for a decimal is sent as that string.
DECIMALS = {
    name
    for component_name, component in schema.raw_schema["components"]["schemas"].items()
    if component_name.endswith("Request")  # request bodies only: an answer's decimal `progress` is no body field
    for name, field in component.get("properties", {}).items()
    if field.get("format") == "decimal"
}

# Which kind of object each field of a request body names, per resource (the path's first word after the slug).
BODY_REFS = {
    "units": {"parent": "units", "head": "users"},
    "kpis": {"unit": "units", "owner": "users", "objective": None, "aligned_to": None},
    "targets": {"kpi": "kpis"},
    "measurements": {"kpi": "kpis"},
    "perspectives": {"scorecard": "scorecards"},
    "objectives": {"perspective": "perspectives", "owner": "users", "aligned_to": None},
    "links": {"source": "objectives", "target": "objectives"},
    "initiatives": {"objective": "objectives", "owner": "users"},
    "sessions": {"unit": "units", "coach": "users", "participants": "users", "kpis": "kpis"},
    "action-items": {
        "owner": "users",
        "unit": "units",
        "session": "sessions",
        "kpi": "kpis",
        "objective": "objectives",
        "initiative": "initiatives",
    },  # fmt: skip
    "cadences": {"unit": "units", "coach": "users", "participants": "users"},
    "scorecards": {"order": "perspectives"},
    "review-packs": {"unit": "units"},
    "period-closes": {"unit": "units"},
}
QUERY_REFS = {
    "unit": "units", "kpi": "kpis", "scorecard": "scorecards", "objective": "objectives", "session": "sessions",
    "cadence": "cadences", "owner": "users",
}  # fmt: skip

WORLD: dict = {}  # the running test's ids, read by the hook below
TALLY: Counter = Counter()


def _real(kind: str, value, *, foreign: bool = False):
    """A real id of the kind for a generated integer (the same integer always picks the same id)."""
    if kind is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    pool = WORLD["ids"][kind] + (WORLD["foreign"].get(kind, []) if foreign else [])
    return pool[value % len(pool)]


def swap_ids(context, case, kwargs):
    """Schemathesis' `before_call` hook: generated ids become real ones (it re-checks whether the case is still
    valid or invalid after the swap). A path id stays as generated one time in five (a 404)."""
    if not WORLD:
        return
    resource = case.operation.path.split("/")[5] if case.operation.path.count("/") > 5 else ""
    path_id = case.path_parameters.get("id") if case.path_parameters else None
    if isinstance(path_id, int) and path_id % 5 and resource in WORLD["ids"]:
        case.path_parameters["id"] = _real(resource, path_id, foreign=True)
    items = case.body if isinstance(case.body, list) else [case.body]
    for body in (item for item in items if isinstance(item, dict)):
        for field, kind in BODY_REFS.get(resource, {}).items():
            value = body.get(field)
            if isinstance(value, list):
                body[field] = [_real(kind, item) for item in value]
            elif field in body:
                body[field] = _real(kind, value)
        for field in DECIMALS & set(body):
            if isinstance(body[field], int | float) and not isinstance(body[field], bool):
                body[field] = format(Decimal(str(body[field])), "f")
    for name, value in (case.query or {}).items():
        if name in QUERY_REFS and isinstance(value, int) and value % 2:
            case.query[name] = _real(QUERY_REFS[name], value, foreign=True)


def no_other_organizations_data(ctx, response, case):
    """Schemathesis check: nothing of organization B (each of its names says "Globex") reaches A's admin."""
    if b"globex" in response.content.lower():
        raise AssertionError("The answer holds organization B's data")


def _build(org, *, unit, admin, member, code: str) -> dict[str, list[int]]:
    """A little of everything in one organization, named after `code`; the ids a request could name."""
    with organization_scope(org):
        scorecard = Scorecard.objects.for_organization(org).get(unit=unit)
        perspectives = Perspective.objects.for_organization(org).filter(scorecard=scorecard).order_by("order")
        first = strategy.objective_create(perspective=perspectives[0], name=f"{code} grow", owner=admin)
        second = strategy.objective_create(perspective=perspectives[1], name=f"{code} keep", x=200)
        link = strategy.link_create(source=first, target=second)
        initiative = strategy.initiative_create(
            objective=first, name=f"{code} plan", start=date(2026, 1, 1), end=date(2026, 12, 31)
        )
        kpi = kpi_services.kpi_create(unit=unit, name=f"{code} orders", code=code.upper(), baseline=Decimal(100))
        month = date(2026, 1, 1)
        target = kpi_services.target_create(kpi=kpi, period=month, value=Decimal(200))
        measurement = kpi_services.measurement_record(
            kpi=kpi, period=month, value=Decimal(150), by=admin, schedule=False
        )
        session = coaching_services.session_schedule(
            unit=unit, coach=admin, kind="check_in", scheduled_at=timezone.now() + timedelta(days=3)
        )
        item = coaching_services.action_item_create(
            organization=org, title=f"{code} fix", owner=member, due_date=org_calendar.today(org) + timedelta(days=7),
            created_by=admin, session=session,
        )  # fmt: skip
        cadence = cadences.cadence_create(
            unit=unit, coach=admin, kind="monthly_review", frequency="weekly", weekday=2, time_of_day=time(9),
            starts_on=org_calendar.today(org), created_by=admin,
        )  # fmt: skip
    return {
        "scorecards": [scorecard.pk],
        "perspectives": [p.pk for p in perspectives],
        "objectives": [first.pk, second.pk],
        "links": [link.pk],
        "initiatives": [initiative.pk],
        "kpis": [kpi.pk],
        "targets": [target.pk],
        "measurements": [measurement.pk],
        "sessions": [session.pk],
        "action-items": [item.pk],
        "cadences": [cadence.pk],
    }


@pytest.fixture(scope="module", autouse=True)
def budget():
    """Swaps ids while the module runs; when every operation ran, the run had its budget."""
    schemathesis.hook("before_call")(swap_ids)
    yield
    schemathesis.hooks.GLOBAL_HOOK_DISPATCHER.unregister(swap_ids)
    operations = {result.ok().label for result in schema.get_all_operations()}
    print(f"\nschemathesis: {sum(TALLY.values())} cases over {len(TALLY)} of {len(operations)} operations")
    if set(TALLY) >= operations:
        assert sum(TALLY.values()) >= MIN_CASES
        assert min(TALLY.values()) >= EXAMPLES_PER_OPERATION // 2, TALLY.most_common()[-1]


@pytest.fixture(scope="module")
def api_world(django_db_setup, django_db_blocker):
    """Organizations A and B with a little of everything, built once for the module and committed (each
    operation's test then runs in a transaction of its own, rolled back after it), removed at the end."""
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), clock.travel(), fast_hashing:
        org_a = factories.make_organization("acme", name="Acme Manufacturing")
        org_b = factories.make_organization("globex", name="Globex")
        admin, member_b = (Membership.objects.for_organization(org).get().user for org in (org_a, org_b))
        viewer = factories.add_member(org_a, Role.VIEWER).user
        coach = factories.add_member(org_a, Role.COACH).user
        company = factories.root_unit(org_a)
        division = factories.make_unit(org_a, "Operations", parent=company)
        department = factories.make_unit(org_a, "Assembly", parent=division)
        unit_b = factories.make_unit(org_b, "Globex Sales")
        ids = _build(org_a, unit=division, admin=admin, member=coach, code="ORD")
        foreign = _build(org_b, unit=unit_b, admin=member_b, member=member_b, code="Globex")
        ids["units"], foreign["units"] = [company.pk, division.pk, department.pk], [unit_b.pk]
        ids["members"] = [factories.membership_of(user, org_a).pk for user in (admin, viewer, coach)]
        foreign["members"] = [factories.membership_of(member_b, org_b).pk]
        ids["users"] = [admin.pk, viewer.pk, coach.pk]
        _token, key = services.personal_token_create(user=admin, name="schemathesis")
    WORLD.update(ids=ids, foreign=foreign)
    yield {"Authorization": f"Bearer {key}"}
    WORLD.clear()
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def in_test_transaction(api_world, db):
    """Requests reach the WSGI application in this thread, inside the test's transaction; Django would close the
    connection at each request's start and end (its test client unhooks the same two receivers)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield api_world
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, in_test_transaction):
    TALLY[case.operation.label] += 1
    case.call_and_validate(headers=in_test_transaction, additional_checks=[no_other_organizations_data])
