"""Stored scores follow the scoring contract (DESIGN.md section 5) through KPIs, objectives, perspectives
and scorecards, with worked numbers."""

from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from bsc import org_calendar, strategy
from bsc.models import Perspective, Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import (
    Kpi,
    KpiScore,
    Measurement,
    ObjectiveScore,
    PendingRecompute,
    PerspectiveScore,
    ScorecardScore,
    Target,
)
from kpis.recompute import scores_recompute
from kpis.selectors import scores_recomputing, units_recomputing
from tests import factories

MARCH = date(2026, 3, 1)


@pytest.fixture
def scope_a(world):
    with organization_scope(world.org_a):
        yield


def band(unit, name="Customer"):
    return Perspective.objects.get(scorecard__unit=unit, name=name)


def record(kpi, value, by, period=MARCH):
    return services.measurement_record(kpi=kpi, period=period, value=Decimal(value), by=by, schedule=False)


def target(kpi, value, by, period=MARCH):
    services.target_set_year(kpi=kpi, fiscal_year=period.year, mode="same", value=Decimal(value), by=by)


def kpi_score(kpi, kind="month", period=MARCH):
    return KpiScore.objects.get(kpi=kpi, period_kind=kind, period=period)


def test_a_company_objective_scores_the_weighted_mean_of_its_kpis_with_coverage(world, scope_a):
    admin = world.admin_a
    objective = strategy.objective_create(perspective=band(world.company_a), name="Delight customers")
    k1 = services.kpi_create(
        unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100), weight=2, objective=objective
    )
    k2 = services.kpi_create(
        unit=world.company_a,
        name="Complaints",
        code="CMP",
        baseline=Decimal(10),
        direction="decrease",
        objective=objective,
    )
    k3 = services.kpi_create(unit=world.company_a, name="NPS", code="NPS", baseline=Decimal(0), objective=objective)
    target(k1, 200, admin)
    target(k2, 5, admin)
    target(k3, 50, admin)
    record(k1, 150, admin)
    record(k2, 6, admin)
    scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months={MARCH})

    s1, s2, s3 = kpi_score(k1), kpi_score(k2), kpi_score(k3)
    assert (s1.actual, s1.target, s1.progress, s1.score, s1.status) == (150, 200, Decimal("0.5"), Decimal("0.5"), "red")
    assert (s2.progress, s2.score, s2.status) == (Decimal("0.8"), Decimal("0.8"), "amber")
    assert (s3.score, s3.status, s3.coverage) == (None, "grey", 0)
    o = ObjectiveScore.objects.get(objective=objective, period_kind="month", period=MARCH)
    assert (o.score, o.coverage, o.status) == (Decimal("0.6"), Decimal("0.75"), "amber")  # (2*0.5 + 0.8) / 3
    p = PerspectiveScore.objects.get(perspective=objective.perspective, period_kind="month", period=MARCH)
    assert (p.score, p.coverage) == (Decimal("0.6"), Decimal("1"))
    card = ScorecardScore.objects.get(scorecard__unit=world.company_a, period_kind="month", period=MARCH)
    assert (card.score, card.coverage) == (Decimal("0.6"), Decimal("0.25"))  # one of four perspectives has data


def test_over_achievement_is_shown_but_clamped_in_the_score(world, scope_a):
    k = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
    target(k, 200, world.admin_a)
    record(k, 250, world.admin_a)
    scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months={MARCH})
    s = kpi_score(k)
    assert (s.progress, s.score, s.status) == (Decimal("1.5"), Decimal("1"), "green")


def test_an_aligned_child_objective_feeds_its_parent_objective(world, scope_a):
    admin = world.admin_a
    parent = strategy.objective_create(perspective=band(world.company_a), name="Delight customers")
    child = strategy.objective_create(perspective=band(world.division_a), name="Ship on time", aligned_to=parent)
    k_parent = services.kpi_create(
        unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100), objective=parent
    )
    k_child = services.kpi_create(
        unit=world.division_a, name="On time", code="OTD", baseline=Decimal(80), objective=child
    )
    target(k_parent, 200, admin)
    target(k_child, 100, admin)
    record(k_parent, 150, admin)  # 0.5
    record(k_child, 100, admin)  # 1.0
    scores_recompute(organization=world.org_a, unit_ids={world.division_a.pk}, months={MARCH})
    o = ObjectiveScore.objects.get(objective=parent, period_kind="month", period=MARCH)
    assert (o.score, o.coverage) == (Decimal("0.75"), Decimal("1"))


