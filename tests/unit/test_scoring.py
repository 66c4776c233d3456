"""The scoring contract of DESIGN.md section 5, pinned with worked numbers and checked with hypothesis."""

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kpis.scoring import (
    kpi_progress,
    kpi_score,
    status_of,
    weighted_score,
)

D = Decimal
GREEN, AMBER = D("0.9"), D("0.6")  # the organization defaults


def progress_and_score(**kwargs):
    progress = kpi_progress(**kwargs)
    score = kpi_score(progress)
    return progress, score, status_of(score, green=GREEN, amber=AMBER)


# --- Worked examples: increase and decrease --------------------------------------------------------


def test_an_increase_kpi_halfway_to_its_target_scores_half_and_is_red_below_the_amber_threshold():
    assert progress_and_score(direction="increase", baseline=D(100), target=D(200), actual=D(150)) == (
        D("0.5"),
        D("0.5"),
        "red",
    )


def test_an_increase_kpi_seventy_percent_of_the_way_is_amber():
    assert progress_and_score(direction="increase", baseline=D(100), target=D(200), actual=D(170)) == (
        D("0.7"),
        D("0.7"),
        "amber",
    )


def test_an_increase_kpi_beyond_its_target_shows_the_progress_but_scores_one():
    assert progress_and_score(direction="increase", baseline=D(100), target=D(200), actual=D(250)) == (
        D("1.5"),
        D("1"),
        "green",
    )


def test_an_increase_kpi_below_its_baseline_shows_negative_progress_and_scores_zero():
    assert progress_and_score(direction="increase", baseline=D(100), target=D(200), actual=D(50)) == (
        D("-0.5"),
        D("0"),
        "red",
    )


def test_a_decrease_kpi_eighty_percent_of_the_way_down_is_amber():
    assert progress_and_score(direction="decrease", baseline=D(10), target=D(5), actual=D(6)) == (
        D("0.8"),
        D("0.8"),
        "amber",
    )


def test_a_decrease_kpi_below_its_target_over_achieves_and_above_its_baseline_goes_negative():
    assert kpi_progress(direction="decrease", baseline=D(10), target=D(5), actual=D(4)) == D("1.2")
    assert kpi_progress(direction="decrease", baseline=D(10), target=D(5), actual=D(12)) == D("-0.4")


def test_the_direction_follows_from_baseline_and_target_when_they_differ():
    # A KPI labelled "increase" whose target is below its baseline is scored as a decrease.
    assert kpi_progress(direction="increase", baseline=D(10), target=D(5), actual=D(6)) == D("0.8")


def test_ints_are_accepted_and_the_answer_is_a_decimal_with_four_places():
    progress = kpi_progress(direction="increase", baseline=0, target=3, actual=1)
    assert progress == D("0.3333")
    assert str(progress) == "0.3333"
    assert str(kpi_score(progress)) == "0.3333"


def test_progress_rounds_half_to_even_at_the_fourth_place():
    assert kpi_progress(direction="increase", baseline=0, target=20000, actual=1) == D("0.0000")  # 0.00005
    assert kpi_progress(direction="increase", baseline=0, target=20000, actual=3) == D("0.0002")  # 0.00015


@pytest.mark.parametrize(
    ("direction", "actual", "expected"),
    [
        ("increase", 100, D(1)),
        ("increase", 101, D(1)),
        ("increase", 99, D(0)),
        ("decrease", 100, D(1)),
        ("decrease", 99, D(1)),
        ("decrease", 101, D(0)),
    ],
)
def test_when_target_equals_baseline_the_kpi_scores_one_if_met_in_its_direction_else_zero(direction, actual, expected):
    assert kpi_progress(direction=direction, baseline=D(100), target=D(100), actual=D(actual)) == expected


def test_zero_lost_time_accidents_scores_one_at_zero_and_zero_after_one_accident():
    # baseline 0, target 0, direction decrease: the direction cannot follow from b and t, so it is the KPI's
    assert progress_and_score(direction="decrease", baseline=D(0), target=D(0), actual=D(0)) == (D(1), D(1), "green")
    assert progress_and_score(direction="decrease", baseline=D(0), target=D(0), actual=D(1)) == (D(0), D(0), "red")
    # the same numbers read as an increase: any accident count at or above 0 meets it
    assert progress_and_score(direction="increase", baseline=D(0), target=D(0), actual=D(1)) == (D(1), D(1), "green")
    assert progress_and_score(direction="increase", baseline=D(0), target=D(0), actual=D("-0.01")) == (
        D(0),
        D(0),
        "red",
    )


def test_when_target_equals_baseline_there_is_no_partial_progress():
    # 99.99 of a flat 100 target is a miss (0), not 99.99 %: there is no distance to be part of the way along
    assert kpi_progress(direction="increase", baseline=D(100), target=D(100), actual=D("99.99")) == D(0)
    assert kpi_progress(direction="increase", baseline=D(100), target=D(100), actual=D(250)) == D(1)  # not beyond
    assert kpi_progress(direction="decrease", baseline=D(100), target=D(100), actual=None) is None


