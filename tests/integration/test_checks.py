"""The cascade consistency checks (kpis/checks.py): each rule on a small tree, failing and passing; the checklist
page and the API, scoped to the organization; the number of queries does not grow with the units. The rules read
the current fiscal year and the periods now due, so these tests happen on a fixed day (18 Nov 2026, fiscal year =
calendar year: the month now due is Oct 2026) whatever BSC_TEST_NOW says."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bsc import strategy
from bsc.models import Objective, Perspective
from bsc.tenancy import organization_scope
from kpis import checks, services
from kpis.models import Kpi
from tests import factories

D = Decimal
API = "/api/v1/o/acme/checks/"


@pytest.fixture(autouse=True)
def fixed_day():
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        yield


@pytest.fixture
def scope(world):
    with organization_scope(world.org_a):
        yield world


def objective(unit, name, aligned_to=None):
    band = Perspective.objects.get(scorecard__unit=unit, name="Customer")
    return strategy.objective_create(perspective=band, name=name, aligned_to=aligned_to)


def kpi(unit, code, goal=None, *, owner=None, **fields):
    fields.setdefault("baseline", D(0))
    return services.kpi_create(unit=unit, name=f"{code} name", code=code, objective=goal, owner=owner, **fields)


def target(item, value, by, fiscal_year=2026):
    services.target_set_year(
        kpi=item, fiscal_year=fiscal_year, mode="same", value=D(value), by=by, reason="Corrected in the test"
    )


def messages(rule_key, organization):
    rules = {rule.key: rule for rule in checks.consistency_checks(organization=organization)}
    return [item.message for item in rules[rule_key].items]


# --- Targets of roll-ups ---------------------------------------------------------------------------------------


def test_combine_follows_the_rollup_methods():
    pairs = [(D(100), D(2)), (D(40), D(1))]
    assert checks.combine("sum", pairs) == D(140)
    assert checks.combine("average", pairs) == D(70)
    assert checks.combine("weighted_average", pairs) == D(80)
    assert checks.combine("weighted_average", [(D(100), D(0)), (D(40), D(0))]) == D(70)  # all 0: plain average


def test_adds_up_allows_half_a_percent_or_half_the_last_decimal():
    assert checks.adds_up(D("1004.9"), D(1000), 1)  # 0.49% off
    assert not checks.adds_up(D("1005.1"), D(1000), 1)
    assert checks.adds_up(D("10.04"), D(10), 1)  # half of 0.1 beats 0.5% of 10
    assert not checks.adds_up(D("10.06"), D(10), 1)


def rollup_tree(world, method="sum", weights=(1, 1)):
    admin = world.admin_a
    div = kpi(world.division_a, "DIV", source="rollup", rollup_method=method, owner=admin)
    first = kpi(world.department_a, "SPD", aligned_to=div, weight=D(weights[0]), owner=admin)
    second = kpi(world.department_a, "QLT", aligned_to=div, weight=D(weights[1]), owner=admin)
    return div, first, second


def test_a_sum_rollup_whose_children_targets_do_not_add_up_is_listed(scope):
    div, speed, quality = rollup_tree(scope)
    target(div, 150, scope.admin_a)
    target(speed, 100, scope.admin_a)
    target(quality, 60, scope.admin_a)
    assert messages("rollup_targets", scope.org_a) == [
        "DIV · DIV name: its aligned KPIs' targets add up to 160, not its target of 150 (Jan 2026); 12 periods do "
        "not match: Jan 2026, Feb 2026, Mar 2026 and 9 more."
    ]
    target(quality, 50, scope.admin_a)
    assert messages("rollup_targets", scope.org_a) == []


def test_an_average_rollup_is_checked_against_the_average(scope):
    div, speed, quality = rollup_tree(scope, method="average")
    target(div, 80, scope.admin_a)
    target(speed, 100, scope.admin_a)
    target(quality, 50, scope.admin_a)
    assert messages("rollup_targets", scope.org_a)[0].startswith(
        "DIV · DIV name: its aligned KPIs' targets average 75, not its target of 80 (Jan 2026)"
    )
    target(div, 75, scope.admin_a)
    assert messages("rollup_targets", scope.org_a) == []


def test_a_weighted_average_rollup_weighs_the_children_by_their_kpi_weight(scope):
    div, speed, quality = rollup_tree(scope, method="weighted_average", weights=(3, 1))
    target(div, 75, scope.admin_a)  # the plain average: wrong here
    target(speed, 100, scope.admin_a)
    target(quality, 50, scope.admin_a)
    assert messages("rollup_targets", scope.org_a)[0].startswith(
        "DIV · DIV name: its aligned KPIs' targets make, as a weighted average, 87.5, not its target of 75"
    )
    target(div, D("87.5"), scope.admin_a)
    assert messages("rollup_targets", scope.org_a) == []


def test_periods_before_this_fiscal_year_and_with_a_child_missing_a_target_are_not_compared(scope):
    div, speed, quality = rollup_tree(scope)
    target(div, 150, scope.admin_a, fiscal_year=2025)
    target(speed, 100, scope.admin_a, fiscal_year=2025)
    target(quality, 60, scope.admin_a, fiscal_year=2025)
    target(div, 150, scope.admin_a)
    target(speed, 100, scope.admin_a)  # QLT has none in 2026: the missing-target rule says so
    assert messages("rollup_targets", scope.org_a) == []
    assert messages("kpis_without_target", scope.org_a) == ["QLT · QLT name has no target for 2026."]


# --- Objectives, owners, targets, values ------------------------------------------------------------------------


def test_an_objective_nothing_scores_is_listed(scope):
    top = objective(scope.company_a, "Grow")
    objective(scope.company_a, "Delight customers")
    middle = objective(scope.division_a, "Deliver", aligned_to=top)
    kpi(scope.division_a, "OTD", middle, owner=scope.admin_a)
    assert messages("objectives_without_kpis", scope.org_a) == [
        "“Delight customers” has no KPI and no sub-unit objective aligned to it: nothing scores it."
    ]


def test_a_manual_kpi_without_owner_is_listed_a_computed_one_is_not(scope):
    kpi(scope.company_a, "NOB")
    kpi(scope.company_a, "OWN", owner=scope.admin_a)
    kpi(scope.company_a, "SUM", source="rollup", rollup_method="sum")
    assert messages("kpis_without_owner", scope.org_a) == [
        "NOB · NOB name has no owner: nobody is reminded to enter its values."
    ]


def test_a_kpi_with_targets_only_in_another_fiscal_year_is_listed(scope):
    old = kpi(scope.company_a, "OLD", owner=scope.admin_a)
    new = kpi(scope.company_a, "NEW", owner=scope.admin_a)
    target(old, 10, scope.admin_a, fiscal_year=2025)
    target(new, 10, scope.admin_a)
    assert messages("kpis_without_target", scope.org_a) == ["OLD · OLD name has no target for 2026."]


def test_a_kpi_without_values_in_its_last_three_periods_due_is_listed(scope):
    admin = scope.admin_a
    stale = kpi(scope.company_a, "STL", owner=admin)
    fresh = kpi(scope.company_a, "FRS", owner=admin)
    quarterly = kpi(scope.company_a, "QRT", owner=admin, frequency="quarterly")
    services.measurement_record(kpi=stale, period=date(2026, 7, 1), value=D(1), by=admin, schedule=False)
    services.measurement_record(kpi=fresh, period=date(2026, 8, 1), value=D(1), by=admin, schedule=False)
    services.measurement_record(kpi=quarterly, period=date(2026, 1, 1), value=D(1), by=admin, schedule=False)
    assert messages("kpis_without_values", scope.org_a) == [
        "STL · STL name has no value for its last three periods (Aug 2026 to Oct 2026)."
    ]
    Kpi.objects.filter(pk=quarterly.pk).update(frequency="annual")  # years 2023-2025: none
    assert messages("kpis_without_values", scope.org_a) == [
        "QRT · QRT name has no value for its last three periods (2023 to 2025).",
        "STL · STL name has no value for its last three periods (Aug 2026 to Oct 2026).",
    ]
    # Each links to where the value is entered: its unit's data-entry page for the month its latest period is due.
    with organization_scope(scope.org_a):
        links = {
            item.object_id: (item.fix_url, item.fix_label)
            for item in checks.kpis_without_values(organization=scope.org_a)
        }
    entry = f"/o/{scope.org_a.slug}/data-entry/?period="
    assert links == {
        stale.pk: (f"{entry}2026-10&unit={scope.company_a.pk}#value-{stale.pk}", "Enter its value"),
        quarterly.pk: (f"{entry}2025-12&unit={scope.company_a.pk}#value-{quarterly.pk}", "Enter its value"),
    }


def test_the_last_due_periods_follow_the_frequency_and_the_fiscal_year(scope):
    assert checks.last_due_periods(scope.org_a, 1) == [date(2026, 10, 1), date(2026, 9, 1), date(2026, 8, 1)]
    assert checks.last_due_periods(scope.org_a, 3) == [date(2026, 7, 1), date(2026, 4, 1), date(2026, 1, 1)]
    scope.org_a.fiscal_year_start_month = 4
    assert checks.last_due_periods(scope.org_a, 3) == [date(2026, 7, 1), date(2026, 4, 1), date(2026, 1, 1)]
    assert checks.last_due_periods(scope.org_a, 12) == [date(2025, 4, 1), date(2024, 4, 1), date(2023, 4, 1)]


# --- The tree and the maps ---------------------------------------------------------------------------------------


def test_an_alignment_that_skips_a_level_is_listed(scope):
    top = objective(scope.company_a, "Grow")
    middle = objective(scope.division_a, "Deliver", aligned_to=top)
    bottom = objective(scope.department_a, "Assemble well", aligned_to=middle)
    assert messages("alignments_skipping_a_level", scope.org_a) == []
    Objective.objects.filter(pk=bottom.pk).update(aligned_to=top)  # as data from before the rule, or an import
    assert messages("alignments_skipping_a_level", scope.org_a) == [
        "“Assemble well” is aligned to “Grow” of Acme Manufacturing, skipping the parent unit Operations: align it "
        "to an objective of Operations."
    ]


def test_a_map_whose_perspectives_all_weigh_zero_is_listed(scope):
    bands = Perspective.objects.filter(scorecard__unit=scope.department_a)
    bands.exclude(name="Financial").update(weight=0)
    assert messages("perspectives_weighted_zero", scope.org_a) == []
    bands.update(weight=0)
    assert messages("perspectives_weighted_zero", scope.org_a) == [
        "Every perspective of Assembly's map weighs 0, so its scorecard has no score: give at least one "
        "perspective a weight."
    ]


# --- The page, the API and the query count ------------------------------------------------------------------------


def problems_in(world, units):
    """Per unit: an objective nothing scores, a KPI with no owner, target or value, a zero-weighted map."""
    for unit in units:
        objective(unit, f"Goal of {unit.name}")
        kpi(unit, f"K{unit.pk}")
        Perspective.objects.filter(scorecard__unit=unit).update(weight=0)


def test_the_number_of_queries_does_not_grow_with_the_units(scope):
    problems_in(scope, [scope.company_a, scope.division_a])
    with CaptureQueriesContext(connection) as few:
        small = checks.consistency_checks(organization=scope.org_a)
    units = [factories.make_unit(scope.org_a, f"Team {n}", parent=scope.department_a) for n in range(5)]
    problems_in(scope, units)
    with CaptureQueriesContext(connection) as many:
        large = checks.consistency_checks(organization=scope.org_a)
    assert sum(rule.count for rule in large) == sum(rule.count for rule in small) + 5 * 5
    assert len(many) == len(few) == 7


def test_the_checklist_page_groups_the_items_by_rule_with_links_to_fix_them(scope, client, member_of_role):
    problems_in(scope, [scope.department_a])
    client.force_login(member_of_role("executive"))
    page = client.get("/o/acme/checks/").content.decode()
    assert "5 items to look at." in page
    kpi_id = Kpi.objects.get(code=f"K{scope.department_a.pk}").pk
    assert f'href="/o/acme/kpis/{kpi_id}/edit/"' in page
    assert f'href="/o/acme/map/{scope.department_a.pk}/"' in page
    assert "Executives and admins fix these items" not in page


def test_a_coach_and_a_viewer_may_read_the_checklist_another_organization_may_not(world, client, member_of_role):
    for role in ("coach", "viewer"):
        client.force_login(member_of_role(role))
        response = client.get("/o/acme/checks/")
        assert response.status_code == 200
        assert "Executives and admins fix these items; you may read the list." in response.content.decode()
    client.force_login(world.member_b)
    assert client.get("/o/acme/checks/").status_code == 404


def test_the_api_answers_every_rule_with_counts_and_items(scope):
    problems_in(scope, [scope.department_a])
    client = APIClient()
    client.force_login(scope.admin_a)
    body = client.get(API).json()
    assert body["total"] == 5
    assert [rule["key"] for rule in body["rules"]] == list(checks.RULES)
    owners = next(rule for rule in body["rules"] if rule["key"] == "kpis_without_owner")
    kpi_id = Kpi.objects.get(code=f"K{scope.department_a.pk}").pk
    assert owners["count"] == 1
    assert owners["items"] == [
        {
            "message": f"K{scope.department_a.pk} · K{scope.department_a.pk} name has no owner: nobody is reminded "
            "to enter its values.",
            "kind": "kpi",
            "object_id": kpi_id,
            "unit_id": scope.department_a.pk,
            "unit_name": "Assembly",
            "fix_url": f"/o/acme/kpis/{kpi_id}/edit/",
            "fix_label": "Edit the KPI",
        }  # fmt: skip
    ]


def test_the_api_is_404_for_another_organization_and_401_without_login(world):
    client = APIClient()
    assert client.get(API).status_code in (401, 403)
    client.force_login(world.member_b)
    assert client.get(API).status_code == 404