def test_quarter_and_year_views_aggregate_months_by_the_kpis_time_aggregation(world, scope_a):
    admin = world.admin_a
    k = services.kpi_create(
        unit=world.company_a, name="Units shipped", code="SHIP", baseline=Decimal(0), time_aggregation="sum"
    )
    services.target_set_year(kpi=k, fiscal_year=2026, mode="same", value=Decimal(100), by=admin)
    for month, value in ((1, 90), (2, 100), (3, 110)):
        record(k, value, admin, period=date(2026, month, 1))
    scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months={MARCH})
    q = kpi_score(k, "quarter", date(2026, 1, 1))
    assert (q.actual, q.target, q.score) == (300, 300, Decimal("1"))
    y = kpi_score(k, "year", date(2026, 1, 1))
    assert (y.actual, y.target) == (300, 1200)
    assert y.score == Decimal("0.25")


def test_a_formula_kpi_is_computed_from_the_kpis_it_names(world, scope_a):
    admin = world.admin_a
    revenue = services.kpi_create(unit=world.company_a, name="Revenue", code="REV", baseline=Decimal(0))
    cost = services.kpi_create(unit=world.company_a, name="Cost", code="COST", baseline=Decimal(0))
    margin = services.kpi_create(
        unit=world.company_a, name="Cost ratio", code="RATIO", baseline=Decimal(2), source="formula",
        formula="REV / COST", direction="decrease",
    )  # fmt: skip
    target(margin, 1, admin)
    record(revenue, 150, admin)
    record(cost, 120, admin)
    scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months={MARCH})
    s = kpi_score(margin)
    assert (s.actual, s.progress) == (Decimal("1.25"), Decimal("0.75"))


def test_a_formula_referring_to_itself_or_an_unknown_code_is_refused(world, scope_a):
    with pytest.raises(ValidationError) as error:
        services.kpi_create(
            unit=world.company_a, name="Loop", code="LOOP", source="formula", formula="LOOP * 2", baseline=0
        )
    assert error.value.message_dict["formula"] == ["The formula refers to its own KPI 'LOOP'."]
    with pytest.raises(ValidationError) as error:
        services.kpi_create(unit=world.company_a, name="X", code="X", source="formula", formula="NOPE + 1", baseline=0)
    assert error.value.message_dict["formula"] == ["Unknown KPI code 'NOPE'."]


def test_a_stale_measurement_save_is_refused_with_the_newer_value(world, scope_a):
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user
    k = services.kpi_create(unit=world.division_a, name="On time", code="OTD", baseline=Decimal(80))
    first = record(k, 90, world.admin_a)
    with pytest.raises(services.StaleMeasurementError) as error:
        services.measurement_record(kpi=k, period=MARCH, value=Decimal(95), by=head, expected_version=None)
    assert error.value.message_dict == {
        "version": ["This period already has a value (version 1); send its version to change it."]
    }
    assert error.value.changed_message == (
        "Admin of acme changed this value since you loaded the page (now 90); check it and save again."
    )
    second = services.measurement_record(
        kpi=k, period=MARCH, value=Decimal(95), by=head, expected_version=first.version, schedule=False
    )
    assert (second.value, second.version) == (95, 2)
    with pytest.raises(services.StaleMeasurementError) as error:
        services.measurement_record(kpi=k, period=MARCH, value=Decimal(96), by=head, expected_version=first.version)
    assert error.value.message_dict == {
        "value": ["This value was changed since you loaded the page (now 95); check it and save again."]
    }
    assert Measurement.objects.get(kpi=k).version == 2


