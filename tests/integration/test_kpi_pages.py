"""The KPI pages: the list, the definition form, the KPI page with its chart, values, recalibrations and
history, and the target forms. Every mutating endpoint gets the trio: it works; another organization's KPI
gives 404; a role that may not change KPIs gets 403 and nothing changes."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bsc.models import Role
from bsc.org_calendar import current_fiscal_year, month_shift, this_month
from bsc.tenancy import organization_scope
from kpis import services
from kpis.kpi_display import chart_data, kpi_page, zone_edges
from kpis.models import Kpi, Measurement, Target, TargetRecalibration
from kpis.recompute import scores_recompute
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def kpis_of(org):
    return Kpi.objects.for_organization(org)


def make_kpi(unit, code="OTD", **fields):
    fields.setdefault("name", "On-time delivery")
    fields.setdefault("baseline", Decimal(80))
    fields.setdefault("measurement_unit", "%")
    with organization_scope(unit.organization_id):
        return services.kpi_create(unit=unit, code=code, **fields)


@pytest.fixture
def kpi(world):
    return make_kpi(world.company_a)


@pytest.fixture
def kpi_b(world):
    return make_kpi(world.unit_b, code="GLX")


@pytest.fixture
def executive(world):
    return factories.add_member(world.org_a, Role.EXECUTIVE).user


@pytest.fixture
def exec_client(client, executive):
    client.force_login(executive)
    return client


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin_a)
    return client


@pytest.fixture
def viewer_client(client, world):
    client.force_login(world.viewer_a)
    return client


def fiscal_year(org) -> int:
    return current_fiscal_year(org)


def set_targets(kpi, by, value=100):
    with organization_scope(kpi.organization_id):
        return services.target_set_year(
            kpi=kpi, fiscal_year=fiscal_year(kpi.organization), mode="same", value=Decimal(value), by=by
        )


KPI_POST = {
    "name": "Scrap rate",
    "code": "SCRAP",
    "description": "Share of parts scrapped.",
    "measurement_unit": "%",
    "decimals": "2",
    "direction": "decrease",
    "baseline": "4.5",
    "band_low": "",
    "band_high": "",
    "band_tolerance": "",
    "green_threshold": "",
    "amber_threshold": "",
    "weight": "2",
    "frequency": "monthly",
    "owner": "",
    "source": "manual",
    "formula": "",
    "rollup_method": "",
    "aligned_to": "",
    "time_aggregation": "average",
    "objective": "",
}


# --- The list --------------------------------------------------------------------------------------------


def test_the_kpi_list_groups_kpis_by_unit_for_every_member(viewer_client, world, kpi):
    make_kpi(world.department_a, code="ASM.YIELD", name="First-pass yield", objective=None)
    make_kpi(world.unit_b, code="SECRET", name="Globex secret")
    response = viewer_client.get(url("kpi_index"))
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [(g["unit"].name, [k.code for k in g["kpis"]]) for g in groups] == [
        ("Acme Manufacturing", ["OTD"]),
        ("Assembly", ["ASM.YIELD"]),
    ]
    html = response.content.decode()
    assert "On-time delivery" in html and "Globex secret" not in html
    assert "New KPI" not in html  # viewers read only


def test_the_kpi_list_filters_by_unit_and_shows_archived_kpis_on_request(admin_client, world, kpi):
    other = make_kpi(world.department_a, code="ASM.YIELD", name="First-pass yield")
    with organization_scope(world.org_a):
        services.kpi_archive(kpi=other)
    response = admin_client.get(url("kpi_index"), {"unit": world.department_a.pk})
    assert response.context["groups"] == []
    assert "No KPIs yet in Assembly." in response.content.decode()
    response = admin_client.get(url("kpi_index"), {"unit": world.department_a.pk, "archived": "1"})
    assert [k.code for g in response.context["groups"] for k in g["kpis"]] == ["ASM.YIELD"]
    assert "New KPI" in admin_client.get(url("kpi_index")).content.decode()


# --- Creating and editing KPIs --------------------------------------------------------------------------


def test_an_executive_creates_a_kpi_through_the_form(exec_client, world, executive):
    response = exec_client.get(url("kpi_create"), {"unit": world.division_a.pk})
    assert response.status_code == 200
    data = {**KPI_POST, "owner": str(executive.pk), "green_threshold": "95", "amber_threshold": "75"}
    response = exec_client.post(url("kpi_create") + f"?unit={world.division_a.pk}", data)
    kpi = kpis_of(world.org_a).get(code="SCRAP")
    assert response.status_code == 302
    assert response.url == url("kpi_detail", pk=kpi.pk)
    assert flashes(response) == ["KPI SCRAP “Scrap rate” created in Operations."]
    assert (kpi.unit_id, kpi.name, kpi.direction, kpi.baseline, kpi.decimals, kpi.weight, kpi.owner_id) == (
        world.division_a.pk, "Scrap rate", "decrease", Decimal("4.5"), 2, Decimal(2), executive.pk
    )  # fmt: skip
    assert (kpi.green_threshold, kpi.amber_threshold) == (Decimal("0.95"), Decimal("0.75"))


def test_the_new_kpi_page_asks_for_the_unit_first(admin_client):
    response = admin_client.get(url("kpi_create"))
    assert response.status_code == 200
    assert [label.strip() for _, label in response.context["unit_choices"]] == [
        "Acme Manufacturing",
        "Operations",
        "Assembly",
    ]


def test_creating_a_kpi_in_another_organizations_unit_is_not_found(admin_client, world):
    response = admin_client.post(url("kpi_create") + f"?unit={world.unit_b.pk}", KPI_POST)
    assert response.status_code == 404
    assert not Kpi.objects.for_organization(world.org_b).exists()


def test_a_viewer_may_not_create_a_kpi(viewer_client, world):
    assert viewer_client.get(url("kpi_create"), {"unit": world.company_a.pk}).status_code == 403
    response = viewer_client.post(url("kpi_create") + f"?unit={world.company_a.pk}", KPI_POST)
    assert response.status_code == 403
    assert not kpis_of(world.org_a).exists()


def test_an_admin_edits_a_kpi(admin_client, world, kpi):
    response = admin_client.get(url("kpi_edit", pk=kpi.pk))
    assert response.context["form"]["baseline"].value() == "80"
    data = {**KPI_POST, "name": "On-time delivery (all sites)", "code": "OTD", "direction": "increase"}
    data["baseline"] = "82.5"
    response = admin_client.post(url("kpi_edit", pk=kpi.pk), data)
    assert response.status_code == 302
    assert flashes(response) == ["KPI OTD “On-time delivery (all sites)” saved."]
    kpi.refresh_from_db()
    assert (kpi.name, kpi.baseline, kpi.weight, kpi.decimals) == (
        "On-time delivery (all sites)", Decimal("82.5"), Decimal(2), 2
    )  # fmt: skip


def test_the_frequency_of_a_kpi_holding_values_or_targets_cannot_change(admin_client, world, kpi):
    set_targets(kpi, world.admin_a, 90)
    record_months(kpi, world.admin_a, 9)
    data = {**KPI_POST, "code": "OTD", "direction": "increase", "baseline": "80", "frequency": "annual"}
    response = admin_client.post(url("kpi_edit", pk=kpi.pk), data)
    assert response.status_code == 200
    message = (
        "OTD holds 9 monthly values and 12 targets; its frequency cannot change while it has them. "
        "Archive it and create a new KPI with the new frequency."
    )
    assert response.context["form"].errors["frequency"] == [message]
    page = response.content.decode()
    assert f'id="id_frequency_error"><p class="error">{message}' in page
    # The field says it is invalid and is described by its message (what a screen reader reads on it).
    select = re.search(r'<select name="frequency"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in select
    described = re.search(r'aria-describedby="([^"]+)"', select).group(1).split()
    assert "id_frequency_error" in described and all(f'id="{ref}"' in page for ref in described)
    kpi.refresh_from_db()
    assert (kpi.frequency, kpi.name) == ("monthly", "On-time delivery")
    other = make_kpi(world.company_a, code="NEW")
    data = {**data, "code": "NEW"}
    assert admin_client.post(url("kpi_edit", pk=other.pk), data).status_code == 302
    other.refresh_from_db()
    assert other.frequency == "annual"


def test_editing_another_organizations_kpi_is_not_found(admin_client, kpi_b):
    assert admin_client.get(url("kpi_edit", pk=kpi_b.pk)).status_code == 404
    response = admin_client.post(url("kpi_edit", pk=kpi_b.pk), {**KPI_POST, "code": "GLX"})
    assert response.status_code == 404
    kpi_b.refresh_from_db()
    assert kpi_b.name == "On-time delivery"


def test_a_viewer_may_not_edit_a_kpi(viewer_client, kpi):
    response = viewer_client.post(url("kpi_edit", pk=kpi.pk), {**KPI_POST, "code": "OTD"})
    assert response.status_code == 403
    kpi.refresh_from_db()
    assert (kpi.name, kpi.baseline) == ("On-time delivery", Decimal(80))


def test_a_department_head_may_not_edit_a_kpi(client, member_of_role, kpi):
    client.force_login(member_of_role(Role.DEPARTMENT_HEAD))
    assert client.post(url("kpi_edit", pk=kpi.pk), {**KPI_POST, "code": "OTD"}).status_code == 403


def post_kpi(client, unit, **changes):
    return client.post(url("kpi_create") + f"?unit={unit.pk}", {**KPI_POST, **changes})


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"baseline": "abc"}, "baseline", "“abc” is not a number."),
        ({"baseline": ""}, "baseline", "An increase or decrease KPI needs a baseline (the value progress starts from)."),
        ({"green_threshold": "60", "amber_threshold": "80"}, "amber_threshold",
         "The amber threshold must be below the green threshold (60%)."),
        ({"amber_threshold": "95"}, "amber_threshold",
         "The amber threshold must be below the green threshold (90%, the organization's)."),
        ({"green_threshold": "50"}, "green_threshold",
         "The green threshold must be above the amber threshold (60%, the organization's)."),
        ({"direction": "band", "band_low": "10", "band_high": "5"}, "band_high",
         "The high bound must not be below the low bound (10)."),
        ({"direction": "band", "band_low": "10"}, "band_high", "A band KPI needs a high bound."),
        ({"source": "formula", "formula": "SCRAP * 2"}, "formula", "The formula refers to its own KPI 'SCRAP'."),
        ({"source": "formula", "formula": "OTD + NOPE"}, "formula", "Unknown KPI code 'NOPE'."),
        ({"source": "formula", "formula": "OTD / 0"}, "formula", "Division by zero: '0' is always 0."),
        ({"source": "formula", "formula": ""}, "formula", "A formula KPI needs a formula."),
        ({"source": "rollup"}, "rollup_method", "Choose how the child units' values are combined."),
        ({"code": "OTD"}, "code", "Another KPI of this organization already uses this code."),
        ({"code": "9LIVES"}, "code", "Start with a letter; then letters, digits, '_', '-' or '.' (it is used in formulas)."),
    ],
)  # fmt: skip
def test_bad_kpi_definitions_are_refused_with_the_message_on_the_field(
    admin_client, world, kpi, changes, field, message
):
    response = post_kpi(admin_client, world.company_a, **changes)
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert f'id="id_{field}_error"><p class="error">{message}'.replace("'", "&#x27;") in response.content.decode()
    assert list(kpis_of(world.org_a).values_list("code", flat=True)) == ["OTD"]


def test_a_formula_that_would_close_a_cycle_is_refused(admin_client, world, kpi):
    make_kpi(world.company_a, code="A", source="formula", formula="OTD * 2")
    make_kpi(world.company_a, code="B", source="formula", formula="A + 1")
    a = kpis_of(world.org_a).get(code="A")
    data = {**KPI_POST, "code": "A", "name": "A", "source": "formula", "formula": "B - 1"}
    response = admin_client.post(url("kpi_edit", pk=a.pk), data)
    assert response.context["form"].errors["formula"] == ["The formula would create a cycle: A → B → A."]
    a.refresh_from_db()
    assert a.formula == "OTD * 2"


def test_renaming_a_code_that_formulas_use_is_refused(admin_client, world, kpi):
    make_kpi(world.company_a, code="OTD2", source="formula", formula="OTD * 2")
    response = admin_client.post(url("kpi_edit", pk=kpi.pk), {**KPI_POST, "code": "DELIV", "direction": "increase"})
    assert response.context["form"].errors["code"] == ["The formulas of OTD2 use the code OTD; change them first."]


def test_a_kpi_can_contribute_to_a_kpi_of_its_parent_unit_only(admin_client, world, kpi):
    response = admin_client.get(url("kpi_create"), {"unit": world.division_a.pk})
    assert list(response.context["form"].fields["aligned_to"].queryset) == [kpi]
    response = post_kpi(admin_client, world.department_a, aligned_to=str(kpi.pk))
    assert response.context["form"].errors["aligned_to"] == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    response = post_kpi(admin_client, world.division_a, aligned_to=str(kpi.pk))
    assert response.status_code == 302
    assert kpis_of(world.org_a).get(code="SCRAP").aligned_to_id == kpi.pk


# --- Archive and restore ---------------------------------------------------------------------------------


def test_an_admin_archives_and_restores_a_kpi(admin_client, kpi):
    response = admin_client.post(url("kpi_archive", pk=kpi.pk))
    assert response.status_code == 302 and response.url == url("kpi_detail", pk=kpi.pk)
    assert flashes(response) == ["KPI OTD archived: it no longer takes values or counts in scores."]
    kpi.refresh_from_db()
    assert kpi.archived_at is not None
    admin_client.get(response.url)  # shows (and so consumes) the flash
    response = admin_client.post(url("kpi_restore", pk=kpi.pk))
    assert flashes(response) == ["KPI OTD restored."]
    kpi.refresh_from_db()
    assert kpi.archived_at is None


def test_archiving_another_organizations_kpi_is_not_found(admin_client, kpi_b):
    assert admin_client.post(url("kpi_archive", pk=kpi_b.pk)).status_code == 404
    assert admin_client.post(url("kpi_restore", pk=kpi_b.pk)).status_code == 404
    kpi_b.refresh_from_db()
    assert kpi_b.archived_at is None


def test_a_viewer_may_not_archive_or_restore_a_kpi(viewer_client, world, kpi):
    assert viewer_client.post(url("kpi_archive", pk=kpi.pk)).status_code == 403
    kpi.refresh_from_db()
    assert kpi.archived_at is None
    with organization_scope(world.org_a):
        services.kpi_archive(kpi=kpi)
    assert viewer_client.post(url("kpi_restore", pk=kpi.pk)).status_code == 403
    kpi.refresh_from_db()
    assert kpi.archived_at is not None


def test_archiving_is_a_post(admin_client, kpi):
    assert admin_client.get(url("kpi_archive", pk=kpi.pk)).status_code == 405


# --- Targets ---------------------------------------------------------------------------------------------


def year_post(org, **changes):
    return {"fiscal_year": str(fiscal_year(org)), "mode": "same", "value": "", "year_end": "", "values": "",
            "reason": "", **changes}  # fmt: skip


def targets_of(kpi) -> list[tuple[date, Decimal]]:
    return list(Target.objects.for_organization(kpi.organization_id).filter(kpi=kpi).values_list("period", "value"))


def test_an_executive_sets_a_year_of_targets_as_a_ramp(exec_client, world, kpi):
    year = fiscal_year(world.org_a)
    response = exec_client.post(url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, mode="ramp", year_end="92"))
    assert response.status_code == 302
    assert response.url == url("kpi_detail", pk=kpi.pk) + f"?until={year}-12#targets"
    assert flashes(response) == [f"Targets for fiscal year {year} set: 12 periods."]
    assert [value for _, value in targets_of(kpi)] == [Decimal(81 + i) for i in range(12)]
    assert targets_of(kpi)[0][0] == date(year, 1, 1)


def test_pasted_values_set_each_period(admin_client, world, kpi):
    values = "85\t86 87\n88 89 90 91 92 93 94 95 96"
    response = admin_client.post(
        url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, mode="values", values=values)
    )
    assert response.status_code == 302
    assert [value for _, value in targets_of(kpi)] == [Decimal(v) for v in range(85, 97)]


def test_changing_a_years_targets_needs_a_reason_and_keeps_the_originals(admin_client, world, kpi):
    set_targets(kpi, world.admin_a, 90)
    response = admin_client.post(url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, value="95"))
    assert response.context["year_form"].errors["reason"] == ["Some periods already have targets: say why they change."]
    response = admin_client.post(
        url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, value="95", reason="New customer contract")
    )
    assert response.status_code == 302
    targets = Target.objects.for_organization(world.org_a).filter(kpi=kpi)
    assert {(t.value, t.original_value) for t in targets} == {(Decimal(95), Decimal(90))}
    assert TargetRecalibration.objects.for_organization(world.org_a).count() == 12


def test_setting_targets_on_another_organizations_kpi_is_not_found(admin_client, world, kpi_b):
    response = admin_client.post(url("kpi_targets_set", pk=kpi_b.pk), year_post(world.org_a, value="95"))
    assert response.status_code == 404
    assert targets_of(kpi_b) == []


def test_a_viewer_may_not_set_targets(viewer_client, world, kpi):
    response = viewer_client.post(url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, value="95"))
    assert response.status_code == 403
    assert targets_of(kpi) == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"value": "ninety"}, "value", "“ninety” is not a number."),
        ({"value": ""}, "value", "Enter the target value."),
        ({"mode": "ramp"}, "year_end", "Enter the year-end value."),
        ({"mode": "values", "values": "90 91 92"}, "values", "Paste exactly 12 values, one per period, in order."),
        ({"mode": "values", "values": "90 9x1"}, "values", "Value 2: “9x1” is not a number."),
        ({"fiscal_year": "1999"}, "fiscal_year", "Ensure this value is greater than or equal to 2000."),
    ],
)  # fmt: skip
def test_bad_targets_are_refused_with_the_message_on_the_field(admin_client, world, kpi, changes, field, message):
    response = admin_client.post(url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, **changes))
    assert response.status_code == 200
    assert response.context["year_form"].errors[field] == [message]
    assert targets_of(kpi) == []


def test_targets_more_than_ten_fiscal_years_ahead_are_refused_on_the_fiscal_year(admin_client, world, kpi):
    year = fiscal_year(world.org_a) + 11
    response = admin_client.post(url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, fiscal_year=str(year),
                                                                              value="95"))  # fmt: skip
    assert response.status_code == 200
    assert response.context["year_form"].errors["fiscal_year"] == [
        f"{year} is too far ahead: targets can be set for periods from Jan 2000 to Dec {year - 1}."
    ]
    assert targets_of(kpi) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"value": "80"}, [Decimal(80)] * 12),
        ({"mode": "ramp", "year_end": "80"}, [Decimal(80)] * 12),
        ({"mode": "values", "values": " ".join(["90"] * 11 + ["80"])}, [Decimal(90)] * 11 + [Decimal(80)]),
    ],
)
def test_a_target_may_equal_the_baseline(admin_client, world, kpi, changes, expected):
    response = admin_client.post(url("kpi_targets_set", pk=kpi.pk), year_post(world.org_a, **changes))
    assert response.status_code == 302
    assert [value for _, value in sorted(targets_of(kpi))] == expected


def test_a_kpi_whose_target_equals_its_baseline_shows_its_status_on_its_page(admin_client, world):
    accidents = make_kpi(
        world.company_a, code="LTA", name="Lost-time accidents", baseline=Decimal(0), direction="decrease",
        measurement_unit="",
    )  # fmt: skip
    month = this_month(world.org_a)
    with organization_scope(world.org_a):
        for period, value in ((month_shift(month, -1), 0), (month, 1)):
            services.target_create(kpi=accidents, period=period, value=Decimal(0))
            services.measurement_record(kpi=accidents, period=period, value=Decimal(value), by=world.admin_a)
        scores_recompute(organization=world.org_a, kpi_ids={accidents.pk}, months={month_shift(month, -1), month})
    response = admin_client.get(url("kpi_detail", pk=accidents.pk))
    rows = {row.period: row for row in response.context["page"].rows}
    assert (rows[month_shift(month, -1)].light.status, rows[month_shift(month, -1)].score) == ("green", "100%")
    assert (rows[month].light.status, rows[month].score) == ("red", "0%")


# --- Recalibration ---------------------------------------------------------------------------------------


def recalibrate(client, kpi, target, **data):
    data = {f"t{target.pk}-{key}": value for key, value in data.items()}
    return client.post(url("target_recalibrate", pk=kpi.pk, target_pk=target.pk), data)


def test_an_admin_recalibrates_a_target_and_the_page_shows_both_values(admin_client, world, kpi):
    first = set_targets(kpi, world.admin_a, 90)[0]
    response = recalibrate(admin_client, kpi, first, value="88", reason="Supplier strike in the first month")
    assert response.status_code == 302
    assert flashes(response) == [f"Target for {first.period:%b %Y} recalibrated; the original is kept."]
    first.refresh_from_db()
    assert (first.value, first.original_value) == (Decimal(88), Decimal(90))
    recalibration = TargetRecalibration.objects.for_organization(world.org_a).get()
    assert (recalibration.old_value, recalibration.new_value, recalibration.changed_by) == (90, 88, world.admin_a)

    response = admin_client.get(url("kpi_detail", pk=kpi.pk))
    html = response.content.decode()
    assert (
        '<s class="original-target" title="Original target">90.0%</s> <span class="current-target">88.0%</span>' in html
    )
    assert f"Recalibrated by Admin of acme on {recalibration.changed_at:%-d %b %Y}: Supplier strike" in html
    row = next(r for r in response.context["page"].rows if r.period == first.period)
    assert (row.target, row.original_target) == ("88.0%", "90.0%")
    assert "90.0% → 88.0%" in html  # the recalibrations list


def test_a_recalibration_needs_a_reason_and_a_number(admin_client, world, kpi):
    first = set_targets(kpi, world.admin_a, 90)[0]
    response = recalibrate(admin_client, kpi, first, value="88", reason=" ")
    row = next(r for r in response.context["page"].rows if r.period == first.period)
    assert row.form_open and row.form.errors["reason"] == [
        "Say why the target changes; the reason is shown next to it."
    ]
    response = recalibrate(admin_client, kpi, first, value="8,8", reason="Typo")
    row = next(r for r in response.context["page"].rows if r.period == first.period)
    assert row.form.errors["value"] == ["“8,8” uses ',' but your decimal separator is '.'."]
    first.refresh_from_db()
    assert (first.value, first.original_value) == (Decimal(90), None)
    assert not TargetRecalibration.objects.for_organization(world.org_a).exists()
    # down to the baseline: scored 1 when met in the KPI's direction, else 0
    assert recalibrate(admin_client, kpi, first, value="80", reason="Flat month").status_code == 302
    first.refresh_from_db()
    assert (first.value, first.original_value) == (Decimal(80), Decimal(90))


def test_recalibrating_another_organizations_target_is_not_found(admin_client, world, kpi, kpi_b):
    target_b = set_targets(kpi_b, world.member_b, 90)[0]
    assert recalibrate(admin_client, kpi_b, target_b, value="95", reason="x").status_code == 404
    # nor through one's own KPI's address
    response = admin_client.post(
        url("target_recalibrate", pk=kpi.pk, target_pk=target_b.pk),
        {f"t{target_b.pk}-value": "95", f"t{target_b.pk}-reason": "x"},
    )
    assert response.status_code == 404
    target_b.refresh_from_db()
    assert target_b.value == 90


def test_a_viewer_may_not_recalibrate_a_target(viewer_client, world, kpi):
    first = set_targets(kpi, world.admin_a, 90)[0]
    assert recalibrate(viewer_client, kpi, first, value="95", reason="Because").status_code == 403
    first.refresh_from_db()
    assert (first.value, first.original_value) == (Decimal(90), None)


# --- The KPI page ----------------------------------------------------------------------------------------


def record_months(kpi, by, count, *, start=None):
    org = kpi.organization
    start = start or month_shift(this_month(org), -(count - 1))
    with organization_scope(org):
        for i in range(count):
            services.measurement_record(
                kpi=kpi,
                period=month_shift(start, i),
                value=Decimal(85 + i % 10),
                by=by,
                comment=f"month {i}",
                schedule=False,
            )


def test_every_member_reads_the_kpi_page_with_chart_values_and_history(viewer_client, world, kpi):
    dana = factories.make_user("dana@acme.example.com", full_name="Dana Diaz")
    factories.add_member(world.org_a, Role.EXECUTIVE, user=dana)
    set_targets(kpi, world.admin_a, 90)
    month = this_month(world.org_a)
    with organization_scope(world.org_a):
        services.measurement_record(
            kpi=kpi, period=month, value=Decimal(86), by=dana, comment="Late trucks", schedule=False
        )
        services.measurement_record(
            kpi=kpi,
            period=month,
            value=Decimal(87),
            by=world.admin_a,
            comment="Corrected",
            expected_version=1,
            schedule=False,
        )
    response = viewer_client.get(url("kpi_detail", pk=kpi.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="kpi-chart"' in html and 'id="kpi-chart-data"' in html and "chart.umd.min.js" in html
    data = json.loads(html.split('id="kpi-chart-data" type="application/json">')[1].split("</script>")[0])
    assert len(data["labels"]) == 24 and data["actual"][data["labels"].index(f"{month:%b %Y}")] == 87.0
    audit = response.context["page"].audit
    assert [(e.action, e.who, e.previous, e.value, e.comment) for e in audit] == [
        ("Changed", "Admin of acme", "86.0%", "87.0%", "Corrected"),
        ("Entered", "Dana Diaz", "", "86.0%", "Late trucks"),
    ]
    assert "Set targets for a year" not in html and "Recalibrate" not in html and "Edit KPI" not in html


def test_the_kpi_page_of_another_organization_is_not_found(admin_client, kpi_b):
    assert admin_client.get(url("kpi_detail", pk=kpi_b.pk)).status_code == 404


def test_the_kpi_page_query_count_does_not_grow_with_months_of_data(admin_client, world, kpi):
    other = make_kpi(world.company_a, code="OTD2")
    set_targets(kpi, world.admin_a, 90)
    set_targets(other, world.admin_a, 90)
    record_months(kpi, world.admin_a, 2)
    record_months(other, world.admin_a, 20)
    with organization_scope(world.org_a):
        services.target_recalibrate(
            target=set_targets(other, world.admin_a, 90)[0], value=Decimal(91), reason="r", by=world.admin_a
        )
    counts = []
    for k in (kpi, other):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url("kpi_detail", pk=k.pk)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_chart_zones_follow_the_thresholds_around_each_months_target(world):
    up = Kpi(direction="increase", baseline=Decimal(100))
    assert zone_edges(up, Decimal(200), Decimal("0.9"), Decimal("0.6")) == {
        "green": [(Decimal(190), None)], "amber": [(Decimal(160), Decimal(190))], "red": [(None, Decimal(160))]
    }  # fmt: skip
    down = Kpi(direction="decrease", baseline=Decimal(10))
    assert zone_edges(down, Decimal(5), Decimal("0.9"), Decimal("0.6")) == {
        "green": [(None, Decimal("5.5"))], "amber": [(Decimal("5.5"), Decimal(7))], "red": [(Decimal(7), None)]
    }  # fmt: skip
    band = Kpi(direction="band", band_low=Decimal(20), band_high=Decimal(30), band_tolerance=Decimal(10))
    assert zone_edges(band, None, Decimal("0.9"), Decimal("0.6")) == {
        "green": [(Decimal(19), Decimal(31))],
        "amber": [(Decimal(16), Decimal(19)), (Decimal(31), Decimal(34))],
        "red": [(None, Decimal(16)), (Decimal(34), None)],
    }
    assert zone_edges(up, None, Decimal("0.9"), Decimal("0.6")) is None  # no target, no zones


def test_the_chart_data_closes_open_zones_at_the_axis_limits(world, kpi):
    with organization_scope(world.org_a):
        rows = [
            {"period": date(2026, 1, 1), "actual": Decimal(85), "target": Decimal(90), "original_target": None,
             "status": "green"},
            {"period": date(2026, 2, 1), "actual": None, "target": None, "original_target": None, "status": "grey"},
        ]  # fmt: skip
        data = chart_data(kpi, rows, world.org_a)
    assert (data["yMin"], data["yMax"]) == (78.8, 91.2)  # 80..90 padded by 12%
    assert data["zones"] == [
        {"status": "red", "low": [78.8, None], "high": [86.0, None]},
        {"status": "amber", "low": [86.0, None], "high": [89.0, None]},
        {"status": "green", "low": [89.0, None], "high": [91.2, None]},
    ]
    assert (data["labels"], data["actual"], data["target"]) == (["Jan 2026", "Feb 2026"], [85.0, None], [90.0, None])


def test_an_editor_sees_the_target_forms_on_the_kpi_page(exec_client, world, kpi):
    set_targets(kpi, world.admin_a, 90)
    response = exec_client.get(url("kpi_detail", pk=kpi.pk))
    html = response.content.decode()
    assert "Set targets for a year" in html and "Edit KPI" in html
    assert html.count("<summary>Recalibrate") == sum(1 for r in response.context["page"].rows if r.target_obj)
    assert response.context["year_form"].initial["fiscal_year"] == fiscal_year(world.org_a)


def test_the_kpi_page_window_moves_with_until(admin_client, kpi):
    response = admin_client.get(url("kpi_detail", pk=kpi.pk), {"until": "2020-06"})
    page = response.context["page"]
    assert page.until == date(2020, 6, 1)
    assert (page.chart["labels"][0], page.chart["labels"][-1]) == ("Jul 2018", "Jun 2020")


def test_a_quarterly_kpi_shows_its_quarters_only(admin_client, world):
    quarterly = make_kpi(world.company_a, code="Q", frequency="quarterly")
    with organization_scope(world.org_a):
        page = kpi_page(kpi=quarterly, organization=world.org_a, until=date(2025, 12, 1))
    assert page.chart["labels"] == [f"Q{q} {y}" for y in (2024, 2025) for q in (1, 2, 3, 4)]
    assert Measurement.objects.for_organization(world.org_a).count() == 0
