"""The KPI API: KPI definitions, targets (with recalibrations) and measurements (with versions and a bulk upsert).

Every mutating endpoint gets the trio (it works with exact JSON; another organization's id is a 404 and
changes nothing; a role without write access gets 403 and changes nothing), plus stale saves (409), the
bulk endpoint's all-or-nothing per-item report, and department heads limited to their units' KPIs.
"""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from bsc import org_calendar
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import Kpi, Measurement, Target, TargetRecalibration
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

API = "/api/v1/o/acme/"
MARCH, FEB = date(2026, 3, 1), date(2026, 2, 1)
MAY_NOT_EDIT = "Your role (viewer) does not allow this: units, strategy map, KPI definitions and targets."
MAY_NOT_ENTER = "Your role (viewer) does not allow this: enter measurements."
NOT_A_NUMBER = "Enter a number such as 1234.5 (digits, an optional minus sign and a dot for decimals)."


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def page(results: list) -> dict:
    return {"count": len(results), "next": None, "previous": None, "results": results}


@pytest.fixture
def kpis(world):
    """Acme: a monthly company KPI with a March value and target, a monthly and a quarterly division KPI.
    Globex: a KPI with a target and a value."""
    with organization_scope(world.org_a):
        orders = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
        services.target_create(kpi=orders, period=MARCH, value=Decimal(200))
        services.measurement_record(kpi=orders, period=MARCH, value=Decimal(150), by=world.admin_a, schedule=False)
        on_time = services.kpi_create(unit=world.division_a, name="On time", code="OTD", baseline=Decimal(80))
        quarterly = services.kpi_create(
            unit=world.division_a, name="Audits", code="AUD", baseline=Decimal(0), frequency="quarterly"
        )
    with organization_scope(world.org_b):
        theirs = services.kpi_create(unit=world.unit_b, name="Sales", code="SAL", baseline=Decimal(0))
        their_target = services.target_create(kpi=theirs, period=MARCH, value=Decimal(10))
        their_value = services.measurement_record(
            kpi=theirs, period=MARCH, value=Decimal(7), by=world.member_b, schedule=False
        )
    return {
        "orders": orders, "on_time": on_time, "quarterly": quarterly, "theirs": theirs,
        "their_target": their_target, "their_value": their_value,
    }  # fmt: skip


def rows(organization) -> dict:
    """Everything a user could see of an organization's KPIs, targets and values, to prove nothing changed."""
    with organization_scope(organization):
        return {
            "kpis": list(Kpi.objects.order_by("id").values_list("code", "name", "baseline", "archived_at")),
            "targets": list(Target.objects.order_by("id").values_list("kpi_id", "period", "value", "original_value")),
            "recalibrations": TargetRecalibration.objects.count(),
            "measurements": list(
                Measurement.objects.order_by("id").values_list("kpi_id", "period", "value", "comment", "version")
            ),
        }


def measurement_json(pk: int, organization) -> dict:
    with organization_scope(organization):
        m = Measurement.objects.select_related("kpi", "entered_by").get(pk=pk)
    return {
        "id": m.pk, "kpi": m.kpi_id, "kpi_code": m.kpi.code, "period": f"{m.period:%Y-%m}",
        "value": f"{m.value:.6f}", "comment": m.comment, "version": m.version, "entered_by": m.entered_by_id,
        "entered_by_name": m.entered_by.display_name, "entered_at": m.entered_at.isoformat().replace("+00:00", "Z"),
        "approval": m.approval, "reviewed_by": m.reviewed_by_id, "reviewed_at": None, "return_comment": "",
    }  # fmt: skip


# --- KPIs --------------------------------------------------------------------------------------------