def test_a_target_equal_to_the_baseline_scores_one_when_met_in_the_kpis_direction_else_zero(world, scope_a):
    admin = world.admin_a
    accidents = services.kpi_create(
        unit=world.company_a, name="Lost-time accidents", code="LTA", baseline=Decimal(0), direction="decrease",
        time_aggregation="sum",
    )  # fmt: skip
    uptime = services.kpi_create(unit=world.company_a, name="Uptime", code="UP", baseline=Decimal(95))
    services.target_set_year(kpi=accidents, fiscal_year=2026, mode="same", value=Decimal(0), by=admin)
    services.target_create(kpi=uptime, period=MARCH, value=Decimal(95))
    record(accidents, 0, admin, period=date(2026, 1, 1))
    record(accidents, 2, admin, period=date(2026, 2, 1))
    record(accidents, 0, admin, period=MARCH)
    record(uptime, "94.9", admin)
    quarter = {date(2026, month, 1) for month in (1, 2, 3)}
    scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months=quarter)

    scored = {
        (s.kpi.code, s.period_kind, s.period): (s.actual, s.target, s.progress, s.score, s.status)
        for s in KpiScore.objects.select_related("kpi")
    }
    assert scored[("LTA", "month", date(2026, 1, 1))] == (0, 0, 1, 1, "green")
    assert scored[("LTA", "month", date(2026, 2, 1))] == (2, 0, 0, 0, "red")
    assert scored[("LTA", "month", MARCH)] == (0, 0, 1, 1, "green")
    assert scored[("LTA", "quarter", date(2026, 1, 1))] == (2, 0, 0, 0, "red")  # summed: 2 accidents, target 0
    assert scored[("UP", "month", MARCH)] == (Decimal("94.9"), 95, 0, 0, "red")
    services.measurement_record(
        kpi=uptime, period=MARCH, value=Decimal(95), by=admin, expected_version=1, schedule=False
    )
    scores_recompute(organization=world.org_a, kpi_ids={uptime.pk}, months={MARCH})
    s = kpi_score(uptime)
    assert (s.progress, s.score, s.status) == (1, 1, "green")


def test_a_baseline_or_a_recalibration_may_equal_the_target(world, scope_a):
    k = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
    targets = services.target_set_year(kpi=k, fiscal_year=2026, mode="same", value=Decimal(120), by=world.admin_a)
    changed = services.target_recalibrate(target=targets[0], value=Decimal(100), reason="Flat year", by=world.admin_a)
    assert (changed.value, changed.original_value) == (100, 120)
    services.kpi_update(kpi=k, baseline=Decimal(120))
    k.refresh_from_db()
    assert k.baseline == 120


def test_a_recalibration_keeps_the_original_target_who_when_and_why(world, scope_a):
    k = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
    targets = services.target_set_year(kpi=k, fiscal_year=2026, mode="ramp", year_end=Decimal(220), by=world.admin_a)
    assert [t.value for t in targets][:3] == [Decimal(110), Decimal(120), Decimal(130)]
    changed = services.target_recalibrate(
        target=targets[2], value=Decimal(125), reason="Plant shutdown", by=world.admin_a
    )
    assert (changed.value, changed.original_value) == (125, 130)
    log = changed.recalibrations.get()
    assert (log.old_value, log.new_value, log.reason, log.changed_by) == (130, 125, "Plant shutdown", world.admin_a)


def test_periods_must_fit_the_kpis_frequency(world, scope_a):
    k = services.kpi_create(
        unit=world.company_a, name="Audit score", code="AUD", baseline=Decimal(0), frequency="quarterly"
    )
    with pytest.raises(ValidationError) as error:
        services.measurement_record(kpi=k, period=date(2026, 2, 1), value=Decimal(1), by=world.admin_a, schedule=False)
    assert error.value.message_dict["period"] == [
        "AUD is quarterly: its periods start in the first month of a fiscal quarter."
    ]


