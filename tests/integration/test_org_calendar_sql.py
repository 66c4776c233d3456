"""The SQL fragments of bsc/org_calendar.py compute in PostgreSQL what its Python computes, for every month of
four years, every fiscal start and every KPI frequency."""

from datetime import date, datetime

import pytest
from django.db import connection

from bsc import org_calendar as cal

MONTHS = [cal.month_shift(date(2026, 1, 1), i) for i in range(48)]  # Jan 2026 to Dec 2029


@pytest.mark.django_db
def test_period_ends_and_starts_agree_with_python():
    sql = f"""
        SELECT m::date, f, s, {cal.sql_period_ends_in("m::date", "s", "f")},
               {cal.sql_period_ending_in("m::date", "s")}, {cal.sql_is_period_start("m::date", "s", "f")}
        FROM unnest(%s::date[]) AS m, generate_series(1, 12) AS f, unnest(ARRAY[1, 3, 12]) AS s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [MONTHS])
        rows = cursor.fetchall()
    assert len(rows) == len(MONTHS) * 12 * 3
    assert sum(starts for *_, starts in rows) == len(MONTHS) * 12 * (12 + 4 + 1) // 12  # every step's starts
    for month, fiscal_start, step, ends, start, starts in rows:
        assert starts == cal.is_period_start(month, step, fiscal_start), (month, fiscal_start, step)
        expected = cal.period_ending_in(month, step, fiscal_start)
        assert ends == (expected is not None), (month, fiscal_start, step)
        if ends:
            assert start == expected, (month, fiscal_start, step)


@pytest.mark.django_db
def test_the_month_due_and_the_frequency_steps_agree_with_python():
    local_times = [datetime(2026, 12, 31, 23, 59), datetime(2027, 1, 1, 0, 0), datetime(2028, 2, 29, 12, 0)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t, {cal.sql_due_month('t')} FROM unnest(%s::timestamp[]) AS t", [local_times])
        for local, due in cursor.fetchall():
            assert due == cal.month_shift(local.date(), -1)
        frequencies = list(cal.FREQUENCY_STEPS)
        cursor.execute(f"SELECT f, {cal.sql_frequency_step('f')} FROM unnest(%s::text[]) AS f", [frequencies])
        assert dict(cursor.fetchall()) == cal.FREQUENCY_STEPS