# --- Worked examples: band -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected"),
    [
        ("100", "1"),
        ("95", "1"),
        ("105", "1"),
        ("107.5", "0.5"),
        ("111", "0"),
        ("110", "0"),
        ("92", "0.4"),
        ("90", "0"),
        ("-1000", "0"),
    ],
)
def test_a_band_kpi_scores_one_inside_and_falls_linearly_to_zero_over_the_tolerance(actual, expected):
    progress = kpi_progress(
        direction="band", baseline=None, target=None, actual=D(actual), band_low=95, band_high=105, band_tolerance=5
    )
    assert progress == D(expected)
    assert kpi_score(progress) == D(expected)


@pytest.mark.parametrize("tolerance", [None, 0])
def test_a_band_without_tolerance_scores_one_inside_and_zero_just_outside(tolerance):
    band = {"direction": "band", "baseline": None, "target": None, "band_low": 95, "band_high": 105}
    assert kpi_progress(**band, actual=D("105"), band_tolerance=tolerance) == D(1)
    assert kpi_progress(**band, actual=D("105.0001"), band_tolerance=tolerance) == D(0)
    assert kpi_progress(**band, actual=D("94.9999"), band_tolerance=tolerance) == D(0)


def test_a_band_of_one_point_scores_one_only_on_that_point():
    band = {"direction": "band", "baseline": None, "target": None, "band_low": 7, "band_high": 7, "band_tolerance": 2}
    assert kpi_progress(**band, actual=7) == D(1)
    assert kpi_progress(**band, actual=8) == D("0.5")
    assert kpi_progress(**band, actual=6) == D("0.5")


def test_a_band_kpi_ignores_the_target_and_baseline():
    kwargs = {"direction": "band", "actual": D(100), "band_low": 95, "band_high": 105, "band_tolerance": 5}
    assert kpi_progress(baseline=D(0), target=D(1000), **kwargs) == kpi_progress(baseline=None, target=None, **kwargs)


# --- Missing data and bad input --------------------------------------------------------------------


def test_a_kpi_without_an_actual_has_no_progress_no_score_and_is_grey():
    assert progress_and_score(direction="increase", baseline=D(100), target=D(200), actual=None) == (None, None, "grey")
    assert progress_and_score(
        direction="band", baseline=None, target=None, actual=None, band_low=1, band_high=2, band_tolerance=1
    ) == (None, None, "grey")


def test_an_increase_or_decrease_kpi_without_a_target_or_baseline_is_grey():
    assert progress_and_score(direction="increase", baseline=D(100), target=None, actual=D(150)) == (None, None, "grey")
    assert progress_and_score(direction="decrease", baseline=None, target=D(5), actual=D(6)) == (None, None, "grey")


def test_a_band_kpi_missing_a_bound_is_grey():
    assert kpi_progress(direction="band", baseline=None, target=None, actual=D(1), band_low=None, band_high=2) is None
    assert kpi_progress(direction="band", baseline=None, target=None, actual=D(1), band_low=0, band_high=None) is None


def test_an_unknown_direction_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^direction must be one of increase, decrease, band, not 'up'\.$"):
        kpi_progress(direction="up", baseline=1, target=2, actual=1)


def test_a_band_with_its_bounds_reversed_or_a_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match=r"^band_low \(105\) must not be above band_high \(95\)\.$"):
        kpi_progress(direction="band", baseline=None, target=None, actual=1, band_low=105, band_high=95)
    with pytest.raises(ValueError, match=r"^band_tolerance must not be negative, not -1\.$"):
        kpi_progress(
            direction="band", baseline=None, target=None, actual=1, band_low=95, band_high=105, band_tolerance=-1
        )


def test_floats_and_non_finite_decimals_are_refused_naming_the_argument():
    with pytest.raises(TypeError, match=r"^actual must be a Decimal or an int, not float\.$"):
        kpi_progress(direction="increase", baseline=1, target=2, actual=1.5)
    with pytest.raises(ValueError, match=r"^target must be a finite number, not NaN\.$"):
        kpi_progress(direction="increase", baseline=1, target=D("NaN"), actual=1)


# --- Status ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (D("1"), "green"),
        (D("0.9"), "green"),
        (D("0.8999"), "amber"),
        (D("0.6"), "amber"),
        (D("0.5999"), "red"),
        (D("0"), "red"),
        (None, "grey"),
    ],
)
def test_status_is_green_at_or_above_green_amber_at_or_above_amber_red_below_grey_without_data(score, expected):
    assert status_of(score, green=GREEN, amber=AMBER) == expected


def test_per_kpi_thresholds_change_the_light():
    assert status_of(D("0.8"), green=D("0.75"), amber=D("0.5")) == "green"


