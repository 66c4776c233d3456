"""The year-end forecast (kpis/forecast.py) pinned on small hand-computed series; fiscal year = calendar year 2026
unless said, so the line is read at Dec 2026."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from kpis.forecast import AT_RISK, ON_COURSE, WILL_MISS, KpiRules, forecast_text, kpi_forecast, least_squares

D = Decimal
GREEN, AMBER = D("0.9"), D("0.6")


def rules(**overrides) -> KpiRules:
    values = {
        "direction": "increase", "frequency": "monthly", "time_aggregation": "average", "green": GREEN,
        "amber": AMBER, "baseline": D(0),
    }  # fmt: skip
    return KpiRules(**(values | overrides))


def months(year: int, first: int, values: list) -> dict[date, Decimal]:
    """Consecutive months from (year, first); None leaves a month without a value."""
    out = {}
    for i, value in enumerate(values):
        index = first - 1 + i
        if value is not None:
            out[date(year + index // 12, index % 12 + 1, 1)] = D(value)
    return out


def year_targets(value) -> dict[date, Decimal]:
    return months(2026, 1, [value] * 12)


def forecast(actuals, targets, **rule_overrides):
    return kpi_forecast(
        rules=rules(**rule_overrides), actuals=actuals, targets=targets, fiscal_year=2026, fiscal_start=1
    )


def test_least_squares_is_exact():
    # x 0..3, y 1, 3, 2, 4: mean x 1.5, mean y 2.5; sum dx*dy = 4, sum dx^2 = 5 -> slope 0.8, intercept 1.3
    intercept, slope = least_squares([(0, D(1)), (1, D(3)), (2, D(2)), (3, D(4))])
    assert (intercept, slope) == (Fraction(13, 10), Fraction(4, 5))


def test_a_rising_series_is_on_course():
    # Jan..Jun at positions 6..11 of the window Jul 2025..Jun 2026: 10, 14, 12, 16, 18, 20. Mean x 8.5, mean y 15;
    # sum dx*dy = 33, sum dx^2 = 17.5 -> slope 66/35 = 1.885714; Dec (position 17): 15 + 8.5 * 66/35 = 31.028571.
    result = forecast(months(2026, 1, [10, 14, 12, 16, 18, 20]), year_targets(30))
    assert result.available and result.periods_with_data == 6
    assert result.slope == D("1.885714")
    assert result.value == D("31.028571")
    assert result.target == D(30)
    assert (result.progress, result.score, result.status) == (D("1.0343"), D(1), "green")
    assert result.classification == ON_COURSE and result.label == "On course"
    # the dashed line: from the latest value to the year end, on the line after it
    assert result.line[0] == (date(2026, 6, 1), D(20))
    assert [p for p, _ in result.line] == [date(2026, m, 1) for m in range(6, 13)]
    assert result.line[1] == (date(2026, 7, 1), D("21.6"))  # position 12: 15 + 3.5 * 66/35


def test_a_falling_series_of_an_increase_kpi_will_miss():
    # 60, 59, ..., 55: slope -1, Dec = 55 - 6 = 49; (49 - 50) / (80 - 50) < 0 -> score 0, red
    result = forecast(months(2026, 1, [60, 59, 58, 57, 56, 55]), year_targets(80), baseline=D(50))
    assert result.slope == D(-1) and result.value == D(49)
    assert (result.progress, result.score, result.status, result.classification) == (
        D("-0.0333"), D(0), "red", WILL_MISS,
    )  # fmt: skip


def test_a_flat_series_is_read_at_its_level():
    # 70 every month: slope 0, Dec 70; (70 - 50) / (80 - 50) = 0.6667 -> amber, at risk
    result = forecast(months(2026, 1, [70] * 6), year_targets(80), baseline=D(50))
    assert result.slope == 0 and result.value == D(70)
    assert (result.progress, result.status, result.classification) == (D("0.6667"), "amber", AT_RISK)


def test_a_gap_keeps_the_months_in_their_place():
    # Jan 10, Feb 12, no Mar, Apr 16 .. Jul 22: at positions 5, 6, 8, 9, 10, 11 of Aug 2025..Jul 2026 they lie on
    # y = 10 + 2 (x - 5), so Dec (position 16) is 32. Regressing on 0..5 instead would give slope 2.4.
    result = forecast(months(2026, 1, [10, 12, None, 16, 18, 20, 22]), year_targets(40), baseline=D(0))
    assert result.periods_with_data == 6
    assert date(2026, 3, 1) not in result.fitted
    assert result.slope == D(2) and result.value == D(32)
    assert (result.progress, result.status, result.classification) == (D("0.8"), "amber", AT_RISK)


def test_a_decrease_kpi_falling_towards_its_target_is_at_risk():
    # defects from 100 (baseline) to 50 (target): 100, 96, ..., 80, slope -4, Dec 56; (56 - 100) / (50 - 100) = 0.88
    result = forecast(
        months(2026, 1, [100, 96, 92, 88, 84, 80]), year_targets(50), direction="decrease", baseline=D(100)
    )
    assert result.slope == D(-4) and result.value == D(56)
    assert (result.progress, result.status, result.classification) == (D("0.88"), "amber", AT_RISK)


def test_a_decrease_kpi_falling_past_its_target_is_on_course():
    result = forecast(
        months(2026, 1, [100, 92, 84, 76, 68, 60]), year_targets(50), direction="decrease", baseline=D(100)
    )
    assert result.value == D(12)  # 60 - 6 * 8
    assert result.classification == ON_COURSE


def test_a_sum_kpi_adds_the_projected_months_to_the_year_to_date_total():
    # sales 80, 85, ..., 105 (Jan..Jun, 555 so far); the line goes on 110, 115, ..., 135 (Jul..Dec, 735): 1290
    # against 12 x 120 = 1440: 1290 / 1440 = 0.8958 -> amber
    result = forecast(months(2026, 1, [80, 85, 90, 95, 100, 105]), year_targets(120), time_aggregation="sum")
    assert result.aggregation == "sum"
    assert result.actual_total == D(555) and result.estimated_total == D(735)
    assert result.value == D(1290) and result.target == D(1440)
    assert result.estimated == tuple(date(2026, m, 1) for m in range(7, 13))
    assert (result.progress, result.status, result.classification) == (D("0.8958"), "amber", AT_RISK)


def test_a_sum_kpi_fills_a_gap_with_the_line():
    # Jan..Jul with no Mar: the line is 80 + 5 (x - 5) at positions 5..16 (Jan..Dec); Mar takes 90
    result = forecast(months(2026, 1, [80, 85, None, 95, 100, 105, 110]), year_targets(100), time_aggregation="sum")
    assert result.actual_total == D(575)  # 80 + 85 + 95 + 100 + 105 + 110
    assert result.estimated == (date(2026, 3, 1), *(date(2026, m, 1) for m in range(8, 13)))
    assert result.estimated_total == D(90 + 115 + 120 + 125 + 130 + 135)
    assert result.value == D(1290) and result.classification == ON_COURSE  # 1290 / 1200 > 1


def test_the_line_spans_the_last_twelve_months_only():
    # Jan 2025 .. Jun 2026 on y = month number: the window is Jul 2025 .. Jun 2026, 12 values
    values = months(2025, 1, list(range(1, 19)))
    result = forecast(values, year_targets(24))
    assert result.fitted[0] == date(2025, 7, 1) and len(result.fitted) == 12
    assert result.value == D(24) and result.classification == ON_COURSE


def test_a_fiscal_year_starting_in_april_ends_in_march():
    result = kpi_forecast(
        rules=rules(), actuals=months(2026, 4, [10, 12, 14, 16, 18, 20]), targets=months(2026, 4, [40] * 12),
        fiscal_year=2026, fiscal_start=4,
    )  # fmt: skip
    assert result.year_end == date(2027, 3, 1) and result.value == D(32)


def test_a_complete_year_takes_its_last_value():
    result = forecast(months(2026, 1, [10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 25]), year_targets(30))
    assert result.value == D(25) and result.line == ((date(2026, 12, 1), D(25)),)


def test_too_few_periods_give_no_forecast_and_say_why():
    result = forecast(months(2026, 1, [10, 12, 14, 16, 18]), year_targets(30))
    assert not result.available and result.classification is None and result.label == "No forecast"
    assert result.reason == "5 months of this fiscal year have a value; a forecast needs at least 6."
    assert forecast({}, {}).reason == "No month of this fiscal year has a value; a forecast needs at least 6."


def test_values_of_last_year_do_not_count_towards_the_six():
    result = forecast(months(2025, 7, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), year_targets(30))
    assert result.reason == "4 months of this fiscal year have a value; a forecast needs at least 6."


def test_a_quarterly_kpi_has_no_forecast():
    result = forecast(months(2026, 1, [10, None, None, 12]), {}, frequency="quarterly")
    assert result.reason == (
        "A quarterly KPI has 4 quarters a year; a forecast needs values for at least 6 periods of the fiscal year."
    )


def test_a_missing_year_end_target_or_baseline_gives_no_forecast():
    values = months(2026, 1, [10, 12, 14, 16, 18, 20])
    assert forecast(values, months(2026, 1, [30] * 11)).reason == "No target for Dec 2026, the end of the fiscal year."
    assert forecast(values, year_targets(30), baseline=None).reason == (
        "The KPI has no baseline, so a projected value cannot be scored."
    )
    sums = forecast(values, months(2026, 1, [30] * 10), time_aggregation="sum")
    assert sums.reason == "No target for Nov 2026 and Dec 2026: the year's total target is incomplete."
    none = forecast(values, {}, time_aggregation="sum")
    assert (
        none.reason == "No target for Jan 2026, Feb 2026, Mar 2026 and 9 more: the year's total target is incomplete."
    )


def test_a_band_kpi_is_scored_by_its_band():
    # 5, 6, ..., 10: Dec 16, above the band [8, 12] by 4 with tolerance 5: 1 - 4/5 = 0.2 -> red
    result = forecast(
        months(2026, 1, [5, 6, 7, 8, 9, 10]), {}, direction="band", baseline=None, band_low=D(8), band_high=D(12),
        band_tolerance=D(5),
    )  # fmt: skip
    assert result.value == D(16) and (result.progress, result.classification) == (D("0.2"), WILL_MISS)


def test_the_text_says_the_outcome_and_the_method():
    result = forecast(months(2026, 1, [60, 59, 58, 57, 56, 55]), year_targets(80), baseline=D(50))
    text = forecast_text(result, fiscal_start=1, rules=rules(baseline=D(50)), fmt=lambda v: f"{v:.1f}")
    assert text.summary == (
        "Will miss: 49.0 projected for Dec 2026 against the year-end target of 80.0 (0% of the way from the baseline: red)."
    )
    assert text.method == (
        "Method: a least-squares line through the 6 values from Jan 2026 to Jun 2026 (the last 12 months up to the "
        "latest value; a month without a value is left out, the others keep their place in time), falling by 1.0 a "
        "month, read at Dec 2026, the end of 2026. On course when the projection scores green (at or above 90%), at "
        "risk when amber (at or above 60%), will miss when red."
    )


def test_the_text_of_a_sum_says_what_was_added():
    result = forecast(months(2026, 1, [80, 85, 90, 95, 100, 105]), year_targets(120), time_aggregation="sum")
    text = forecast_text(result, fiscal_start=1, rules=rules(time_aggregation="sum"), fmt=lambda v: f"{v:.0f}")
    assert text.summary == (
        "At risk: a 2026 total of 1290 projected against the year's target of 1440 (the sum of its months' targets) "
        "(89.5% of the way from the baseline: amber)."
    )
    assert text.method.startswith(
        "Method: the 6 months entered add up to 555; the 6 months without a value each take the value of a "
        "least-squares line through the 6 values from Jan 2026 to Jun 2026"
    )
    assert "rising by 5 a month, together 735." in text.method


def test_no_forecast_in_words():
    text = forecast_text(forecast({}, {}), fiscal_start=1, rules=rules())
    assert text.summary == "No forecast. No month of this fiscal year has a value; a forecast needs at least 6."
    assert text.method == ""
