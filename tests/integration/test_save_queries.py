"""The saves' query counts (issue 19, the profile under load): the API's bulk upsert, the data-entry page's "Save all"
and its row save lock the values and check the monthly close once a request, and write each value in the request's
transaction without a savepoint or a lookup of its own: a fixed number of queries plus one write per value, pinned
here so they cannot creep back. A refused item, a closed period or a conflicting write still leaves nothing written,
with the same messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import period_close, services
from kpis.models import Kpi, Measurement
from tests import factories

SEP, OCT = date(2026, 9, 1), date(2026, 10, 1)
BULK = "/api/v1/o/acme/measurements/bulk/"
# The whole request, from the session to the answer; the test's own transaction adds one savepoint pair around the
# save (in production it is the request's transaction).
BULK_20_QUERIES = 35  # 15 fixed + one write per value (212 before: ten queries a value)
PAGE_8_QUERIES = 23  # 15 fixed + one write per row (98-101 before)
ROW_QUERIES = 20  # with the page's rows around it (28-31 before)


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """October 2026 is the month due on the day the module is written for."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


@pytest.fixture
def head(world):
    return factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user


def make_kpis(world, count: int, *, unit=None, prefix: str = "K") -> list:
    """`count` monthly KPIs of Assembly (below the head's Operations), each with an October target of 100 and a value
    of 95 (version 1)."""
    made = []
    with organization_scope(world.org_a):
        for i in range(count):
            kpi = services.kpi_create(
                unit=unit or world.department_a, name=f"KPI {prefix}{i}", code=f"{prefix}{i:02d}", baseline=Decimal(0)
            )
            services.target_create(kpi=kpi, period=OCT, value=Decimal(100))
            services.measurement_record(kpi=kpi, period=OCT, value=Decimal(95), by=world.admin_a, schedule=False)
            made.append(kpi)
    return made


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def bulk(client, kpis, value: str = "96", version: int | None = 1, period: str = "2026-10"):
    items = [
        {"kpi": str(kpi.pk), "period": period, "value": value, "comment": "From the data feed."}
        | ({} if version is None else {"version": version})
        for kpi in kpis
    ]
    return client.post(BULK, items, format="json")


def entry_form(kpis, value: str = "96", version: str = "1") -> dict:
    data = {"period": "2026-10", "decimal_separator": ".", "kpi": [kpi.pk for kpi in kpis]}
    for kpi in kpis:
        data |= {f"value-{kpi.pk}": value, f"comment-{kpi.pk}": "", f"version-{kpi.pk}": version}
    return data


def stored(world) -> dict:
    """The organization's values and their history, to prove a refused save wrote nothing."""
    with organization_scope(world.org_a):
        values = {(m.kpi.code, m.period): (m.value, m.version) for m in Measurement.objects.select_related("kpi")}
    return {
        "values": values,
        "history": Measurement.pgh_event_model.objects.filter(organization_id=world.org_a.pk).count(),
    }


# --- Query counts ---------------------------------------------------------------------------------------------


def test_a_bulk_of_20_values_costs_a_fixed_number_of_queries_and_one_write_a_value(
    world, head, django_assert_max_num_queries, django_assert_num_queries
):
    kpis = make_kpis(world, 20)
    client = api(head)
    assert bulk(client, kpis[:1], version=None).status_code == 400  # warm the session and content types

    with django_assert_max_num_queries(BULK_20_QUERIES):
        response = bulk(client, kpis)
    assert response.status_code == 200
    assert [(m["kpi"], m["value"], m["version"]) for m in response.json()] == [(kpi.pk, "96.000000", 2) for kpi in kpis]
    with django_assert_num_queries(BULK_20_QUERIES - 15):  # five values: fifteen writes fewer
        assert bulk(client, kpis[:5], "97", 2).status_code == 200