@pytest.mark.dates
@pytest.mark.parametrize("time_zone", ["Europe/Berlin", "America/New_York"])
def test_values_may_be_entered_up_to_the_current_period_in_the_organizations_zone(world, scope_a, time_zone):
    world.org_a.time_zone = time_zone
    world.org_a.save(update_fields=["time_zone"])
    monthly = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(0))
    yearly = services.kpi_create(
        unit=world.company_a, name="Audit", code="AUD", baseline=Decimal(0), frequency="annual"
    )
    month = org_calendar.this_month(world.org_a)
    next_month = org_calendar.month_shift(month, 1)
    this_year = org_calendar.window_start("year", month, 1)
    next_year = org_calendar.month_shift(this_year, 12)

    assert record(monthly, 5, world.admin_a, period=month).period == month  # month-end actuals, entered early
    assert record(yearly, 5, world.admin_a, period=this_year).period == this_year  # the year under way
    for kpi, period, message in (
        (monthly, next_month, f"{org_calendar.month_label(next_month)} is in the future: values can be entered up to "
                              f"{org_calendar.month_label(month)}."),
        (yearly, next_year, f"{next_year.year} is in the future: values can be entered up to {this_year.year}."),
    ):  # fmt: skip
        with pytest.raises(ValidationError) as error:
            record(kpi, 5, world.admin_a, period=period)
        assert error.value.message_dict == {"period": [message]}
    assert Measurement.objects.filter(period__gt=month).count() == 0


@pytest.mark.dates
def test_targets_may_be_set_from_2000_to_ten_fiscal_years_ahead(world, scope_a):
    k = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(0))
    year = org_calendar.current_fiscal_year(world.org_a)
    last = date(year + 10, 12, 1)
    allowed = f"targets can be set for periods from Jan 2000 to Dec {year + 10}."

    assert services.target_create(kpi=k, period=date(2000, 1, 1), value=Decimal(1)).period == date(2000, 1, 1)
    assert services.target_create(kpi=k, period=last, value=Decimal(1)).period == last
    refused = {
        date(1900, 1, 1): f"Jan 1900 is too early: {allowed}",
        date(1999, 12, 1): f"Dec 1999 is too early: {allowed}",
        org_calendar.month_shift(last, 1): f"Jan {year + 11} is too far ahead: {allowed}",
    }
    for period, message in refused.items():
        with pytest.raises(ValidationError) as error:
            services.target_create(kpi=k, period=period, value=Decimal(1))
        assert error.value.message_dict == {"period": [message]}
    with pytest.raises(ValidationError) as error:
        services.target_set_year(kpi=k, fiscal_year=year + 11, mode="same", value=Decimal(1), by=world.admin_a)
    assert error.value.message_dict == {"fiscal_year": [f"{year + 11} is too far ahead: {allowed}"]}
    assert len(services.target_set_year(kpi=k, fiscal_year=year + 10, mode="same", value=Decimal(1),
                                        by=world.admin_a, reason="Plan")) == 12  # fmt: skip
    assert sorted(Target.objects.filter(kpi=k).values_list("period", flat=True)) == [
        date(2000, 1, 1),
        *org_calendar.fiscal_year_months(year + 10, 1),
    ]


def test_a_kpi_holding_values_or_targets_keeps_its_frequency(world, scope_a):
    k = services.kpi_create(unit=world.company_a, name="On-time delivery", code="OTD", baseline=Decimal(80))
    services.target_set_year(kpi=k, fiscal_year=2026, mode="same", value=Decimal(95), by=world.admin_a)
    for month in range(1, 10):
        record(k, 90, world.admin_a, period=date(2026, month, 1))
    empty = services.kpi_create(unit=world.company_a, name="New", code="NEW", baseline=Decimal(0))
    planned = services.kpi_create(unit=world.company_a, name="Planned", code="PLN", baseline=Decimal(0))
    services.target_create(kpi=planned, period=MARCH, value=Decimal(1))

    with pytest.raises(ValidationError) as error:
        services.kpi_update(kpi=k, frequency="annual", name="Renamed")
    assert error.value.message_dict == {
        "frequency": ["OTD holds 9 monthly values and 12 targets; its frequency cannot change while it has them. "
                      "Archive it and create a new KPI with the new frequency."]
    }  # fmt: skip
    with pytest.raises(ValidationError) as error:
        services.kpi_update(kpi=planned, frequency="quarterly")
    assert error.value.message_dict == {
        "frequency": ["PLN holds 1 target; its frequency cannot change while it has them. "
                      "Archive it and create a new KPI with the new frequency."]
    }  # fmt: skip
    assert services.kpi_update(kpi=k, frequency="monthly", name="Same frequency").name == "Same frequency"
    assert services.kpi_update(kpi=empty, frequency="quarterly").frequency == "quarterly"
    stored = dict(Kpi.objects.values_list("code", "frequency"))
    assert stored == {"OTD": "monthly", "NEW": "quarterly", "PLN": "monthly"}
    assert Kpi.objects.get(code="OTD").name == "Same frequency"


