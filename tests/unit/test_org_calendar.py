"""The organization's calendar (bsc/org_calendar.py): today in its time zone, the month now due, fiscal
quarters and years, and the one format of period labels, pinned at the boundaries where they break."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bsc import org_calendar as cal

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def org(time_zone="Europe/Berlin", fiscal_year_start_month=1):
    return SimpleNamespace(time_zone=time_zone, fiscal_year_start_month=fiscal_year_start_month)


@pytest.mark.parametrize(
    ("instant", "time_zone", "today", "due"),
    [
        # 23:30 UTC on 31 Dec is already 1 Jan in Berlin, and still 31 Dec in New York.
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "Europe/Berlin", date(2027, 1, 1), date(2026, 12, 1)),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "America/New_York", date(2026, 12, 31), date(2026, 11, 1)),
        (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), "America/New_York", date(2026, 12, 31), date(2026, 11, 1)),
        # The last day of February in a leap year, in Auckland already 1 March.
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), "Pacific/Auckland", date(2028, 3, 1), date(2028, 2, 1)),
        (datetime(2028, 2, 29, 12, 0, tzinfo=UTC), "UTC", date(2028, 2, 29), date(2028, 1, 1)),
        # The days the clocks change: Berlin springs forward at 01:00 UTC on 28 Mar 2027.
        (datetime(2027, 3, 28, 0, 59, tzinfo=UTC), "Europe/Berlin", date(2027, 3, 28), date(2027, 2, 1)),
        (datetime(2027, 3, 31, 22, 30, tzinfo=UTC), "Europe/Berlin", date(2027, 4, 1), date(2027, 3, 1)),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York", date(2026, 11, 1), date(2026, 10, 1)),
        (datetime(2026, 10, 31, 23, 30, tzinfo=UTC), "America/New_York", date(2026, 10, 31), date(2026, 9, 1)),
    ],
)
def test_today_and_the_month_due_follow_the_organizations_time_zone(instant, time_zone, today, due):
    organization = org(time_zone)
    assert cal.today(organization, instant) == today
    assert cal.this_month(organization, instant) == today.replace(day=1)
    assert cal.due_month(organization, instant) == due


def test_the_clock_is_the_pinned_one(pinned_clock):
    pinned_clock.move_to(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    assert cal.today(org("Europe/Berlin")) == date(2027, 1, 1)
    assert cal.today(org("America/New_York")) == date(2026, 12, 31)
    assert cal.current_fiscal_year(org("America/New_York", 4)) == 2026
    assert cal.current_fiscal_year(org("Europe/Berlin", 1)) == 2027


def test_local_midnight_is_the_start_of_the_day_in_the_zone_even_on_a_dst_day():
    start = cal.local_midnight(date(2027, 3, 28), org("Europe/Berlin"))
    assert start.astimezone(UTC) == datetime(2027, 3, 27, 23, 0, tzinfo=UTC)
    start = cal.local_midnight(date(2027, 3, 29), org("Europe/Berlin"))
    assert start.astimezone(UTC) == datetime(2027, 3, 28, 22, 0, tzinfo=UTC)


def test_month_arithmetic_crosses_years():
    assert cal.month_shift(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert cal.month_shift(date(2027, 1, 31), -1) == date(2026, 12, 1)
    assert cal.month_shift(date(2026, 3, 15), -27) == date(2023, 12, 1)
    assert [cal.month_shift(date(2026, 11, 1), i) for i in range(4)] == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)
    ]  # fmt: skip


def test_a_fiscal_year_starting_in_april_is_named_by_the_year_it_starts_in():
    months = cal.fiscal_year_months(2026, 4)
    assert (months[0], months[-1], len(months)) == (date(2026, 4, 1), date(2027, 3, 1), 12)
    assert cal.fiscal_year_end(2026, 4) == date(2027, 3, 1)
    assert cal.fiscal_year_of(date(2027, 3, 31), 4) == 2026
    assert cal.fiscal_year_of(date(2027, 4, 1), 4) == 2027


def test_fiscal_quarters_with_an_april_start():
    assert cal.quarter_months(2026, 1, 4) == [date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)]
    assert cal.quarter_months(2026, 4, 4) == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
    assert cal.fiscal_quarter_of(date(2026, 12, 15), 4) == (2026, 3)
    assert cal.window_months("quarter", date(2027, 2, 1), 4) == (date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1))
    assert cal.window_start("year", date(2027, 2, 1), 4) == date(2026, 4, 1)
    assert cal.window_start("month", date(2027, 2, 14), 4) == date(2027, 2, 1)


def test_period_labels_have_one_format():
    assert cal.period_label("month", date(2026, 3, 1), 1) == "Mar 2026"
    assert cal.period_label("quarter", date(2026, 3, 1), 1) == "Q1 2026"
    assert cal.period_label("year", date(2026, 3, 1), 1) == "2026"
    assert cal.period_label("month", date(2027, 2, 1), 4) == "Feb 2027"
    # January 2027 is in the fourth quarter of the fiscal year that started in April 2026.
    assert cal.period_label("quarter", date(2027, 1, 1), 4) == "Q4 FY 2026/27"
    assert cal.period_label("year", date(2027, 2, 1), 4) == "FY 2026/27"
    assert cal.period_label("year", date(2099, 4, 1), 4) == "FY 2099/00"
    assert cal.period_span("quarter", date(2027, 1, 1)) == "Jan 2027 – Mar 2027"
    assert cal.period_span("month", date(2027, 1, 1)) == ""


def test_periods_of_a_frequency_start_and_end_on_the_fiscal_calendar():
    assert cal.fiscal_year_periods(2026, 3, 4) == [
        date(2026, 4, 1),
        date(2026, 7, 1),
        date(2026, 10, 1),
        date(2027, 1, 1),
    ]
    assert cal.is_period_start(date(2027, 1, 1), 3, 4)
    assert not cal.is_period_start(date(2027, 1, 1), 12, 4)
    assert cal.period_ending_in(date(2027, 3, 1), 3, 4) == date(2027, 1, 1)
    assert cal.period_ending_in(date(2027, 3, 1), 12, 4) == date(2026, 4, 1)
    assert cal.period_ending_in(date(2027, 2, 1), 3, 4) is None
    assert cal.period_last_month(date(2027, 1, 1), 3) == date(2027, 3, 1)
    assert cal.period_last_month(date(2026, 4, 1), 12) == date(2027, 3, 1)
    assert cal.period_last_month(date(2026, 12, 1), 1) == date(2026, 12, 1)


def test_bad_calendar_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match=r"^quarter must be 1, 2, 3 or 4, not 5\.$"):
        cal.quarter_months(2026, 5, 4)
    with pytest.raises(ValueError, match=r"^fiscal_start must be between 1 and 12, not 13\.$"):
        cal.fiscal_year_months(2026, 13)
    with pytest.raises(ValueError, match=r"^kind must be one of month, quarter, year, not 'week'\.$"):
        cal.period_label("week", date(2026, 3, 1), 1)


@given(fiscal_year=st.integers(1990, 2100), start=st.integers(1, 12))
def test_the_four_quarters_make_up_the_fiscal_year_and_each_month_maps_back_to_its_quarter(fiscal_year, start):
    quarters = [cal.quarter_months(fiscal_year, q, start) for q in (1, 2, 3, 4)]
    assert [m for q in quarters for m in q] == cal.fiscal_year_months(fiscal_year, start)
    for number, months in enumerate(quarters, start=1):
        for month in months:
            assert cal.fiscal_quarter_of(month, start) == (fiscal_year, number)
            assert cal.window_start("quarter", month, start) == months[0]
            assert cal.period_label("quarter", month, start).startswith(f"Q{number} ")
            assert cal.period_ending_in(month, 3, start) == (months[0] if month == months[-1] else None)
