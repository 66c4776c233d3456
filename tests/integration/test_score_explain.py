"""The score explainer (kpis/explain.py): its figures equal the stored score on every row of a world that uses every
scoring rule (KPIs, roll-ups, a formula, objectives, perspectives, scorecards; months, quarters and years), its
steps are said with their numbers, and bad input is a clear 400 or 404, never another organization's data."""

from datetime import date
from decimal import Decimal

import pytest

from bsc.tenancy import organization_scope
from kpis import explain
from kpis.models import KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore
from tests.explain_world import make_explain_world

D = Decimal
LEVEL_OF = {KpiScore: "kpi", ObjectiveScore: "objective", PerspectiveScore: "perspective", ScorecardScore: "scorecard"}
OWNER_OF = {KpiScore: "kpi_id", ObjectiveScore: "objective_id", PerspectiveScore: "perspective_id",
            ScorecardScore: "scorecard_id"}  # fmt: skip


@pytest.fixture
def scored(world):
    return make_explain_world(world)


def explained(world, level, owner_id, kind, period):
    with organization_scope(world.org_a):
        return explain.explain(organization=world.org_a, level=level, id=owner_id, kind=kind, period=period)


def test_the_explanation_of_every_stored_score_equals_it_at_every_level_and_kind(world, scored):
    seen = set()
    with organization_scope(world.org_a):
        rows = [(model, row) for model in LEVEL_OF for row in model.objects.for_organization(world.org_a)]
    for model, row in rows:
        x = explained(world, LEVEL_OF[model], getattr(row, OWNER_OF[model]), row.period_kind, row.period)
        figures = (x.score, x.status, x.coverage)
        assert figures == (row.score, row.status, row.coverage), (model.__name__, row, x.steps)
        if model is KpiScore:
            assert (x.progress, x.actual, x.target) == (row.progress, row.actual, row.target), (row, x.steps)
        assert x.matches and not x.note
        seen.add((model, row.period_kind, row.status))
    # the world reaches each level and kind, with scores and grey rows among them
    assert {(m, k) for m, k, _ in seen} == {(m, k) for m in LEVEL_OF for k in ("month", "quarter", "year")}
    assert {s for _, _, s in seen} == {"green", "amber", "red", "grey"}
    assert len(rows) > 150


def test_a_kpi_explains_its_progress_clamp_status_and_coverage_in_words(world, scored):
    # SPD: baseline 0, target 100, Mar 95
    x = explained(world, "kpi", scored.rollups.speed.pk, "month", date(2026, 3, 1))
    assert [line.text for line in x.steps] == [
        "Actual: 95.0 entered for Mar 2026.",
        "Progress = (actual − baseline) / (target − baseline) = (95.0 − 0.0) / (100.0 − 0.0) = 95%.",
        "Score = progress = 95% (within 0–100%, nothing to clamp).",
        "Status: 95% is at or above the green threshold 90%: green (On track).",
        "Coverage 100%: the KPI has its data.",
    ]


def test_a_quarter_aggregates_the_months_by_the_time_aggregation(world, scored):
    x = explained(world, "kpi", scored.total.pk, "quarter", date(2026, 1, 1))
    assert (
        x.steps[0].text == "Actual for Q1 2026 = the total of the 2 of its 3 months with a value: 30.0 + 45.0 = 75.0."
    )
    assert (
        x.steps[1].text
        == "Target for Q1 2026 = the total of the 3 of its 3 months with a value: 40.0 + 40.0 + 40.0 = 120.0."
    )
    assert [(m.label, m.actual, m.target) for m in x.months] == [
        ("Jan 2026", "30.0", "40.0"), ("Feb 2026", "—", "40.0"), ("Mar 2026", "45.0", "40.0"),
    ]  # fmt: skip
    assert x.score == D("0.625")


def test_a_weighted_roll_up_shows_its_children_and_the_one_left_out(world, scored):
    x = explained(world, "kpi", scored.weighted.pk, "month", date(2026, 3, 1))
    assert x.steps[0].text == (
        "Actual = the weighted average of the 1 aligned KPI of sub-units with a value: (3 × 90.0) / (3) = 90.0. "
        "1 without a value is left out."
    )
    assert [(c.name, c.included) for c in x.children] == [("MN · MN name", True), ("MX · MX name", False)]
    assert x.coverage == D("0.75")
    assert x.steps[-1].text == (
        "Coverage 75%: the weight of the aligned KPIs with a value over the weight of all of them."
    )


