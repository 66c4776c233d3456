"""The year-end forecast (kpis/forecast.py) pinned on small hand-computed series; fiscal year = calendar year 2026
unless said, so the line is read at Dec 2026 (monthly), Q4 2026 (quarterly) or 2026 (annual)."""

from datetime import date
from decimal import Decimal
from fractions import Fraction

from kpis.forecast import (
    AT_RISK,
    HORIZONS,
    ON_COURSE,
    WILL_MISS,
    KpiRules,
    first_period_used,
    forecast_text,
    kpi_forecast,
    least_squares,
)

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


# --- Quarterly and annual KPIs: the same method over 8 quarters (4 values at least) and 5 years (3 at least) ------


def quarters(year: int, first: int, values: list) -> dict[date, Decimal]:
    """Consecutive quarters from the one starting in (year, first); None leaves a quarter without a value."""
    out = {}
    for i, value in enumerate(values):
        index = first - 1 + 3 * i
        if value is not None:
            out[date(year + index // 12, index % 12 + 1, 1)] = D(value)
    return out


def years(first: int, values: list, month: int = 1) -> dict[date, Decimal]:
    return {date(first + i, month, 1): D(v) for i, v in enumerate(values) if v is not None}


def quarterly(actuals, targets, fiscal_start=1, **rule_overrides):
    return kpi_forecast(
        rules=rules(frequency="quarterly", **rule_overrides), actuals=actuals, targets=targets, fiscal_year=2026,
        fiscal_start=fiscal_start,
    )  # fmt: skip


def annual(actuals, targets, fiscal_start=1, **rule_overrides):
    return kpi_forecast(
        rules=rules(frequency="annual", **rule_overrides), actuals=actuals, targets=targets, fiscal_year=2026,
        fiscal_start=fiscal_start,
    )  # fmt: skip


def test_the_horizon_of_each_frequency():
    assert {f: (h.window, h.minimum) for f, h in HORIZONS.items()} == {
        "monthly": (12, 6), "quarterly": (8, 4), "annual": (5, 3),
    }  # fmt: skip


def test_a_rising_quarterly_series_is_read_at_the_last_quarter():
    # Q1 2025..Q3 2026 at positions 1..7 of the window Q4 2024..Q3 2026: 10, 13, 12, 16, 17, 19, 22. Mean x 4,
    # mean y 109/7; sum dx*dy = -30 - 26 - 12 + 17 + 38 + 66 = 53, sum dx^2 = 28 -> slope 53/28 = 1.892857;
    # Q4 2026 (position 8): 109/7 + 4 * 53/28 = 162/7 = 23.142857; against 30 from 0: 0.7714, amber.
    result = quarterly(quarters(2025, 1, [10, 13, 12, 16, 17, 19, 22]), quarters(2026, 1, [30] * 4))
    assert result.available and result.periods_with_data == 3  # this year's quarters with a value
    assert result.fitted == tuple(quarters(2025, 1, [1] * 7))
    assert result.slope == D("1.892857") and result.value == D("23.142857")
    assert result.year_end == date(2026, 10, 1) and result.target == D(30)
    assert (result.progress, result.status, result.classification) == (D("0.7714"), "amber", AT_RISK)
    assert result.line == ((date(2026, 7, 1), D(22)), (date(2026, 10, 1), D("23.142857")))


def test_a_falling_quarterly_series_with_four_values_will_miss():
    # 40, 38, 36, 34 (Q4 2025..Q3 2026): slope -2, Q4 2026 32; (32 - 30) / (50 - 30) = 0.1 -> red
    result = quarterly(quarters(2025, 10, [40, 38, 36, 34]), quarters(2026, 1, [50] * 4), baseline=D(30))
    assert result.slope == D(-2) and result.value == D(32)
    assert (result.progress, result.status, result.classification) == (D("0.1"), "red", WILL_MISS)


def test_a_quarter_without_a_value_keeps_the_others_in_their_place():
    # Q1 2025 10, Q2 12, no Q3, Q4 16, Q1 2026 18, Q2 20: positions 2, 3, 5, 6, 7 of Q3 2024..Q2 2026, on the line
    # y = 10 + 2 (x - 2); Q4 2026 (position 9) is 24. Regressing on 0..4 would give slope 2.4.
    result = quarterly(quarters(2025, 1, [10, 12, None, 16, 18, 20]), quarters(2026, 1, [30] * 4))
    assert date(2025, 7, 1) not in result.fitted and len(result.fitted) == 5
    assert result.slope == D(2) and result.value == D(24)
    assert [p for p, _ in result.line] == [date(2026, 4, 1), date(2026, 7, 1), date(2026, 10, 1)]
    assert (result.progress, result.classification) == (D("0.8"), AT_RISK)


def test_too_few_quarters_give_no_forecast_and_say_why():
    # Q1 2024 lies outside the 8 quarters up to the latest value (Q4 2024..Q3 2026): 3 values count
    three = quarterly({**quarters(2024, 1, [5]), **quarters(2026, 1, [10, 12, 14])}, quarters(2026, 1, [30] * 4))
    assert not three.available and three.label == "No forecast"
    assert three.reason == (
        "3 of the last 8 quarters up to the latest value (Q3 2026) have a value; a forecast needs at least 4."
    )
    assert quarterly({}, {}).reason == (
        "The KPI has no value up to Q4 2026; a forecast needs values for at least 4 of the last 8 quarters up to the "
        "latest value."
    )
    stale = quarterly(quarters(2023, 1, [10, 12, 14, 16]), quarters(2026, 1, [30] * 4))
    assert stale.reason == (
        "The latest value, of Q4 2023, is older than the last 8 quarters up to the end of the fiscal year "
        "(Q1 2025 to Q4 2026); a forecast needs a value among them."
    )


def test_a_summed_quarterly_kpi_adds_the_line_for_each_quarter_without_a_value():
    # Q1 2025..Q3 2026: 100, 110, 120, 130, 140, none, 160, on y = 100 + 10 (x - 1) over Q4 2024..Q3 2026.
    # 2026: Q1 140 + Q3 160 entered = 300; Q2 (position 6) 150 and Q4 (position 8) 170 from the line = 320;
    # 620 against 4 x 180 = 720: 0.8611, amber.
    result = quarterly(
        quarters(2025, 1, [100, 110, 120, 130, 140, None, 160]), quarters(2026, 1, [180] * 4), time_aggregation="sum"
    )
    assert result.aggregation == "sum" and result.periods_with_data == 2
    assert result.estimated == (date(2026, 4, 1), date(2026, 10, 1))
    assert (result.actual_total, result.estimated_total, result.value, result.target) == (
        D(300), D(320), D(620), D(720),
    )  # fmt: skip
    assert (result.progress, result.classification) == (D("0.8611"), AT_RISK)
    incomplete = quarterly(quarters(2025, 1, [1, 2, 3, 4]), quarters(2026, 1, [180] * 3), time_aggregation="sum")
    assert incomplete.reason == "No target for Q4 2026: the year's total target is incomplete."


def test_a_summed_quarterly_kpi_early_in_the_year_takes_every_quarter_from_the_line():
    # 2025: 100, 110, 120, 130 -> 2026 on the line: 140 + 150 + 160 + 170 = 620 against 4 x 150 = 600: on course
    result = quarterly(quarters(2025, 1, [100, 110, 120, 130]), quarters(2026, 1, [150] * 4), time_aggregation="sum")
    assert result.periods_with_data == 0 and result.actual_total == 0
    assert result.estimated_total == D(620) and result.classification == ON_COURSE
    assert result.line[0] == (date(2025, 10, 1), D(130)) and len(result.line) == 5
    text = forecast_text(result, fiscal_start=1, rules=rules(frequency="quarterly"), fmt=lambda v: f"{v:.0f}")
    assert text.method.startswith(
        "Method: no quarter of 2026 has a value yet; its 4 quarters each take the value of a least-squares line "
        "through the 4 values from Q1 2025 to Q4 2025 (the last 8 quarters up to the latest value; a quarter without "
        "a value is left out, the others keep their place in time), rising by 10 a quarter, together 620."
    )


def test_a_fiscal_year_starting_in_april_has_its_last_quarter_in_january():
    # FY 2026/27: Q1 Apr 2026 .. Q4 Jan 2027. Jul 2025..Oct 2026: 50, 52, ..., 60, slope 2 -> Jan 2027 62;
    # (62 - 40) / (70 - 40) = 0.7333, amber. A calendar quarter's month (Feb 2026) is not one of its periods.
    actuals = quarters(2025, 7, [50, 52, 54, 56, 58, 60]) | {date(2026, 2, 1): D(1000)}
    result = quarterly(actuals, quarters(2026, 4, [70] * 4), fiscal_start=4, baseline=D(40))
    assert result.year_end == date(2027, 1, 1) and date(2026, 2, 1) not in result.fitted
    assert result.slope == D(2) and result.value == D(62)
    assert (result.progress, result.classification) == (D("0.7333"), AT_RISK)
    text = forecast_text(result, fiscal_start=4, rules=rules(frequency="quarterly"), fmt=lambda v: f"{v:.0f}")
    assert text.summary.startswith("At risk: 62 projected for Q4 FY 2026/27 against the year-end target of 70")
    assert "from Q2 FY 2025/26 to Q3 FY 2026/27" in text.method
    assert "read at Q4 FY 2026/27, the end of FY 2026/27." in text.method


def test_the_text_of_a_quarterly_forecast_names_its_window():
    result = quarterly(quarters(2025, 10, [40, 38, 36, 34]), quarters(2026, 1, [50] * 4), baseline=D(30))
    text = forecast_text(
        result, fiscal_start=1, rules=rules(frequency="quarterly", baseline=D(30)), fmt=lambda v: f"{v:.1f}"
    )
    assert text.summary == (
        "Will miss: 32.0 projected for Q4 2026 against the year-end target of 50.0 (10% of the way from the "
        "baseline: red)."
    )
    assert text.method.startswith(
        "Method: a least-squares line through the 4 values from Q4 2025 to Q3 2026 (the last 8 quarters up to the "
        "latest value; a quarter without a value is left out, the others keep their place in time), falling by 2.0 "
        "a quarter, read at Q4 2026, the end of 2026. On course when"
    )


def test_a_rising_annual_series_is_read_at_the_current_year():
    # 2021..2025 at positions 0..4: 100, 104, 110, 112, 119; mean x 2, mean y 109; sum dx*dy = -200 - 104 + 112
    # + 238 = 46, sum dx^2 = 10 -> slope 4.6; 2026 (position 5): 109 + 3 * 4.6 = 122.8; (122.8 - 100) / 30 = 0.76
    result = annual(years(2021, [100, 104, 110, 112, 119]), years(2026, [130]), baseline=D(100))
    assert result.slope == D("4.6") and result.value == D("122.8") and result.year_end == date(2026, 1, 1)
    assert (result.progress, result.classification) == (D("0.76"), AT_RISK)
    assert result.line == ((date(2025, 1, 1), D(119)), (date(2026, 1, 1), D("122.8")))
    text = forecast_text(result, fiscal_start=1, rules=rules(frequency="annual", baseline=D(100)), fmt=str)
    assert text.summary.startswith("At risk: 122.800000 projected for 2026 against the year-end target of 130")
    assert text.method.startswith(
        "Method: a least-squares line through the 5 values from 2021 to 2025 (the last 5 years up to the latest "
        "value; a year without a value is left out, the others keep their place in time), rising by 4.600000 a year, "
        "read at 2026. On course"
    )


def test_a_falling_annual_series_with_a_gap_will_miss():
    # 2022 90, no 2023, 2024 80, 2025 75: positions 1, 3, 4 of 2021..2025 on y = 95 - 5x; 2026 (5) is 70;
    # (70 - 60) / (100 - 60) = 0.25 -> red. A summed annual KPI is read the same way (a year is its own total).
    for aggregation in ("average", "sum"):
        result = annual(
            years(2022, [90, None, 80, 75]), years(2026, [100]), baseline=D(60), time_aggregation=aggregation
        )
        assert result.aggregation == "level" and len(result.fitted) == 3
        assert result.slope == D(-5) and result.value == D(70) and result.target == D(100)
        assert (result.progress, result.classification) == (D("0.25"), WILL_MISS)


def test_an_entered_year_is_complete():
    # 2022..2025 fall, but 2026 is entered at 100, its target: (100 - 60) / (100 - 60) = 1 whatever the line says
    result = annual(years(2022, [90, 85, 80, 75, 100]), years(2026, [100]), baseline=D(60))
    assert result.value == D(100) and result.line == ((date(2026, 1, 1), D(100)),)
    assert result.classification == ON_COURSE
    text = forecast_text(result, fiscal_start=1, rules=rules(frequency="annual", baseline=D(60)), fmt=str)
    assert "the year is complete, so the value of 2026 is taken as it is." in text.method


def test_too_few_years_give_no_forecast():
    assert annual(years(2024, [1, 2]), years(2026, [3])).reason == (
        "2 of the last 5 years up to the latest value (2025) have a value; a forecast needs at least 3."
    )
    assert annual(years(2018, [1, 2, 3]), years(2026, [3])).reason == (
        "The latest value, of 2020, is older than the last 5 years up to the end of the fiscal year (2022 to 2026); "
        "a forecast needs a value among them."
    )


def test_an_annual_kpi_of_an_april_fiscal_year():
    # FY 2023/24..FY 2025/26 (April starts): 10, 20, 30 -> FY 2026/27: 40 against 50 from 0: 0.8, amber
    result = annual(years(2023, [10, 20, 30], month=4), years(2026, [50], month=4), fiscal_start=4)
    assert result.year_end == date(2026, 4, 1) and result.value == D(40)
    assert result.classification == AT_RISK
    text = forecast_text(result, fiscal_start=4, rules=rules(frequency="annual"), fmt=lambda v: f"{v:.0f}")
    assert "from FY 2023/24 to FY 2025/26" in text.method and "read at FY 2026/27." in text.method


def test_the_values_read_for_a_fiscal_year_start_where_a_forecast_can_use_them():
    assert first_period_used("monthly", 2026, 1) == date(2025, 7, 1)  # Jun 2026 at the latest, 12 months back
    assert first_period_used("quarterly", 2026, 1) == date(2023, 4, 1)  # Q1 2025 at the latest, 8 quarters back
    assert first_period_used("annual", 2026, 1) == date(2018, 1, 1)  # 2022 at the latest, 5 years back
    assert first_period_used("quarterly", 2026, 4) == date(2023, 7, 1)
