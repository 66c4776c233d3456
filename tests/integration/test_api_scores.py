"""The read API of stored scores (`scores/`) and of forecasts (`kpis/<id>/forecast/`), and the forecast selectors:
the API's figures are the stored score rows; bad input is a 400 or 404 naming what is wrong; another
organization's unit or KPI is a 404. The forecasts read the current fiscal year, so these tests happen on a fixed
day (18 Nov 2026, fiscal year = calendar year) whatever BSC_TEST_NOW says."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from bsc import strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from kpis import services
from kpis.forecast_selectors import kpi_forecasts, kpis_likely_to_miss
from kpis.models import KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore
from kpis.recompute import scores_recompute_full

API = "/api/v1/o/acme/"
D = Decimal


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def scored(world):
    """Acme's company unit: an objective with a summed KPI (SAL, at risk) and an averaged one (OTD, will miss),
    an objective-less KPI with three values (NPS, no forecast); values Jan..Jun 2026, targets for the whole year;
    stored scores rebuilt. Globex: a KPI with a value."""
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        admin = world.admin_a
        with organization_scope(world.org_a):
            band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
            objective = strategy.objective_create(perspective=band, name="Grow sales")
            sales = services.kpi_create(
                unit=world.company_a, name="Sales", code="SAL", baseline=D(0), time_aggregation="sum",
                objective=objective, weight=2,
            )  # fmt: skip
            on_time = services.kpi_create(
                unit=world.company_a, name="On time", code="OTD", baseline=D(50), objective=objective
            )
            nps = services.kpi_create(unit=world.company_a, name="NPS", code="NPS", baseline=D(0))
            for kpi, value in ((sales, 120), (on_time, 80), (nps, 50)):
                services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=D(value), by=admin)
            series = {sales: [80, 85, 90, 95, 100, 105], on_time: [60, 59, 58, 57, 56, 55], nps: [10, 20, 30]}
            for kpi, values in series.items():
                for month, value in enumerate(values, start=1):
                    services.measurement_record(
                        kpi=kpi, period=date(2026, month, 1), value=D(value), by=admin, schedule=False
                    )
            scores_recompute_full(organization=world.org_a)
        with organization_scope(world.org_b):
            theirs = services.kpi_create(unit=world.unit_b, name="Globex sales", code="GLX", baseline=D(0))
            services.measurement_record(kpi=theirs, period=date(2026, 3, 1), value=D(7), by=world.member_b)
            scores_recompute_full(organization=world.org_b)
        yield {"sales": sales, "on_time": on_time, "nps": nps, "objective": objective, "theirs": theirs}


def text(value) -> str | None:
    return None if value is None else str(value)


def stored(row) -> dict:
    return {"score": text(row.score), "status": row.status, "coverage": str(row.coverage)}


def test_the_scores_of_a_month_are_the_stored_rows(world, scored):
    response = client_for(world.viewer_a).get(API + "scores/", {"unit": world.company_a.pk, "period": "2026-06"})
    assert response.status_code == 200, response.json()
    body = response.json()
    with organization_scope(world.org_a):
        card = ScorecardScore.objects.get(scorecard__unit=world.company_a, period_kind="month", period=date(2026, 6, 1))
        assert {k: body[k] for k in ("score", "status", "coverage")} == stored(card)
        assert (body["kind"], body["period"], body["label"]) == ("month", "2026-06", "Jun 2026")
        assert body["unit"] == {"id": world.company_a.pk, "name": world.company_a.name}
        assert [p["name"] for p in body["perspectives"]] == list(
            Perspective.objects.filter(scorecard__unit=world.company_a).values_list("name", flat=True)
        )
        for perspective in body["perspectives"]:
            row = PerspectiveScore.objects.get(
                perspective_id=perspective["id"], period_kind="month", period="2026-06-01"
            )
            assert {k: perspective[k] for k in ("score", "status", "coverage")} == stored(row)
        customer = next(p for p in body["perspectives"] if p["name"] == "Customer")
        [objective] = customer["objectives"]
        row = ObjectiveScore.objects.get(objective=scored["objective"], period_kind="month", period="2026-06-01")
        assert {k: objective[k] for k in ("score", "status", "coverage")} == stored(row)
        assert [k["code"] for k in objective["kpis"]] == ["OTD", "SAL"]
        for line in objective["kpis"] + body["unlinked_kpis"]:
            row = KpiScore.objects.get(kpi_id=line["id"], period_kind="month", period="2026-06-01")
            assert [line["actual"], line["target"], line["progress"]] == [
                text(row.actual),
                text(row.target),
                text(row.progress),
            ]
            assert {k: line[k] for k in ("score", "status", "coverage")} == stored(row)
    # the worked numbers: SAL 105 of 120 (0.875, amber), OTD 55 from 50 to 80 (0.1667, red); weights 2 and 1
    sal = next(k for k in objective["kpis"] if k["code"] == "SAL")
    assert (sal["actual"], sal["target"], sal["score"], sal["status"]) == (
        "105.000000",
        "120.000000",
        "0.8750",
        "amber",
    )
    assert objective["score"] == "0.6389" and objective["coverage"] == "1.0000"  # (2 x 0.875 + 0.1667) / 3
    assert [k["code"] for k in body["unlinked_kpis"]] == ["NPS"]
    nps = body["unlinked_kpis"][0]
    assert (nps["actual"], nps["score"], nps["status"]) == (None, None, "grey")  # no June value


def test_a_quarter_and_a_year_are_their_stored_aggregates(world, scored):
    client = client_for(world.admin_a)
    for kind, period, label, actual in (
        ("quarter", "2026-04", "Q2 2026", "300.000000"),
        ("year", "2026-01", "2026", "555.000000"),
    ):
        body = client.get(API + "scores/", {"unit": world.company_a.pk, "period": period, "kind": kind}).json()
        assert (body["kind"], body["label"]) == (kind, label)
        with organization_scope(world.org_a):
            card = ScorecardScore.objects.get(scorecard__unit=world.company_a, period_kind=kind, period=f"{period}-01")
            sal = KpiScore.objects.get(kpi=scored["sales"], period_kind=kind, period=f"{period}-01")
        assert {k: body[k] for k in ("score", "status", "coverage")} == stored(card)
        line = next(k for p in body["perspectives"] for o in p["objectives"] for k in o["kpis"] if k["code"] == "SAL")
        assert line["actual"] == str(sal.actual) == actual  # 95 + 100 + 105; Jan..Jun summed


@pytest.mark.parametrize(
    ("query", "status", "answer"),
    [
        ({"period": "2026-06"}, 400, {"unit": ["Name the unit whose scores you want: ?unit=<id>."]}),
        ({"unit": "x1", "period": "2026-06"}, 400, {"unit": ["A valid integer is required."]}),
        ({"unit": "COMPANY"}, 400, {"period": ["Name the period: ?period=YYYY-MM, e.g. 2026-03."]}),
        ({"unit": "COMPANY", "period": "2026-6"}, 400, {"period": ["“2026-6” is not a period; write it as YYYY-MM, e.g. 2026-03."]}),
        (
            {"unit": "COMPANY", "period": "2026-05", "kind": "quarter"}, 400,
            {"period": ["2026-05 does not start a fiscal quarter: name it by its first month, 2026-04 for Q2 2026."]},
        ),
        (
            {"unit": "COMPANY", "period": "2026-03", "kind": "year"}, 400,
            {"period": ["2026-03 does not start a fiscal year: name it by its first month, 2026-01 for 2026."]},
        ),
        (
            {"unit": "COMPANY", "period": "2019-01"}, 400,
            {"period": ["No scores are stored for Jan 2019: the organization's data runs from Jan 2026 to Dec 2026."]},
        ),
        ({"unit": "COMPANY", "period": "2026-06", "kind": "week"}, 400, {"kind": ["“week” is not a kind of period: month, quarter or year."]}),
        ({"unit": "GLOBEX", "period": "2026-03"}, 404, {"detail": "No unit {GLOBEX} in this organization."}),
        ({"unit": "999999999", "period": "2026-03"}, 404, {"detail": "No unit 999999999 in this organization."}),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_what_is_wrong(world, scored, query, status, answer):
    units = {"COMPANY": str(world.company_a.pk), "GLOBEX": str(world.unit_b.pk)}
    query = {name: units.get(value, value) for name, value in query.items()}
    response = client_for(world.admin_a).get(API + "scores/", query)
    assert response.status_code == status
    expected = {k: (v.replace("{GLOBEX}", units["GLOBEX"]) if isinstance(v, str) else v) for k, v in answer.items()}
    assert response.json() == expected


def test_another_organizations_scores_are_not_found(world, scored):
    response = client_for(world.member_b).get(API + "scores/", {"unit": world.company_a.pk, "period": "2026-06"})
    assert response.status_code == 404
    assert b"Grow sales" not in response.content


def test_the_forecast_of_a_sum_kpi(world, scored):
    response = client_for(world.viewer_a).get(API + f"kpis/{scored['sales'].pk}/forecast/")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("code", "fiscal_year", "fiscal_year_label", "available", "classification", "label")} == {
        "code": "SAL", "fiscal_year": 2026, "fiscal_year_label": "2026", "available": True,
        "classification": "at_risk", "label": "At risk",
    }  # fmt: skip
    # 555 entered + 110 + 115 + ... + 135 on the line = 1290 against 12 x 120 = 1440
    assert (body["aggregation"], body["value"], body["target"], body["progress"]) == (
        "sum", "1290.000000", "1440.000000", "0.8958",
    )  # fmt: skip
    assert (body["status"], body["slope"], body["year_end"]) == ("amber", "5.000000", "2026-12")
    assert body["fitted"] == [f"2026-{m:02d}" for m in range(1, 7)]
    assert body["line"][0] == {"period": "2026-06", "value": "105.000000"}
    assert body["line"][-1] == {"period": "2026-12", "value": "135.000000"}
    assert body["summary"].startswith("At risk: a 2026 total of 1,290.0 projected against the year's target of 1,440.0")
    assert body["method"].startswith("Method: the 6 months entered add up to 555.0;")


def test_no_forecast_says_why(world, scored):
    body = client_for(world.admin_a).get(API + f"kpis/{scored['nps'].pk}/forecast/").json()
    assert (body["available"], body["classification"], body["value"], body["line"]) == (False, None, None, [])
    assert body["reason"] == "3 months of this fiscal year have a value; a forecast needs at least 6."
    assert body["summary"] == "No forecast. " + body["reason"]


def test_another_organizations_kpi_has_no_forecast_here(world, scored):
    response = client_for(world.admin_a).get(API + f"kpis/{scored['theirs'].pk}/forecast/")
    assert response.status_code == 404
    assert b"Globex" not in response.content


def test_forecasts_of_many_kpis_take_one_query(world, scored, django_assert_num_queries):
    kpis = [scored["sales"], scored["on_time"], scored["nps"]]
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC)), organization_scope(world.org_a):
        with django_assert_num_queries(1):
            forecasts = kpi_forecasts(organization=world.org_a, kpis=kpis)
        assert [forecasts[k.pk].classification for k in kpis] == ["at_risk", "will_miss", None]
        with django_assert_num_queries(2):
            missing = kpis_likely_to_miss(organization=world.org_a, unit=world.company_a)
        assert [(kpi.code, forecast.value) for kpi, forecast in missing] == [("OTD", D(49))]
        assert kpis_likely_to_miss(organization=world.org_a, unit=world.division_a) == []


def test_the_scores_take_the_same_queries_whatever_the_number_of_kpis(world, scored):
    client = client_for(world.admin_a)
    query = {"unit": world.company_a.pk, "period": "2026-06"}

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(API + "scores/", query).status_code == 200
        return len(queries)

    before = count()
    with organization_scope(world.org_a):
        for i in range(5):
            services.kpi_create(
                unit=world.company_a, name=f"Extra {i}", code=f"X{i}", baseline=D(0), objective=scored["objective"]
            )
        scores_recompute_full(organization=world.org_a)
    assert count() == before