@pytest.mark.parametrize(
    ("text", "separator", "expected"),
    [
        ("1234.5", ".", Decimal("1234.5")),
        ("1 234,5", ",", Decimal("1234.5")),
        ("-3", ".", Decimal(-3)),
        ("1,234.5", ".", Decimal("1234.5")),
        ("1.234,5", ",", Decimal("1234.5")),
        ("-1,234,567.25", ".", Decimal("-1234567.25")),
        ("1.234.567,25", ",", Decimal("1234567.25")),
    ],
)
def test_numbers_accept_the_users_decimal_separator(text, separator, expected):
    assert services.parse_number(text, decimal_separator=separator) == expected


TOO_MANY_DIGITS = "has too many digits: a value has at most 14 before the decimal point and 6 after."


@pytest.mark.parametrize(
    ("text", "separator", "message"),
    [
        ("12,5", ".", "“12,5” uses ',' but your decimal separator is '.'."),
        ("12.5", ",", "“12.5” uses '.' but your decimal separator is ','."),
        ("12,345", ".", "“12,345” uses ',' but your decimal separator is '.'."),  # 12345 or 12.345? refused
        ("12.345", ",", "“12.345” uses '.' but your decimal separator is ','."),
        ("1,23.5", ".", "“1,23.5” uses ',' but your decimal separator is '.'."),  # not groups of three
        ("1.2,5", ",", "“1.2,5” uses '.' but your decimal separator is ','."),
        ("1.234,5", ".", "“1.234,5” uses ',' but your decimal separator is '.'."),
        ("abc", ".", "“abc” is not a number."),
        ("", ".", "Enter a number."),
        ("NaN", ".", "“NaN” is not a number."),
        ("100000000000000", ".", f"“100000000000000” {TOO_MANY_DIGITS}"),
        ("1" * 1_000_000, ".", f"“{'1' * 59}…” {TOO_MANY_DIGITS}"),
        ("1" * 1_000_000, ",", f"“{'1' * 59}…” {TOO_MANY_DIGITS}"),
        ("0." + "0" * 999_999 + "1", ".", f"“0.{'0' * 57}…” {TOO_MANY_DIGITS}"),
        ("1e999999999999999999", ".", f"“1e999999999999999999” {TOO_MANY_DIGITS}"),
        ("1e-999999999999999999", ".", f"“1e-999999999999999999” {TOO_MANY_DIGITS}"),
        ("x" * 100, ".", f"“{'x' * 59}…” is not a number."),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(text, separator, message):
    with pytest.raises(ValidationError) as error:
        services.parse_number(text, decimal_separator=separator)
    assert error.value.message_dict["value"] == [message]


def test_the_full_recompute_agrees_with_the_incremental_path(world, scope_a):
    from io import StringIO

    from django.core.management import call_command

    admin = world.admin_a
    objective = strategy.objective_create(perspective=band(world.division_a), name="Ship on time")
    k = services.kpi_create(
        unit=world.division_a, name="On time", code="OTD", baseline=Decimal(80), objective=objective
    )
    services.target_set_year(kpi=k, fiscal_year=2026, mode="ramp", year_end=Decimal(98), by=admin)
    for month, value in ((1, 85), (2, 88), (3, 91)):
        record(k, value, admin, period=date(2026, month, 1))
        scores_recompute(organization=world.org_a, unit_ids={world.division_a.pk}, months={date(2026, month, 1)})

    def snapshot():
        rows = {}
        for model, owner in (
            (KpiScore, "kpi_id"),
            (ObjectiveScore, "objective_id"),
            (PerspectiveScore, "perspective_id"),
            (ScorecardScore, "scorecard_id"),
        ):
            for row in model.objects.values_list(owner, "period_kind", "period", "score", "status", "coverage"):
                rows[(model.__name__, *row[:3])] = row[3:]
        return rows

    incremental = snapshot()
    for model in (KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore):
        model.objects.all().delete()
    out = StringIO()
    call_command("recompute_scores", "--organization", "acme", stdout=out)
    assert "acme: " in out.getvalue()
    full = snapshot()
    # The full run also scores the later months that only have targets; where both computed a score, they
    # agree exactly.
    assert {key: full.get(key) for key in incremental} == incremental
    # The first value of a window scores that window for every unit: 5 windows (3 months, Q1, FY2026) x
    # (division: KPI, objective, 4 perspectives, card + company and department: 4 perspectives, card each)
    assert len(incremental) == 5 * (7 + 5 + 5)


def test_changes_in_one_transaction_are_recomputed_by_one_task(
    world, scope_a, django_capture_on_commit_callbacks, as_committed
):
    import json

    import redis
    from django.conf import settings

    from bsc.project.celery import app

    with as_committed():
        k1 = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(0))
        k2 = services.kpi_create(unit=world.division_a, name="On time", code="OTD", baseline=Decimal(0))
    app.control.purge()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.measurement_record(kpi=k1, period=MARCH, value=Decimal(1), by=world.admin_a)
        services.measurement_record(kpi=k2, period=date(2026, 2, 1), value=Decimal(2), by=world.admin_a)
        services.target_set_year(kpi=k1, fiscal_year=2026, mode="same", value=Decimal(5), by=world.admin_a)
    assert len(callbacks) == 1
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    app.control.purge()
    assert [m["headers"]["task"] for m in messages] == ["kpis.tasks.scores_recompute"]
    import base64

    _, kwargs, _ = json.loads(base64.b64decode(messages[0]["body"]))
    assert kwargs == {"organization_id": world.org_a.pk}  # what to recompute is in the outbox
    pending = sorted(PendingRecompute.objects.values_list("kpi_id", "period"))
    assert pending == sorted(
        [(k1.pk, MARCH), (k2.pk, date(2026, 2, 1))] + [(k1.pk, date(2026, m, 1)) for m in range(1, 13)]
    )


def test_archiving_a_kpi_recomputes_the_scores_it_fed(world, scope_a, django_capture_on_commit_callbacks, as_committed):
    import base64
    import json

    import redis
    from django.conf import settings

    from bsc.project.celery import app

    with as_committed():
        k = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(0))
        record(k, 5, world.admin_a)
    app.control.purge()
    with django_capture_on_commit_callbacks(execute=True):
        services.kpi_archive(kpi=k)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    messages = [json.loads(raw) for raw in broker.lrange("celery", 0, -1)]
    app.control.purge()
    assert [m["headers"]["task"] for m in messages] == ["kpis.tasks.scores_recompute"]
    _, kwargs, _ = json.loads(base64.b64decode(messages[0]["body"]))
    assert kwargs == {"organization_id": world.org_a.pk}
    # Its unit in every period with data: it leaves its objective's coverage and its roll-up's in every one.
    assert list(PendingRecompute.objects.values_list("kpi_id", "unit_id", "period")) == [(None, k.unit_id, None)]