def kpi_json(kpi_id: int, unit_id: int, **changes) -> dict:
    return {
        "id": kpi_id, "unit": unit_id, "objective": None, "name": "Scrap", "code": "SCRAP", "description": "",
        "measurement_unit": "kg", "decimals": 0, "direction": "decrease", "frequency": "monthly",
        "baseline": "50.000000", "band_low": None, "band_high": None, "band_tolerance": None,
        "green_threshold": None, "amber_threshold": None, "weight": "2.00", "owner": None, "approver": None,
        "source": "manual",
        "formula": "", "rollup_method": "", "aligned_to": None, "time_aggregation": "sum", "archived": False,
        **changes,
    }  # fmt: skip


NEW_KPI = {"name": "Scrap", "code": "SCRAP", "measurement_unit": "kg", "decimals": 0, "direction": "decrease",
           "baseline": "50", "weight": "2", "time_aggregation": "sum"}  # fmt: skip


def test_it_creates_changes_archives_and_restores_a_kpi(world, kpis):
    client = client_for(world.admin_a)

    created = client.post(f"{API}kpis/", {**NEW_KPI, "unit": world.department_a.pk}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json() == kpi_json(pk, world.department_a.pk)

    changed = client.patch(f"{API}kpis/{pk}/", {"name": "Scrap weight", "owner": world.viewer_a.pk}, format="json")
    assert changed.status_code == 200
    assert changed.json() == kpi_json(pk, world.department_a.pk, name="Scrap weight", owner=world.viewer_a.pk)

    assert client.delete(f"{API}kpis/{pk}/").status_code == 204
    assert [k["code"] for k in client.get(f"{API}kpis/").json()["results"]] == ["ORD", "AUD", "OTD"]
    assert [k["code"] for k in client.get(f"{API}kpis/?archived=true").json()["results"]] == ["SCRAP"]
    restored = client.post(f"{API}kpis/{pk}/restore/")
    assert restored.json() == kpi_json(pk, world.department_a.pk, name="Scrap weight", owner=world.viewer_a.pk)


def test_kpi_rules_are_refused_with_the_field_and_reason(world, kpis):
    client = client_for(world.admin_a)
    before = rows(world.org_a)

    duplicate = client.post(f"{API}kpis/", {**NEW_KPI, "code": "ORD", "unit": world.company_a.pk}, format="json")
    no_baseline = client.post(f"{API}kpis/", {**NEW_KPI, "baseline": None, "unit": world.company_a.pk}, format="json")
    moved = client.patch(f"{API}kpis/{kpis['orders'].pk}/", {"unit": world.division_a.pk}, format="json")

    assert duplicate.status_code == 400
    assert duplicate.json() == {"non_field_errors": ["Another KPI of this organization already uses this code."]}
    assert no_baseline.json() == {
        "baseline": ["An increase or decrease KPI needs a baseline (the value progress starts from)."]
    }
    assert moved.json() == {"unit": ["A KPI stays with its unit; create a KPI on the other unit instead."]}
    assert rows(world.org_a) == before


def test_another_organizations_kpi_is_404_and_unchanged(world, kpis):
    client = client_for(world.admin_a)
    theirs = kpis["theirs"].pk
    before = rows(world.org_b)

    responses = [
        client.get(f"{API}kpis/{theirs}/"),
        client.patch(f"{API}kpis/{theirs}/", {"name": "Mine"}, format="json"),
        client.delete(f"{API}kpis/{theirs}/"),
        client.post(f"{API}kpis/{theirs}/restore/"),
    ]
    on_their_unit = client.post(f"{API}kpis/", {**NEW_KPI, "unit": world.unit_b.pk}, format="json")

    assert [r.status_code for r in responses] == [404] * 4
    assert responses[1].json() == {"detail": "No Kpi matches the given query."}
    assert on_their_unit.json() == {"unit": [f'Invalid pk "{world.unit_b.pk}" - object does not exist.']}
    assert rows(world.org_b) == before


def test_a_viewer_may_read_but_not_write_kpis(world, kpis):
    client = client_for(world.viewer_a)
    before = rows(world.org_a)
    pk = kpis["orders"].pk

    assert client.get(f"{API}kpis/{pk}/").json()["code"] == "ORD"
    responses = [
        client.post(f"{API}kpis/", {**NEW_KPI, "unit": world.company_a.pk}, format="json"),
        client.patch(f"{API}kpis/{pk}/", {"name": "Mine"}, format="json"),
        client.delete(f"{API}kpis/{pk}/"),
    ]

    assert [r.status_code for r in responses] == [403] * 3
    assert responses[0].json() == {"detail": MAY_NOT_EDIT}
    assert rows(world.org_a) == before


def test_a_kpi_holding_values_keeps_its_frequency(world, kpis):
    client = client_for(world.admin_a)
    on_time = kpis["on_time"]
    with organization_scope(world.org_a):
        for month in range(1, 10):
            services.measurement_record(
                kpi=on_time, period=date(2026, month, 1), value=Decimal(90), by=world.admin_a, schedule=False
            )
        services.target_set_year(kpi=on_time, fiscal_year=2026, mode="same", value=Decimal(95), by=world.admin_a)
        before = rows(world.org_a)

    refused = client.patch(f"{API}kpis/{on_time.pk}/", {"frequency": "annual", "name": "Yearly"}, format="json")
    unchanged = client.patch(f"{API}kpis/{on_time.pk}/", {"frequency": "monthly"}, format="json")
    empty = client.patch(f"{API}kpis/{kpis['quarterly'].pk}/", {"frequency": "annual"}, format="json")

    assert (refused.status_code, refused.json()) == (400, {
        "frequency": ["OTD holds 9 monthly values and 12 targets; its frequency cannot change while it has them. "
                      "Archive it and create a new KPI with the new frequency."]
    })  # fmt: skip
    assert (unchanged.status_code, unchanged.json()["frequency"]) == (200, "monthly")
    assert (empty.status_code, empty.json()["frequency"]) == (200, "annual")
    assert rows(world.org_a) == before
    assert Kpi.objects.for_organization(world.org_a).get(pk=on_time.pk).frequency == "monthly"


# --- Targets -----------------------------------------------------------------------------------------


def test_it_sets_and_recalibrates_a_target(world, kpis):
    client = client_for(world.admin_a)
    on_time = kpis["on_time"].pk

    created = client.post(f"{API}targets/", {"kpi": on_time, "period": "2026-04", "value": "95"}, format="json")
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json() == {
        "id": pk, "kpi": on_time, "period": "2026-04", "value": "95.000000", "original_value": None,
        "recalibrations": [],
    }  # fmt: skip

    changed = client.patch(f"{API}targets/{pk}/", {"value": "90", "reason": "New line delayed"}, format="json")
    assert changed.status_code == 200
    with organization_scope(world.org_a):
        when = TargetRecalibration.objects.get().changed_at.isoformat().replace("+00:00", "Z")
    assert changed.json() == {
        "id": pk, "kpi": on_time, "period": "2026-04", "value": "90.000000", "original_value": "95.000000",
        "recalibrations": [
            {"old_value": "95.000000", "new_value": "90.000000", "reason": "New line delayed",
             "changed_by": world.admin_a.pk, "changed_by_name": "Admin of acme", "changed_at": when},
        ],
    }  # fmt: skip
    assert [t["period"] for t in client.get(f"{API}targets/?kpi={on_time}").json()["results"]] == ["2026-04"]


def test_target_rules_are_refused_with_the_field_and_reason(world, kpis):
    client = client_for(world.admin_a)
    before = rows(world.org_a)
    target_pk = Target.objects.for_organization(world.org_a).get(kpi=kpis["orders"]).pk

    responses = [
        client.post(f"{API}targets/", {"kpi": kpis["quarterly"].pk, "period": "2026-02", "value": "4"}, format="json"),
        client.post(f"{API}targets/", {"kpi": kpis["orders"].pk, "period": "2026-03", "value": "250"}, format="json"),
        client.post(f"{API}targets/", {"kpi": kpis["orders"].pk, "period": "March", "value": "250"}, format="json"),
        client.post(f"{API}targets/", {"kpi": kpis["orders"].pk, "period": "1999-12", "value": "250"}, format="json"),
        client.patch(f"{API}targets/{target_pk}/", {"value": "210"}, format="json"),
    ]

    assert [r.status_code for r in responses] == [400] * 5
    assert [r.json() for r in responses] == [
        {"period": ["AUD is quarterly: its periods start in the first month of a fiscal quarter."]},
        {"period": ["ORD already has a target for 2026-03; recalibrate it to change it."]},
        {"period": ["“March” is not a period; write it as YYYY-MM, e.g. 2026-03."]},
        {"period": ["Dec 1999 is too early: targets can be set for periods from Jan 2000 to "
                    f"Dec {org_calendar.current_fiscal_year(world.org_a) + 10}."]},
        {"reason": ["This field is required."]},
    ]  # fmt: skip
    assert rows(world.org_a) == before


def test_a_target_or_a_baseline_may_equal_the_other(world, kpis):
    client = client_for(world.admin_a)
    orders = kpis["orders"]  # baseline 100, March target 200

    created = client.post(f"{API}targets/", {"kpi": orders.pk, "period": "2026-05", "value": "100"}, format="json")
    rebased = client.patch(f"{API}kpis/{orders.pk}/", {"baseline": "200"}, format="json")

    assert (created.status_code, created.json()["value"]) == (201, "100.000000")
    assert (rebased.status_code, rebased.json()["baseline"]) == (200, "200.000000")


def test_another_organizations_target_is_404_and_unchanged(world, kpis):
    client = client_for(world.admin_a)
    before = rows(world.org_b)

    changed = client.patch(
        f"{API}targets/{kpis['their_target'].pk}/", {"value": "20", "reason": "Mine now"}, format="json"
    )
    created = client.post(
        f"{API}targets/", {"kpi": kpis["theirs"].pk, "period": "2026-04", "value": "9"}, format="json"
    )

    assert changed.status_code == 404
    assert created.json() == {"kpi": [f'Invalid pk "{kpis["theirs"].pk}" - object does not exist.']}
    assert rows(world.org_b) == before


def test_a_viewer_may_not_set_or_recalibrate_targets(world, kpis):
    client = client_for(world.viewer_a)
    before = rows(world.org_a)
    target_pk = Target.objects.for_organization(world.org_a).get(kpi=kpis["orders"]).pk

    responses = [
        client.post(f"{API}targets/", {"kpi": kpis["orders"].pk, "period": "2026-04", "value": "9"}, format="json"),
        client.patch(f"{API}targets/{target_pk}/", {"value": "20", "reason": "Why not"}, format="json"),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(403, {"detail": MAY_NOT_EDIT})] * 2
    assert rows(world.org_a) == before


# --- Measurements ------------------------------------------------------------------------------------


def test_it_enters_and_changes_a_value_with_its_version(world, kpis):
    client = client_for(world.admin_a)
    on_time = kpis["on_time"].pk

    created = client.post(
        f"{API}measurements/", {"kpi": on_time, "period": "2026-03", "value": "91.5", "comment": "Good"}, format="json"
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert created.json() == measurement_json(pk, world.org_a)
    assert created.json()["version"] == 1 and created.json()["value"] == "91.500000"

    changed = client.patch(f"{API}measurements/{pk}/", {"value": "92", "version": 1}, format="json")
    assert changed.status_code == 200
    assert changed.json() == {
        **measurement_json(pk, world.org_a),
        "version": 2,
        "value": "92.000000",
        "comment": "Good",
    }

    listed = client.get(f"{API}measurements/?kpi={on_time}&period_from=2026-03&period_to=2026-03").json()
    assert listed == page([measurement_json(pk, world.org_a)])
    assert client.get(f"{API}measurements/?period_from=2026-04").json() == page([])


def test_a_stale_save_is_409_with_the_current_value(world, kpis):
    client = client_for(world.admin_a)
    orders = kpis["orders"]
    pk = Measurement.objects.for_organization(world.org_a).get(kpi=orders).pk
    assert client.patch(f"{API}measurements/{pk}/", {"value": "160", "version": 1}, format="json").status_code == 200
    before = rows(world.org_a)
    own_change = "This value was changed since you loaded the page (now 160); check it and save again."
    their_change = "Admin of acme changed this value since you loaded the page (now 160); check it and save again."

    late_edit = client.patch(f"{API}measurements/{pk}/", {"value": "170", "version": 1}, format="json")
    blind_create = client.post(
        f"{API}measurements/", {"kpi": orders.pk, "period": "2026-03", "value": "170"}, format="json"
    )
    colleague = client_for(factories.add_member(world.org_a, Role.EXECUTIVE).user)
    their_late_edit = colleague.patch(f"{API}measurements/{pk}/", {"value": "170", "version": 1}, format="json")

    current = measurement_json(pk, world.org_a)
    assert (late_edit.status_code, late_edit.json()) == (
        409,
        {"detail": own_change, "code": "stale", "current": current},
    )
    assert (blind_create.status_code, blind_create.json()) == (
        400,
        {"version": ["This period already has a value (version 2); send its version to change it."]},
    )
    assert (their_late_edit.status_code, their_late_edit.json()) == (
        409,
        {"detail": their_change, "code": "stale", "current": current},
    )
    assert rows(world.org_a) == before


def test_measurement_rules_are_refused_with_the_field_and_reason(world, kpis):
    client = client_for(world.admin_a)
    before = rows(world.org_a)
    month = org_calendar.this_month(world.org_a)
    next_month = org_calendar.month_shift(month, 1)

    responses = [
        client.post(f"{API}measurements/", {"kpi": kpis["quarterly"].pk, "period": "2026-02", "value": "3"},
                    format="json"),
        client.post(f"{API}measurements/", {"kpi": kpis["on_time"].pk, "period": "2026-02", "value": "lots"},
                    format="json"),
        client.patch(f"{API}measurements/{Measurement.objects.for_organization(world.org_a).get().pk}/",
                     {"value": "3"}, format="json"),
        client.post(f"{API}measurements/", {"kpi": kpis["on_time"].pk, "period": f"{next_month:%Y-%m}", "value": "3"},
                    format="json"),
    ]  # fmt: skip

    assert [r.status_code for r in responses] == [400] * 4
    assert [r.json() for r in responses] == [
        {"period": ["AUD is quarterly: its periods start in the first month of a fiscal quarter."]},
        {"value": [NOT_A_NUMBER]},
        {"version": ["This field is required."]},
        {"period": [f"{org_calendar.month_label(next_month)} is in the future: values can be entered up to "
                    f"{org_calendar.month_label(month)}."]},
    ]  # fmt: skip
    assert rows(world.org_a) == before


def test_another_organizations_measurement_is_404_and_unchanged(world, kpis):
    client = client_for(world.admin_a)
    before = rows(world.org_b)

    changed = client.patch(f"{API}measurements/{kpis['their_value'].pk}/", {"value": "8", "version": 1}, format="json")
    created = client.post(
        f"{API}measurements/", {"kpi": kpis["theirs"].pk, "period": "2026-04", "value": "8"}, format="json"
    )
    bulk = client.post(f"{API}measurements/bulk/", [{"kpi": "SAL", "period": "2026-04", "value": "8"}], format="json")

    assert (changed.status_code, changed.json()) == (404, {"detail": "No Measurement matches the given query."})
    assert client.get(f"{API}measurements/{kpis['their_value'].pk}/").status_code == 404
    assert created.json() == {"kpi": [f'Invalid pk "{kpis["theirs"].pk}" - object does not exist.']}
    assert bulk.json() == [{"index": 0, "errors": {"kpi": ["Unknown KPI “SAL”: give its id or code."]}}]
    assert rows(world.org_b) == before


def test_a_viewer_may_not_enter_values(world, kpis):
    client = client_for(world.viewer_a)
    before = rows(world.org_a)
    pk = Measurement.objects.for_organization(world.org_a).get().pk

    responses = [
        client.post(
            f"{API}measurements/", {"kpi": kpis["orders"].pk, "period": "2026-04", "value": "1"}, format="json"
        ),
        client.patch(f"{API}measurements/{pk}/", {"value": "1", "version": 1}, format="json"),
        client.post(f"{API}measurements/bulk/", [{"kpi": "ORD", "period": "2026-04", "value": "1"}], format="json"),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(403, {"detail": MAY_NOT_ENTER})] * 3
    assert rows(world.org_a) == before


def test_a_department_head_enters_values_for_their_units_and_owned_kpis_only(world, kpis, member_of_role):
    head = member_of_role(Role.DEPARTMENT_HEAD)  # scoped to the Operations division
    client = client_for(head)
    orders = kpis["orders"]
    pk = Measurement.objects.for_organization(world.org_a).get(kpi=orders).pk
    refused = {"detail": "You may not enter values for ORD: it is not in your units."}

    own = client.post(f"{API}measurements/", {"kpi": kpis["on_time"].pk, "period": "2026-03", "value": "90"},
                      format="json")  # fmt: skip
    elsewhere = client.post(f"{API}measurements/", {"kpi": orders.pk, "period": "2026-04", "value": "1"}, format="json")
    elsewhere_edit = client.patch(f"{API}measurements/{pk}/", {"value": "1", "version": 1}, format="json")
    kpi_edit = client.patch(f"{API}kpis/{kpis['on_time'].pk}/", {"name": "Mine"}, format="json")

    assert own.status_code == 201
    assert (elsewhere.status_code, elsewhere.json()) == (403, refused)
    assert (elsewhere_edit.status_code, elsewhere_edit.json()) == (403, refused)
    assert kpi_edit.status_code == 403
    with organization_scope(world.org_a):
        assert Measurement.objects.get(pk=pk).value == 150
        services.kpi_update(kpi=orders, owner=head)
    red = {"comment": "Late orders", "action_owner": world.admin_a.pk, "action_due_date": "2030-06-28"}  # 155 of 200
    owned = client.patch(f"{API}measurements/{pk}/", {"value": "155", "version": 1} | red, format="json")
    assert (owned.status_code, owned.json()["value"], owned.json()["version"]) == (200, "155.000000", 2)


# --- Bulk --------------------------------------------------------------------------------------------


def test_bulk_saves_every_item_by_id_or_code_in_one_go(world, kpis):
    client = client_for(world.admin_a)
    orders, on_time = kpis["orders"], kpis["on_time"]
    items = [
        {"kpi": "ORD", "period": "2026-03", "value": "155", "comment": "Fixed", "version": 1,
         "action_owner": world.admin_a.pk, "action_due_date": "2030-06-28"},  # red: 155 of 200
        {"kpi": on_time.pk, "period": "2026-03", "value": 91},
        {"kpi": "AUD", "period": "2026-04", "value": "2.5", "comment": "Q2 audits"},
    ]  # fmt: skip

    response = client.post(f"{API}measurements/bulk/", items, format="json")

    assert response.status_code == 200
    with organization_scope(world.org_a):
        saved = list(Measurement.objects.order_by("kpi__code").values_list("kpi__code", "period", "value", "version"))
        ids = [Measurement.objects.get(kpi=k, period=p).pk for k, p in ((orders, MARCH), (on_time, MARCH))]
    assert saved == [
        ("AUD", date(2026, 4, 1), Decimal("2.5"), 1),
        ("ORD", MARCH, Decimal("155"), 2),
        ("OTD", MARCH, Decimal("91"), 1),
    ]
    body = response.json()
    assert body[:2] == [measurement_json(ids[0], world.org_a), measurement_json(ids[1], world.org_a)]
    assert [(m["kpi_code"], m["comment"]) for m in body] == [("ORD", "Fixed"), ("OTD", ""), ("AUD", "Q2 audits")]


def test_bulk_reports_every_bad_item_and_writes_nothing(world, kpis, member_of_role):
    head = member_of_role(Role.DEPARTMENT_HEAD)  # may enter Operations' OTD and AUD, not the company's ORD
    client = client_for(head)
    before = rows(world.org_a)
    items = [
        {"kpi": "OTD", "period": "2026-03", "value": "90"},
        {"kpi": "OTD", "period": "2026-04", "value": "ninety"},
        {"kpi": "NOPE", "period": "2026-03", "value": "1"},
        {"kpi": "OTD", "period": "2026-13", "value": "1"},
        {"kpi": "AUD", "period": "2026-02", "value": "1"},
        {"kpi": "ORD", "period": "2026-04", "value": "1"},
        {"kpi": str(kpis["on_time"].pk), "period": "2026-03", "value": "91"},
        {"kpi": "AUD", "period": "2026-04", "value": "1", "version": 3},
    ]

    response = client.post(f"{API}measurements/bulk/", items, format="json")

    assert response.status_code == 400
    assert response.json() == [
        {"index": 1, "errors": {"value": [NOT_A_NUMBER]}},
        {"index": 2, "errors": {"kpi": ["Unknown KPI “NOPE”: give its id or code."]}},
        {"index": 3, "errors": {"period": ["“2026-13” is not a period; write it as YYYY-MM, e.g. 2026-03."]}},
        {"index": 4, "errors": {"period": ["AUD is quarterly: its periods start in the first month of a fiscal quarter."]}},
        {"index": 5, "errors": {"kpi": ["You may not enter values for ORD: it is not in your units."]}},
        {"index": 6, "errors": {"period": ["Item 0 already gives OTD a value for 2026-03."]}},
        {"index": 7, "errors": {"value": ["This value was removed since you loaded the page; check it and save again."]}},
    ]  # fmt: skip
    assert rows(world.org_a) == before


def test_bulk_refuses_a_missing_version_and_future_periods_and_writes_nothing(world, kpis):
    client = client_for(world.admin_a)
    before = rows(world.org_a)
    month = org_calendar.this_month(world.org_a)
    next_month = org_calendar.month_shift(month, 1)
    items = [
        {"kpi": "OTD", "period": f"{month:%Y-%m}", "value": "90"},  # this month: month-end actuals come early
        {"kpi": "ORD", "period": "2026-03", "value": "1"},
        {"kpi": "OTD", "period": f"{next_month:%Y-%m}", "value": "90"},
    ]

    response = client.post(f"{API}measurements/bulk/", items, format="json")

    assert (response.status_code, response.json()) == (400, [
        {"index": 1, "errors": {"version": ["This period already has a value (version 1); send its version to change it."]}},
        {"index": 2, "errors": {"period": [f"{org_calendar.month_label(next_month)} is in the future: values can be "
                                           f"entered up to {org_calendar.month_label(month)}."]}},
    ])  # fmt: skip
    assert rows(world.org_a) == before
    saved = client.post(f"{API}measurements/bulk/", items[:1], format="json")
    assert (saved.status_code, [m["period"] for m in saved.json()]) == (200, [f"{month:%Y-%m}"])


def test_bulk_refuses_what_is_not_a_list(world, kpis):
    client = client_for(world.admin_a)

    response = client.post(f"{API}measurements/bulk/", {"kpi": "ORD"}, format="json")

    assert (response.status_code, response.json()) == (
        400,
        {"non_field_errors": ["Send a non-empty list of measurements."]},
    )
