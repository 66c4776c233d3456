"""The period links of the scorecard pages and the dashboard (kpis/scorecard_display.period_nav)."""

from datetime import date

from kpis.scorecard_display import period_nav


def month_link(nav) -> str:
    return next(link.query for link in nav.kinds if link.label == "Month")


def test_a_quarter_reached_by_its_links_opens_its_latest_month_due():
    due = date(2026, 11, 1)
    # The quarter before the one due, as its "previous" link names it (its first month): its last month.
    assert month_link(period_nav("quarter", date(2026, 7, 1), 1, due)) == "?kind=month&period=2026-09"
    # The quarter now due: its month due, not a month still to come.
    assert month_link(period_nav("quarter", date(2026, 10, 1), 1, due)) == "?kind=month&period=2026-11"
    # A year with a fiscal start in April, reached at its start: the month due within it.
    assert month_link(period_nav("year", date(2026, 4, 1), 4, due)) == "?kind=month&period=2026-11"
    # A quarter still to come: its first month (nothing in it has fallen due).
    assert month_link(period_nav("quarter", date(2027, 1, 1), 1, due)) == "?kind=month&period=2027-01"


def test_a_month_the_person_chose_keeps_its_place():
    nav = period_nav("quarter", date(2026, 8, 1), 1, date(2026, 11, 1))
    assert month_link(nav) == "?kind=month&period=2026-08"
    assert nav.previous.query == "?kind=quarter&period=2026-04"
    assert [link.query for link in nav.kinds if link.label != "Month"] == [
        "?kind=quarter&period=2026-08",
        "?kind=year&period=2026-08",
    ]
