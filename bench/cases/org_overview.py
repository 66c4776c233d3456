"""The organization overview page (/o/<slug>/) of an organization with 1,000 units (a tree 7 levels deep),
through the full middleware stack, against a bare view returning the same unit rows as JSON."""

from __future__ import annotations

from collections import Counter

from django.db import connection
from django.http import JsonResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.timing import interleaved_medians
from bsc import services
from bsc.models import Organization, OrgUnit, Perspective, Scorecard, User
from bsc.tenancy import organization_scope

NAME = "org_overview"
TARGET = 30  # the page may cost at most 30x the bare JSON of its rows (DESIGN.md section 9)
UNITS = 1_000
WARMUP = 3
ROUNDS = 25
MIN_ROUNDS = 5
TIME_BUDGET_S = 20  # a slow page stops after MIN_ROUNDS once this is spent
SLUG = "bench-overview"


def _make_organization() -> tuple[Organization, User]:
    """1,000 units in one bulk insert (ids come from the table's sequence, so paths are known up front)."""
    admin = User.objects.create_user("bench-admin@example.com", "bench-pass-phrase-1", full_name="Bench Admin")
    organization = services.organization_create(slug=SLUG, name="Bench Overview Inc.", admin=admin)
    root = OrgUnit.objects.for_organization(organization).get(parent__isnull=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [OrgUnit._meta.db_table, UNITS - 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    units = [root]
    for index, pk in enumerate(ids, start=1):
        parent = units[(index - 1) // 3]  # three children per unit: depths 0 to 6
        units.append(
            OrgUnit(
                id=pk,
                organization=organization,
                parent=parent,
                name=f"Unit {index:04d}",
                path=f"{parent.path}{pk}/",
                depth=parent.depth + 1,
                head=admin if index % 10 == 0 else None,
            )
        )
    with organization_scope(organization):
        OrgUnit.objects.bulk_create(units[1:], batch_size=500)
        # As org_unit_create does: every unit has its scorecard with the four classic perspectives.
        scorecards = Scorecard.objects.bulk_create(
            [Scorecard(organization=organization, unit=unit) for unit in units[1:]], batch_size=500
        )
        Perspective.objects.bulk_create(
            [
                Perspective(organization=organization, scorecard=scorecard, name=name, order=order)
                for scorecard in scorecards
                for order, name in enumerate(Perspective.CLASSIC)
            ],
            batch_size=1000,
        )
    return organization, admin


def units_json(request, organization: Organization) -> JsonResponse:
    """The baseline: a bare view returning the same unit rows as JSON."""
    return JsonResponse({"units": list(OrgUnit.objects.for_organization(organization).values("id", "name", "depth"))})


def run() -> dict:
    organization, admin = _make_organization()
    client = Client()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("org_overview", args=[organization.slug])
    request = RequestFactory().get("/units.json")
    request.user = admin

    def measured():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    def baseline():
        response = units_json(request, organization)
        assert response.status_code == 200, response.status_code
        return response

    page, data = measured(), baseline()
    assert f"Unit {UNITS - 1:04d}" in page.content.decode(), "the page does not list every unit"
    assert len(data.content) > 0
    baseline_s, measured_s = interleaved_medians(
        baseline, measured, warmup=WARMUP, rounds=ROUNDS, min_rounds=MIN_ROUNDS, budget_s=TIME_BUDGET_S
    )
    with CaptureQueriesContext(connection) as page_queries:
        measured()
    with CaptureQueriesContext(connection) as baseline_queries:
        baseline()
    return {
        "baseline_s": baseline_s,
        "measured_s": measured_s,
        "figures": {
            "units": OrgUnit.objects.for_organization(organization).count(),
            "scorecards": Scorecard.objects.for_organization(organization).count(),
            "max_depth": max(unit.depth for unit in OrgUnit.objects.for_organization(organization).only("depth")),
            "queries": len(page_queries),
            "most_repeated_query": Counter(q["sql"] for q in page_queries.captured_queries).most_common(1)[0][1],
            "baseline_queries": len(baseline_queries),
            "html_kb": round(len(page.content) / 1024, 1),
            "json_kb": round(len(data.content) / 1024, 1),
        },
    }
