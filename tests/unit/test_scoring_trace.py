"""The score explainer's figures are the scoring functions' own: every worked example and property of
tests/unit/test_scoring.py runs again here with each scoring call made twice, plain and with a trace, and the two
answers, and the result the trace recorded (what the explainer shows), must be the same. Plus the window and
roll-up rules and the explainer's wording of the steps."""

from datetime import date
from decimal import Decimal

import pytest

from kpis import explain, scoring
from tests.unit import test_scoring as cases
from tests.unit.test_scoring import *  # noqa: F403 (collected again, traced)

D = Decimal


def _last(trace):
    return trace.steps[-1].figures


def _traced(function, result_of):
    def call(*args, **kwargs):
        try:
            plain = function(*args, **kwargs)
        except (ValueError, TypeError) as error:
            with pytest.raises(type(error)):
                function(*args, **kwargs, trace=scoring.Trace())
            raise
        trace = scoring.Trace()
        assert function(*args, **kwargs, trace=trace) == plain
        assert result_of(trace) == plain
        return plain

    return call


@pytest.fixture(autouse=True, scope="module")
def traced_scoring():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cases, "kpi_progress", _traced(scoring.kpi_progress, lambda t: _last(t)["result"]))
        patch.setattr(cases, "kpi_score", _traced(scoring.kpi_score, lambda t: _last(t)["result"]))
        patch.setattr(cases, "status_of", _traced(scoring.status_of, lambda t: _last(t)["result"]))
        patch.setattr(
            cases,
            "weighted_score",
            _traced(scoring.weighted_score, lambda t: (_last(t)["result"], _last(t)["coverage"])),
        )
        yield


def test_the_traced_examples_really_run_through_the_trace():
    assert cases.kpi_progress.__name__ == "call"


# --- Windows, roll-ups and a KPI's coverage (the rules the SQL follows) ---------------------------------------------

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


@pytest.mark.parametrize(
    ("method", "expected"),
    [("sum", D(30)), ("average", D(15)), ("last", D(20)), ("min", D(10)), ("max", D(20))],
)
def test_a_window_aggregates_its_months_with_a_value_by_the_time_aggregation(method, expected):
    trace = scoring.Trace()
    assert scoring.window_value(method, [(JAN, D(10)), (FEB, None), (MAR, D(20))], trace=trace) == expected
    assert trace.step("window").figures["used"] == 2


def test_a_window_without_any_value_has_none():
    assert scoring.window_value("sum", [(JAN, None), (FEB, None)]) is None


def test_a_roll_up_takes_the_children_with_a_value_and_its_coverage_is_their_weight_over_all():
    children = [(D(2), D(10)), (D(1), D(40)), (D(1), None)]
    assert scoring.rollup_value("sum", children) == (D(50), D("0.75"))
    assert scoring.rollup_value("average", children) == (D(25), D("0.75"))
    assert scoring.rollup_value("weighted_average", children) == (D(20), D("0.75"))
    assert scoring.rollup_value("min", children) == (D(10), D("0.75"))
    assert scoring.rollup_value("max", children) == (D(40), D("0.75"))


def test_a_roll_up_whose_children_have_no_weight_counts_each_the_same():
    trace = scoring.Trace()
    assert scoring.rollup_value("weighted_average", [(D(0), D(10)), (D(0), D(20)), (D(0), None)], trace=trace) == (
        D(15),
        D("0.6666"),
    )
    assert trace.step("rollup").figures["equal_weights"] is True


def test_a_roll_up_without_children_or_data_has_no_value_and_no_coverage():
    assert scoring.rollup_value("sum", []) == (None, D(0))
    assert scoring.rollup_value("sum", [(D(1), None)]) == (None, D(0))


def test_a_kpi_covers_its_data_fully_a_roll_up_by_its_children_and_nothing_without_a_score():
    assert scoring.kpi_coverage(D("0.5")) == D(1)
    assert scoring.kpi_coverage(D("0.5"), rollup_coverage=D("0.75")) == D("0.75")
    assert scoring.kpi_coverage(None, rollup_coverage=D("0.75")) == D(0)


# --- The steps in words ---------------------------------------------------------------------------------------------


def progress_text(decimals=0, **kwargs):
    trace = scoring.Trace()
    scoring.kpi_progress(trace=trace, **kwargs)
    return explain._progress_text(trace, None, "Mar 2026", decimals)


def test_progress_is_said_as_its_arithmetic():
    assert progress_text(direction="increase", baseline=D(80), target=D(100), actual=D(96)) == (
        "Progress = (actual − baseline) / (target − baseline) = (96 − 80) / (100 − 80) = 80%."
    )


def test_a_band_kpi_within_its_tolerance_is_said_with_the_distance():
    text = progress_text(direction="band", band_low=D(4), band_high=D(6), band_tolerance=D(2), actual=D(7), target=None,
                         baseline=None)  # fmt: skip
    assert text == "The actual 7 is 1 outside the band [4, 6]; with a tolerance of 2, progress = 1 − 1 / 2 = 50%."


def test_a_missing_target_is_named():
    assert progress_text(direction="increase", baseline=D(0), target=None, actual=D(3)) == (
        "No progress: the KPI has no target for Mar 2026, so it has no score (grey) and is left out of its objective."
    )


def test_clamping_says_why():
    trace = scoring.Trace()
    scoring.kpi_score(D("1.5"), trace=trace)
    assert explain._clamp_text(trace.step("clamp")) == (
        "Score = progress 150% clamped to 0–100% = 100% (over-achievement on one KPI does not hide a miss on another)."
    )


def test_the_status_names_the_threshold_it_passed():
    trace = scoring.Trace()
    scoring.status_of(D("0.8996"), green=D("0.9"), amber=D("0.6"), trace=trace)
    assert explain._status_text(trace.step("status")) == (
        "Status: 89.9% is below the green threshold 90% and at or above the amber threshold 60%: amber (At risk)."
    )
