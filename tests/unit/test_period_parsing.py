"""Periods people type (bsc.org_calendar.parse_period and parse_kind): the one parser of pages, imports and the
map's period selector; kpis.services.parse_period turns its message into a form's ValidationError."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from bsc import org_calendar as cal
from kpis.services import parse_period


@pytest.mark.parametrize(("text", "month"), [("2026-03", date(2026, 3, 1)), (" 2026-03-01 ", date(2026, 3, 1))])
def test_a_month_is_written_yyyy_mm(text, month):
    assert cal.parse_period(text) == month == parse_period(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-13", "“2026-13” is not a period; write it as YYYY-MM, e.g. 2026-03."),
        ("", "“” is not a period; write it as YYYY-MM, e.g. 2026-03."),
        (None, "“” is not a period; write it as YYYY-MM, e.g. 2026-03."),
        ("2026-03-02", "“2026-03-02” is not the first day of a month; write the period as YYYY-MM."),
        ("x" * 100, "“" + "x" * 59 + "…” is not a period; write it as YYYY-MM, e.g. 2026-03."),
    ],
)
def test_anything_else_is_refused_with_what_was_typed(text, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.") + "$"):
        cal.parse_period(text)
    with pytest.raises(ValidationError) as refused:
        parse_period(text)
    assert refused.value.message_dict == {"period": [message]}


def test_a_kind_is_month_quarter_or_year():
    assert [cal.parse_kind(kind) for kind in ("month", "quarter", "year")] == ["month", "quarter", "year"]
    for text in ("week", "", None, "Month"):
        with pytest.raises(ValueError, match="is not a kind of period: month, quarter or year."):
            cal.parse_kind(text)