@pytest.mark.parametrize(("green", "amber"), [(D("0.6"), D("0.6")), (D("0.5"), D("0.9"))])
def test_thresholds_must_have_green_above_amber(green, amber):
    with pytest.raises(ValueError, match=rf"^The green threshold \({green}\) must be above the amber threshold"):
        status_of(D("0.5"), green=green, amber=amber)
    with pytest.raises(ValueError):
        status_of(None, green=green, amber=amber)  # checked even without data


# --- Weighted roll-ups -----------------------------------------------------------------------------


def test_items_without_data_are_left_out_and_the_weights_renormalised_with_coverage():
    score, coverage = weighted_score([(2, D("0.5")), (1, None), (1, D("1"))])
    assert (score, coverage) == (D("0.6667"), D("0.75"))  # (2*0.5 + 1*1) / 3; 3 of 4 weight has data
    assert (str(score), str(coverage)) == ("0.6667", "0.7500")


def test_full_data_gives_the_plain_weighted_mean_and_full_coverage():
    assert weighted_score([(D("3"), D("0.2")), (D("1"), D("1"))]) == (D("0.4"), D("1"))


def test_no_data_or_no_weight_gives_no_score_and_zero_coverage():
    assert weighted_score([(1, None), (2, None)]) == (None, D(0))
    assert weighted_score([]) == (None, D(0))
    assert weighted_score([(0, D("0.5")), (0, D("1"))]) == (None, D(0))
    assert weighted_score(iter([(0, D("0.5")), (3, None)])) == (None, D(0))


def test_a_zero_weight_item_with_data_neither_moves_the_score_nor_the_coverage():
    assert weighted_score([(0, D("0")), (1, D("0.5"))]) == (D("0.5"), D(1))


def test_coverage_rounds_down_so_one_means_complete_data():
    assert weighted_score([(29999, D("0.5")), (1, None)]) == (D("0.5"), D("0.9999"))


def test_a_negative_weight_is_refused_naming_the_item():
    with pytest.raises(ValueError, match=r"^The weight of item 1 must be zero or more, not -1\.$"):
        weighted_score([(1, D("0.5")), (-1, D("1"))])


# --- Invariants (hypothesis) -----------------------------------------------------------------------

numbers = st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False, allow_infinity=False)
tolerances = st.decimals(min_value=0, max_value=10**4, places=4, allow_nan=False, allow_infinity=False)
scores = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
weights = st.decimals(min_value=0, max_value=10**4, places=2, allow_nan=False, allow_infinity=False)
items = st.lists(st.tuples(weights, st.none() | scores), max_size=12)


@given(direction=st.sampled_from(["increase", "decrease", "band"]), a=numbers, b=numbers, t=numbers, d=tolerances)
def test_scores_always_lie_within_zero_and_one(direction, a, b, t, d):
    lo, hi = min(b, t), max(b, t)
    progress = kpi_progress(
        direction=direction, baseline=b, target=t, actual=a, band_low=lo, band_high=hi, band_tolerance=d
    )
    score = kpi_score(progress)
    assert score is not None
    assert 0 <= score <= 1
    assert score == min(max(progress, D(0)), D(1))


@given(direction=st.sampled_from(["increase", "decrease"]), b=numbers, t=numbers)
def test_progress_is_zero_at_the_baseline_and_one_at_the_target(direction, b, t):
    assume(b != t)
    assert kpi_progress(direction=direction, baseline=b, target=t, actual=b) == 0
    assert kpi_progress(direction=direction, baseline=b, target=t, actual=t) == 1


@given(a=numbers, b=numbers, c=numbers, d=tolerances)
def test_the_band_score_is_symmetric_around_the_band(a, b, c, d):
    lo, hi = min(b, c), max(b, c)
    mirrored = lo + hi - a  # the same distance on the other side of the band's centre
    band = {"direction": "band", "baseline": None, "target": None, "band_low": lo, "band_high": hi}
    assert kpi_progress(**band, actual=a, band_tolerance=d) == kpi_progress(**band, actual=mirrored, band_tolerance=d)


@given(items=items)
def test_the_weighted_score_lies_between_the_lowest_and_highest_score_with_data(items):
    score, coverage = weighted_score(items)
    counted = [s for w, s in items if s is not None and w > 0]
    if not counted:
        assert (score, coverage) == (None, 0)
    else:
        assert min(counted) <= score <= max(counted)


@given(items=items)
def test_coverage_lies_within_zero_and_one_and_is_one_when_every_item_has_data(items):
    _, coverage = weighted_score(items)
    assert 0 <= coverage <= 1
    if items and all(s is not None for _, s in items) and sum(w for w, _ in items) > 0:
        assert coverage == 1


@given(items=items, factor=st.decimals(min_value="0.01", max_value=1000, places=2))
def test_the_weighted_score_is_invariant_to_scaling_all_weights(items, factor):
    assume(factor > 0)
    scaled = [(w * factor, s) for w, s in items]
    assert weighted_score(scaled) == weighted_score(items)