def test_a_formula_names_the_values_it_took(world, scored):
    x = explained(world, "kpi", scored.formula.pk, "month", date(2026, 1, 1))
    assert x.steps[0].text == "Actual = CO + DIV / 3 with CO = 70.0, DIV = 70.0 = 93.333333."


def test_an_objective_renormalises_the_weights_of_the_items_with_data(world, scored):
    x = explained(world, "objective", scored.formula.objective_id, "month", date(2026, 1, 1))
    names = [c.name for c in x.children]
    assert names == ["CO · CO", "FRM · FRM name", "NONE · NONE name", "Deliver"]
    texts = {line.step: line.text for line in x.steps}
    assert texts["left_out"] == "Left out for missing data: NONE · NONE name (weight 1 of 4)."
    assert texts["weights"].startswith("Weights renormalised over the items with data: CO · CO 1 / 3 = 33%,")
    assert texts["coverage"] == "Coverage = weight with data / total weight = 3 / 4 = 75%."


def test_a_perspective_without_data_and_an_objective_without_items_are_grey_with_a_reason(world, scored):
    with organization_scope(world.org_a):
        objective = scored.formula.objective.scorecard.objectives.get(name="Nothing measured yet")
    x = explained(world, "objective", objective.pk, "month", date(2026, 1, 1))
    assert (x.score, x.status, x.coverage) == (None, "grey", D(0))
    assert x.steps[1].text == "Nothing to score: no KPIs and no aligned objectives. The score is grey."