def test_reweighting_or_realigning_on_the_map_recomputes_the_unit_and_its_ancestors(
    world, scope_a, django_capture_on_commit_callbacks, as_committed
):
    from unittest import mock

    from kpis.tasks import scores_recompute as task

    with as_committed():
        admin = world.admin_a
        parent = strategy.objective_create(perspective=band(world.company_a), name="Delight customers")
        child = strategy.objective_create(perspective=band(world.division_a), name="Answer fast", aligned_to=parent)
        other = strategy.objective_create(perspective=band(world.division_a), name="Answer well", aligned_to=parent)
        fast = services.kpi_create(
            unit=world.division_a, name="Fast", code="FAST", baseline=Decimal(0), objective=child
        )
        well = services.kpi_create(
            unit=world.division_a, name="Well", code="WELL", baseline=Decimal(0), objective=other
        )
        target(fast, 100, admin)
        target(well, 100, admin)
        record(fast, 100, admin)  # score 1
        record(well, 40, admin)  # score 0.4
        scores_recompute(organization=world.org_a, kpi_ids={fast.pk, well.pk}, months={MARCH})

    def parent_score():
        return ObjectiveScore.objects.get(objective=parent, period_kind="month", period=MARCH).score

    assert parent_score() == Decimal("0.7")
    run_now = mock.patch("kpis.tasks.scores_recompute.delay", side_effect=lambda **kw: task(**kw))
    with run_now, django_capture_on_commit_callbacks(execute=True):
        strategy.objective_update(objective=other, weight=Decimal(3))
    assert parent_score() == Decimal("0.55")  # (1 x 1 + 3 x 0.4) / 4
    with run_now, django_capture_on_commit_callbacks(execute=True):
        strategy.objective_update(objective=other, aligned_to=None)
    assert parent_score() == Decimal("1")
    with run_now, django_capture_on_commit_callbacks(execute=True) as callbacks:
        strategy.objective_update(objective=other, x=600, y=80)  # a move on the map changes no score
    assert callbacks == []


