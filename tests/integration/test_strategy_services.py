"""Strategy-map services: the rules of the map, each refused with a message that says why."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bsc import services, strategy
from bsc.models import CauseEffectLink, Objective, Perspective, Scorecard
from bsc.tenancy import organization_scope


@pytest.fixture
def scope_a(world):
    with organization_scope(world.org_a):
        yield


def band(unit, name="Customer") -> Perspective:
    return Perspective.objects.get(scorecard__unit=unit, name=name)


def messages(error: ValidationError) -> list[str]:
    return error.messages


def test_a_new_unit_gets_a_scorecard_with_the_four_classic_perspectives(world, scope_a):
    scorecard = Scorecard.objects.get(unit=world.department_a)
    assert list(scorecard.perspectives.values_list("name", "order")) == [
        ("Financial", 0),
        ("Customer", 1),
        ("Internal Process", 2),
        ("Learning & Growth", 3),
    ]


def test_objectives_and_links_are_created_and_the_version_grows(world, scope_a):
    scorecard = Scorecard.objects.get(unit=world.company_a)
    a = strategy.objective_create(perspective=band(world.company_a), name="Delight customers", version=1)
    b = strategy.objective_create(perspective=band(world.company_a, "Financial"), name="Grow revenue", version=2)
    strategy.link_create(source=a, target=b, version=3)
    scorecard.refresh_from_db()
    assert scorecard.version == 4
    assert [str(link) for link in CauseEffectLink.objects.all()] == ["Delight customers → Grow revenue"]


def test_a_stale_edit_is_refused_and_changes_nothing(world, scope_a):
    strategy.objective_create(perspective=band(world.company_a), name="First", version=1)
    with pytest.raises(strategy.StaleMapError) as error:
        strategy.objective_create(perspective=band(world.company_a), name="Second", version=1)
    assert error.value.current_version == 2
    assert "Someone else changed this map since you loaded it" in messages(error.value)[0]
    assert list(Objective.objects.values_list("name", flat=True)) == ["First"]


def test_self_duplicate_and_cycle_links_are_refused(world, scope_a):
    p = band(world.company_a)
    a = strategy.objective_create(perspective=p, name="A")
    b = strategy.objective_create(perspective=p, name="B")
    c = strategy.objective_create(perspective=p, name="C")
    with pytest.raises(ValidationError) as error:
        strategy.link_create(source=a, target=a)
    assert messages(error.value) == ["An objective cannot drive itself."]
    strategy.link_create(source=a, target=b)
    strategy.link_create(source=b, target=c)
    with pytest.raises(ValidationError) as error:
        strategy.link_create(source=a, target=b)
    assert messages(error.value) == ["“A” already drives “B”."]
    with pytest.raises(ValidationError) as error:
        strategy.link_create(source=c, target=a)
    assert messages(error.value) == ["This arrow would close a cycle: “A” already leads back to “C”."]
    assert CauseEffectLink.objects.count() == 2


def test_a_link_across_two_maps_is_refused(world, scope_a):
    a = strategy.objective_create(perspective=band(world.company_a), name="Company goal")
    b = strategy.objective_create(perspective=band(world.division_a), name="Division goal")
    with pytest.raises(ValidationError) as error:
        strategy.link_create(source=b, target=a)
    assert messages(error.value) == ["Both objectives must be on the same map."]


def test_alignment_only_to_the_parent_units_map(world, scope_a):
    company_goal = strategy.objective_create(perspective=band(world.company_a), name="Company goal")
    division_goal = strategy.objective_create(
        perspective=band(world.division_a), name="Division goal", aligned_to=company_goal
    )
    assert division_goal.aligned_to == company_goal
    with pytest.raises(ValidationError) as error:
        strategy.objective_create(perspective=band(world.department_a), name="Dept goal", aligned_to=company_goal)
    assert messages(error.value) == ["“Company goal” is not on the parent unit's map (Operations)."]


def test_empty_and_over_long_names_are_refused(world, scope_a):
    with pytest.raises(ValidationError) as error:
        strategy.objective_create(perspective=band(world.company_a), name="   ")
    assert error.value.message_dict == {"name": ["This field cannot be blank."]}
    with pytest.raises(ValidationError) as error:
        strategy.objective_create(perspective=band(world.company_a), name="x" * 121)
    assert error.value.message_dict == {"name": ["Ensure this value has at most 120 characters (it has 121)."]}
    assert Objective.objects.count() == 0


def test_a_department_map_starts_as_a_copy_of_its_parent(world, scope_a):
    p = band(world.division_a)
    a = strategy.objective_create(perspective=p, name="Cut lead time", x=40)
    b = strategy.objective_create(perspective=band(world.division_a, "Financial"), name="Lower cost")
    strategy.link_create(source=a, target=b)
    department = Scorecard.objects.get(unit=world.department_a)
    assert strategy.scorecard_copy_parent_structure(scorecard=department) == 2
    copies = {o.name: o for o in Objective.objects.filter(scorecard=department)}
    assert copies["Cut lead time"].aligned_to == a and copies["Cut lead time"].x == 40
    assert [str(link) for link in CauseEffectLink.objects.filter(scorecard=department)] == [
        "Cut lead time → Lower cost"
    ]
    with pytest.raises(ValidationError) as error:
        strategy.scorecard_copy_parent_structure(scorecard=department)
    assert messages(error.value) == ["This map already has objectives; only an empty map can start as a copy."]


def test_a_perspective_with_objectives_cannot_be_deleted(world, scope_a):
    p = band(world.company_a)
    strategy.objective_create(perspective=p, name="Delight customers")
    with pytest.raises(ValidationError) as error:
        strategy.perspective_delete(perspective=p)
    assert messages(error.value) == ["“Customer” still holds 1 objective; move or delete them first."]


def test_a_unit_whose_map_has_objectives_cannot_be_deleted(world, scope_a):
    strategy.objective_create(perspective=band(world.department_a), name="Zero defects")
    with pytest.raises(ValidationError) as error:
        services.org_unit_delete(unit=world.department_a)
    assert messages(error.value) == [
        "“Assembly” cannot be deleted: its strategy map has 1 objective; delete or move them first."
    ]


def test_an_objective_served_by_a_kpi_with_data_cannot_be_deleted(world, scope_a):
    from kpis import services as kpi_services

    objective = strategy.objective_create(perspective=band(world.company_a), name="Delight customers")
    kpi = kpi_services.kpi_create(
        unit=world.company_a, name="NPS", code="NPS", baseline=Decimal(0), objective=objective
    )
    kpi_services.measurement_record(
        kpi=kpi, period=date(2026, 3, 1), value=Decimal(40), by=world.admin_a, schedule=False
    )
    with pytest.raises(ValidationError) as error:
        strategy.objective_delete(objective=objective)
    assert messages(error.value) == [
        "“Delight customers” cannot be deleted: it has 1 KPI with data; move or archive them first."
    ]


def test_the_alignment_count_of_a_unit_counts_its_aligned_objectives_and_kpis(world, scope_a):
    from bsc.selectors import org_unit_alignment_count
    from kpis import services as kpi_services

    parent_objective = strategy.objective_create(perspective=band(world.company_a), name="Grow")
    strategy.objective_create(perspective=band(world.division_a), name="Sell more", aligned_to=parent_objective)
    top = kpi_services.kpi_create(
        unit=world.company_a, name="TOP", code="TOP", source="rollup", rollup_method="sum", baseline=Decimal(0)
    )
    kpi_services.kpi_create(unit=world.division_a, name="OPS", code="OPS", baseline=Decimal(0), aligned_to=top)
    assert org_unit_alignment_count(unit=world.division_a) == 2


def test_the_map_shows_each_objectives_stored_status_for_the_month_now_due(world, scope_a):
    from bsc.org_calendar import due_month, fiscal_year_of
    from bsc.selectors import strategy_map
    from kpis import services as kpi_services
    from kpis.recompute import scores_recompute_full

    objective = strategy.objective_create(perspective=band(world.company_a), name="Delight customers")
    strategy.objective_create(perspective=band(world.company_a, "Financial"), name="Grow")
    kpi = kpi_services.kpi_create(
        unit=world.company_a, name="NPS", code="NPS", baseline=Decimal(0), objective=objective
    )
    due = due_month(world.org_a)
    year = fiscal_year_of(due, world.org_a.fiscal_year_start_month)
    kpi_services.target_set_year(kpi=kpi, fiscal_year=year, mode="same", value=Decimal(50), by=world.admin_a)
    kpi_services.measurement_record(kpi=kpi, period=due, value=Decimal(50), by=world.admin_a, schedule=False)
    scores_recompute_full(organization=world.org_a)
    cards = {o["name"]: (o["status"], o["score"]) for o in strategy_map(scorecard=objective.scorecard)["objectives"]}
    assert cards == {"Delight customers": ("green", "1.0000"), "Grow": ("grey", None)}