@pytest.mark.parametrize(
    ("level", "kind", "period", "message", "not_found"),
    [
        ("unit", "month", date(2026, 1, 1), "“unit” is not a level of score: kpi, objective, perspective or scorecard.", False),
        ("kpi", "week", date(2026, 1, 1), "“week” is not a kind of period: month, quarter or year.", False),
        ("kpi", "quarter", date(2026, 2, 1), "2026-02 does not start a fiscal quarter: name it by its first month, "
         "2026-01 for Q1 2026.", False),
        ("kpi", "month", date(2025, 1, 1), "No score is stored for KPI SPD in Jan 2025: the organization has no values "
         "or targets in that period (or a recompute has not reached it yet).", True),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_message_naming_it(world, scored, level, kind, period, message, not_found):
    with pytest.raises(explain.ExplainError) as refused:
        explained(world, level, scored.rollups.speed.pk, kind, period)
    assert (refused.value.message, refused.value.not_found) == (message, not_found)


def test_another_organizations_kpi_is_not_found(world, scored):
    with pytest.raises(explain.ExplainError) as refused, organization_scope(world.org_b):
        explain.explain(organization=world.org_b, level="kpi", id=scored.rollups.speed.pk, kind="month",
                        period=date(2026, 1, 1))  # fmt: skip
    assert refused.value.not_found
    assert refused.value.message == f"No KPI {scored.rollups.speed.pk} in this organization."


# --- The API ----------------------------------------------------------------------------------------------------------

API = "/api/v1/o/acme/scores/explain/"


def api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(user)
    return client


def test_the_api_gives_the_explanation_with_its_steps_and_children(world, scored):
    client = api_client(world.viewer_a)
    objective = scored.rollups.speed.objective_id
    answer = client.get(API, {"level": "objective", "id": objective, "period": "2026-01", "kind": "quarter"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    with organization_scope(world.org_a):
        stored = ObjectiveScore.objects.get(objective_id=objective, period_kind="quarter", period=date(2026, 1, 1))
    assert (body["score"], body["status"], body["coverage"]) == (str(stored.score), stored.status, str(stored.coverage))
    assert body["stored"]["score"] == body["score"] and body["matches"] is True
    assert body["label"] == "Q1 2026" and body["period"] == "2026-01"
    assert [c["name"] for c in body["children"]] == ["BND · BND name", "QLT · QLT", "SPD · SPD", "SUMK · SUMK name",
                                                     "ZLT · ZLT name"]  # fmt: skip
    band = body["children"][0]
    assert (
        band["explain"] == f"/api/v1/o/acme/scores/explain/?level=kpi&id={scored.band.pk}&kind=quarter&period=2026-01"
    )
    assert band["explain_page"] == f"/o/acme/scores/explain/?level=kpi&id={scored.band.pk}&kind=quarter&period=2026-01"
    assert band["page"] == f"/o/acme/kpis/{scored.band.pk}/"
    assert client.get(band["explain"]).json()["name"] == "BND · BND name"
    assert [s["step"] for s in body["steps"]][-3:] == ["weighted", "coverage", "status"]


@pytest.mark.parametrize(
    ("query", "status", "body"),
    [
        ({"level": "unit", "id": "1", "period": "2026-01"}, 400,
         {"level": ["“unit” is not a level of score: kpi, objective, perspective or scorecard."]}),
        ({"level": "kpi", "period": "2026-01"}, 400, {"id": ["Name the score's owner: ?id=<id>."]}),
        ({"level": "kpi", "id": "x", "period": "2026-01"}, 400, {"id": ["A valid integer is required."]}),
        ({"level": "kpi", "id": "SPD", "period": "2026-13"}, 400, None),
        ({"level": "kpi", "id": "SPD", "period": "2026-02", "kind": "quarter"}, 400,
         {"period": ["2026-02 does not start a fiscal quarter: name it by its first month, 2026-01 for Q1 2026."]}),
        ({"level": "kpi", "id": "SPD", "period": "2024-01"}, 404,
         {"detail": "No score is stored for KPI SPD in Jan 2024: the organization has no values or targets in that "
                    "period (or a recompute has not reached it yet)."}),
        ({"level": "kpi", "id": "999999", "period": "2026-01"}, 404, {"detail": "No KPI 999999 in this organization."}),
    ],
)  # fmt: skip
def test_the_api_refuses_bad_input_naming_it(world, scored, query, status, body):
    query = {k: (str(scored.rollups.speed.pk) if v == "SPD" else v) for k, v in query.items()}
    answer = api_client(world.admin_a).get(API, query)
    assert answer.status_code == status
    if body is not None:
        assert answer.json() == body
    else:
        assert list(answer.json()) == ["period"]


def test_the_api_answers_404_for_another_organizations_score(world, scored):
    query = {"level": "kpi", "id": scored.rollups.speed.pk, "period": "2026-01"}
    assert api_client(world.member_b).get(API, query).status_code == 404  # not a member of acme
    answer = api_client(world.member_b).get("/api/v1/o/globex/scores/explain/", query)
    assert answer.status_code == 404
    assert answer.json() == {"detail": f"No KPI {scored.rollups.speed.pk} in this organization."}


# --- The pages --------------------------------------------------------------------------------------------------------


def page_client(client, user):
    client.force_login(user)
    return client


def test_the_scorecard_page_offers_why_this_score_for_each_stored_score(client, world, scored):
    page = page_client(client, world.viewer_a).get(
        f"/o/acme/scorecards/{world.department_a.pk}/", {"period": "2026-03", "kind": "quarter"}
    )
    html = page.content.decode()
    # the scorecard, its four perspectives, the objective and its five KPIs, the two KPIs of no objective
    assert html.count('class="explain-toggle') == 1 + 4 + 1 + 5 + 2
    assert (
        f"/o/acme/scores/explain/?level=kpi&amp;id={scored.rollups.speed.pk}&amp;kind=quarter&amp;period=2026-01"
        in html
    )


def test_the_kpi_page_offers_why_this_score_for_each_scored_month(client, world, scored):
    html = (
        page_client(client, world.viewer_a)
        .get(f"/o/acme/kpis/{scored.rollups.speed.pk}/", {"until": "2026-03"})
        .content.decode()
    )
    assert html.count('class="explain-toggle') == 3
    assert f"level=kpi&amp;kind=month&amp;id={scored.rollups.speed.pk}&amp;period=2026-02" in html


def test_the_fragment_and_the_page_show_the_steps(client, world, scored):
    c = page_client(client, world.viewer_a)
    url = f"/o/acme/scores/explain/?level=kpi&id={scored.rollups.speed.pk}&kind=month&period=2026-03"
    fragment = c.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in fragment
    assert "Progress = (actual − baseline) / (target − baseline) = (95.0 − 0.0) / (100.0 − 0.0) = 95%." in fragment
    page = c.get(url)
    assert page.status_code == 200 and "<h1>Why this score?</h1>" in page.content.decode()


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("level=unit&id=1&period=2026-01", 400, "“unit” is not a level of score"),
        ("level=kpi&id=1&period=2026-1x", 400, "is not a period"),
        ("level=kpi&id=abc&period=2026-01", 400, "“abc” is not the id of a score&#x27;s owner"),
        ("level=kpi&id=999999&period=2026-01", 404, "No KPI 999999 in this organization."),
    ],
)
def test_the_page_refuses_bad_input_with_a_message_and_the_fragment_says_it_in_the_panel(
    client, world, scored, query, status, message
):
    c = page_client(client, world.viewer_a)
    page = c.get(f"/o/acme/scores/explain/?{query}")
    assert page.status_code == status and message in page.content.decode()
    fragment = c.get(f"/o/acme/scores/explain/?{query}", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and message in fragment.content.decode()


def test_another_organizations_score_is_a_404_page(client, world, scored):
    c = page_client(client, world.member_b)
    page = c.get(f"/o/globex/scores/explain/?level=kpi&id={scored.rollups.speed.pk}&kind=month&period=2026-01")
    assert page.status_code == 404
    assert str(scored.rollups.speed.pk) in page.content.decode()


# --- The demo ---------------------------------------------------------------------------------------------------------

SAMPLE_PER_LEVEL_AND_KIND = 15


def test_the_explanation_equals_a_random_sample_of_the_demos_stored_scores(db):
    """The demo (about 30 s to seed on a 2-core machine): its roll-ups, time aggregations and aligned objectives,
    15 random rows of each level and kind, drawn with a fixed seed."""
    import random

    from django.core.management import call_command

    from bsc.models import Organization
    from bsc.tenancy import dangerously_unscoped

    call_command("seed_demo")
    with dangerously_unscoped():
        organization = Organization.objects.get(slug="northwind")
    draw = random.Random(20261206)
    checked = 0
    with organization_scope(organization):
        for model, level in LEVEL_OF.items():
            for kind in ("month", "quarter", "year"):
                ids = list(
                    model.objects.for_organization(organization).filter(period_kind=kind).values_list("pk", flat=True)
                )
                for row in model.objects.filter(
                    pk__in=draw.sample(sorted(ids), min(len(ids), SAMPLE_PER_LEVEL_AND_KIND))
                ):
                    x = explain.explain(
                        organization=organization, level=level, id=getattr(row, OWNER_OF[model]), kind=kind,
                        period=row.period,
                    )  # fmt: skip
                    assert (x.score, x.status, x.coverage) == (row.score, row.status, row.coverage), (row, x.steps)
                    if model is KpiScore:
                        assert (x.progress, x.actual, x.target) == (row.progress, row.actual, row.target), (
                            row,
                            x.steps,
                        )
                    assert x.matches
                    checked += 1
    assert checked == len(LEVEL_OF) * 3 * SAMPLE_PER_LEVEL_AND_KIND


def test_an_explanations_query_count_does_not_grow_with_its_children(world, scored):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kpis import services
    from kpis.recompute import scores_recompute_full

    objective = scored.rollups.speed.objective

    def count():
        with CaptureQueriesContext(connection) as queries:
            explained(world, "objective", objective.pk, "month", date(2026, 1, 1))
            explained(world, "kpi", scored.weighted.pk, "month", date(2026, 1, 1))
        return len(queries)

    before = count()
    with organization_scope(world.org_a):
        for i in range(5):
            services.kpi_create(unit=world.department_a, name=f"More {i}", code=f"MORE{i}", objective=objective,
                                baseline=D(0), aligned_to=scored.weighted)  # fmt: skip
        scores_recompute_full(organization=world.org_a)
    assert count() == before