def test_map_changes_of_one_transaction_rescore_in_one_task(world, scope_a, django_capture_on_commit_callbacks):
    from unittest import mock

    from django.db import transaction

    with (
        mock.patch("kpis.tasks.scores_recompute.delay") as publish,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        for name in ("One", "Two", "Three"):
            strategy.objective_create(perspective=band(world.company_a), name=name)
        strategy.objective_create(perspective=band(world.division_a), name="Four")
    publish.assert_called_once_with(organization_id=world.org_a.pk)
    requested = set(PendingRecompute.objects.values_list("unit_id", "kpi_id", "period"))
    assert requested == {(world.company_a.pk, None, None), (world.division_a.pk, None, None)}
    # until the task has run, the changed maps' units and their ancestors say "Recomputing…"; a unit below
    # them scores as before
    assert units_recomputing(organization=world.org_a) == {world.company_a.pk, world.division_a.pk}
    assert scores_recomputing(organization=world.org_a, unit=world.company_a)
    assert not scores_recomputing(organization=world.org_a, unit=world.department_a)


def test_new_organization_thresholds_restatus_the_stored_scores_when_the_rebuild_task_runs(
    world, scope_a, django_capture_on_commit_callbacks, as_committed
):
    from bsc import services as org_services
    from kpis import tasks

    with as_committed():
        kpi = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(0))
        target(kpi, 100, world.admin_a)
        record(kpi, 85, world.admin_a)
        scores_recompute(organization=world.org_a, kpi_ids={kpi.pk}, months={MARCH})
    assert (kpi_score(kpi).score, kpi_score(kpi).status) == (Decimal("0.85"), "amber")  # green from 0.9

    with (
        mock.patch("kpis.tasks.scores_recompute.delay") as publish,
        django_capture_on_commit_callbacks(execute=True),
    ):
        org_services.organization_update(organization=world.org_a, green_threshold=Decimal("0.8"))
    assert kpi_score(kpi).status == "amber"  # stored scores change only when the task runs
    assert publish.call_args_list == [mock.call(organization_id=world.org_a.pk)]
    everyone = {world.company_a.pk, world.division_a.pk, world.department_a.pk}
    assert units_recomputing(organization=world.org_a) == everyone  # "Recomputing…" on every page

    assert tasks.scores_recompute(organization_id=world.org_a.pk) > 0  # what the worker runs
    assert kpi_score(kpi).status == "green"
    assert not scores_recomputing(organization=world.org_a, unit=world.department_a)
    quarter = kpi_score(kpi, "quarter", date(2026, 1, 1))
    assert (quarter.actual, quarter.status) == (85, "green")


def test_a_new_fiscal_year_start_moves_the_stored_quarters_and_years_when_the_rebuild_task_runs(world, scope_a):
    from bsc import services as org_services
    from kpis import tasks

    kpi = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(0))
    target(kpi, 100, world.admin_a)
    record(kpi, 85, world.admin_a)
    scores_recompute(organization=world.org_a, kpi_ids={kpi.pk}, months={MARCH})
    with mock.patch("kpis.tasks.scores_recompute.delay"):
        org_services.organization_update(organization=world.org_a, fiscal_year_start_month=2)
    tasks.scores_recompute(organization_id=world.org_a.pk)
    windows = set(
        KpiScore.objects.filter(kpi=kpi, period_kind__in=["quarter", "year"]).values_list("period_kind", "period")
    )
    # March 2026 now sits in the quarter February to April, and in the fiscal year from February 2026
    assert {("quarter", date(2026, 2, 1)), ("year", date(2026, 2, 1))} <= windows
    assert not windows & {("quarter", date(2026, 1, 1)), ("year", date(2026, 1, 1))}