def test_while_values_need_approval_a_bulk_asks_the_person_role_once_not_once_a_value(
    world, head, django_assert_num_queries
):
    world.org_a.values_need_approval = True
    world.org_a.save(update_fields=["values_need_approval"])
    kpis = make_kpis(world, 20)
    client = api(head)
    assert bulk(client, kpis[:1], version=None).status_code == 400  # warm the session and content types

    with django_assert_num_queries(BULK_20_QUERIES + 1):  # the role of the person entering, once
        response = bulk(client, kpis)
    assert response.status_code == 200
    assert {m["approval"] for m in response.json()} == {"submitted"}  # a department head's values wait


def test_saving_a_data_entry_page_of_8_rows_costs_a_fixed_number_of_queries_and_one_write_a_row(
    world, head, django_assert_max_num_queries, django_assert_num_queries
):
    kpis = make_kpis(world, 8)
    client = Client()
    client.force_login(head)
    url = reverse("data_entry", args=["acme"])
    client.get(url + "?period=2026-10")

    with django_assert_max_num_queries(PAGE_8_QUERIES):
        response = client.post(url, entry_form(kpis))
    assert response.status_code == 302
    assert set(stored(world)["values"].values()) == {(Decimal(96), 2)}
    with django_assert_num_queries(PAGE_8_QUERIES - 6):  # two of the eight rows changed: six writes fewer
        assert client.post(url, entry_form(kpis[:2], "97", "2")).status_code == 302


def test_saving_a_row_of_the_data_entry_page_costs_a_fixed_number_of_queries(
    world, head, django_assert_max_num_queries
):
    kpis = make_kpis(world, 8)
    client = Client()
    client.force_login(head)
    client.get(reverse("data_entry", args=["acme"]) + "?period=2026-10")

    with django_assert_max_num_queries(ROW_QUERIES):
        response = client.post(reverse("data_entry_row_save", args=["acme", kpis[0].pk]), entry_form(kpis[:1], "97"))
    assert response.status_code == 302
    assert stored(world)["values"][("K00", OCT)] == (Decimal(97), 2)


def test_the_monthly_close_is_checked_in_the_same_few_queries_whatever_the_number_of_kpis(
    world, django_assert_num_queries
):
    company, assembly = make_kpis(world, 3, unit=world.company_a, prefix="C"), make_kpis(world, 3)
    pairs = [(kpi, period) for kpi in company + assembly for period in (SEP, OCT)]  # the KPIs carry their units
    with organization_scope(world.org_a):
        bare = {kpi.pk: kpi for kpi in Kpi.objects.all()}
    with django_assert_num_queries(2):  # the shared locks on the units and their ancestors, the closes
        assert period_close.periods_check_open(organization=world.org_a, pairs=pairs) == {}
    with django_assert_num_queries(3):  # and the units, when the KPIs do not carry theirs
        assert (
            period_close.periods_check_open(organization=world.org_a, pairs=[(bare[k.pk], p) for k, p in pairs]) == {}
        )


# --- Still all or nothing, with the same messages ------------------------------------------------------------


def test_the_batch_close_check_refuses_what_the_single_one_refuses_with_the_same_message(world, head):
    """October is closed for Operations (above Assembly), not for the company: Assembly's October values are refused,
    naming the close, in the bulk API as by the single guard; the company's and September's are taken."""
    company, assembly = make_kpis(world, 2, unit=world.company_a, prefix="C"), make_kpis(world, 2)
    with organization_scope(world.org_a):
        closed_by = factories.add_member(world.org_a, Role.EXECUTIVE).user
        period_close.period_close(unit=world.division_a, month=OCT, by=closed_by)
        expected = {}
        for kpi in assembly:
            with pytest.raises(ValidationError) as single:
                period_close.period_check_open(kpi=kpi, periods=[SEP, OCT])
            expected[kpi.pk] = single.value.message_dict
        for kpi in company:
            period_close.period_check_open(kpi=kpi, periods=[SEP, OCT])  # open
        refusals = period_close.periods_check_open(
            organization=world.org_a, pairs=[(kpi, period) for kpi in company + assembly for period in (SEP, OCT)]
        )
    assert {key: error.message_dict for key, error in refusals.items()} == {
        (kpi.pk, OCT): expected[kpi.pk] for kpi in assembly
    }
    assert expected[assembly[0].pk] == {
        "period": [
            "Oct 2026 is closed for Operations (closed by Executive on 18 Nov 2026): K00's values and targets of that "
            "period cannot change. An admin can reopen it."
        ]
    }

    before = stored(world)
    response = bulk(api(world.admin_a), company + assembly)
    assert (response.status_code, response.json()) == (400, [
        {"index": 2, "errors": expected[assembly[0].pk]},
        {"index": 3, "errors": expected[assembly[1].pk]},
    ])  # fmt: skip
    assert stored(world) == before


def test_a_value_saved_unchanged_in_a_closed_month_is_no_write_and_not_refused(world):
    [kpi] = make_kpis(world, 1)
    with organization_scope(world.org_a):
        period_close.period_close(unit=world.company_a, month=OCT, by=world.admin_a)
    client = api(world.admin_a)
    same = client.post(BULK, [{"kpi": kpi.code, "period": "2026-10", "value": "95", "version": 1}], format="json")
    assert (same.status_code, same.json()[0]["version"]) == (200, 1)


def test_a_refused_last_item_leaves_the_nineteen_before_it_unwritten(world, head):
    kpis = make_kpis(world, 20)
    before = stored(world)
    items = [{"kpi": str(kpi.pk), "period": "2026-10", "value": "96", "version": 1} for kpi in kpis]
    items[-1]["version"] = 7
    response = api(head).post(BULK, items, format="json")
    assert (response.status_code, response.json()) == (400, [
        {"index": 19, "errors": {"value": [
            "Admin of acme changed this value since you loaded the page (now 95); check it and save again."
        ]}},
    ])  # fmt: skip
    assert stored(world) == before


def test_a_value_written_meanwhile_by_another_save_is_refused_and_nothing_is_written(world, head, monkeypatch):
    """Another save inserted the row after this one looked (its lock could not hold a row that did not exist): the
    database's unique constraint refuses the insert, the transaction is rolled back, and the item says so."""
    kpis = make_kpis(world, 3)
    with organization_scope(world.org_a):
        Measurement.objects.filter(kpi=kpis[2]).delete()
    before = stored(world)
    looked = services._values_locked
    with organization_scope(world.org_a):
        raced = Measurement(
            organization=world.org_a, kpi=kpis[2], period=OCT, value=Decimal(90), entered_by=world.admin_a,
            entered_at=datetime(2026, 11, 18, tzinfo=UTC),
        )  # fmt: skip

    def look_then_race(organization, pairs):
        found = looked(organization, pairs)
        with organization_scope(world.org_a):
            raced.save()  # committed by someone else between the look and the insert
        return found

    monkeypatch.setattr(services, "_values_locked", look_then_race)
    items = [{"kpi": str(kpi.pk), "period": "2026-10", "value": "96", "version": 1} for kpi in kpis[:2]]
    items.append({"kpi": str(kpis[2].pk), "period": "2026-10", "value": "96"})
    response = api(head).post(BULK, items, format="json")

    assert response.status_code == 400
    [refused] = response.json()
    assert refused["index"] == 2
    assert refused["errors"]["non_field_errors"][0].startswith(
        "The change conflicts with existing data: duplicate key value violates unique constraint "
        '"measurement_one_per_kpi_period"'
    )
    assert stored(world) == before  # the raced row went with the rollback too: it was in the same transaction


def test_a_kpi_of_another_organization_is_never_recorded_under_this_one(world):
    [ours] = make_kpis(world, 1)
    with organization_scope(world.org_b):
        theirs = services.kpi_create(unit=world.unit_b, name="Sales", code="SAL", baseline=Decimal(0))
    before = stored(world)
    items = [
        services.MeasurementInput(kpi=kpi, period=OCT, value=Decimal(1), expected_version=1) for kpi in (ours, theirs)
    ]
    with pytest.raises(ValueError, match="every KPI must belong to the organization"):
        services.measurements_record(items=items, by=world.admin_a, organization=world.org_a)
    assert stored(world) == before
    assert not Measurement.objects.for_organization(world.org_b).exists()
