"""The memoized Jinja2 partial (bsc/jinja_partials.py): the same values give the markup rendered before, any change in
a row renders anew, and nothing is remembered in DEBUG, where templates are reloaded when edited."""

from django.test import override_settings

from bsc.jinja_partials import _render_memoized, render_partial, render_partial_memoized
from kpis.selectors import UnitScoreLine

NAME = "project/jinja/unit_scores.html"


def _context(score: str = "91%") -> dict:
    rows = (
        UnitScoreLine(1, "Company", 0, "Ada", score, "green", False),
        UnitScoreLine(2, "Sales & <Marketing>", 1, "", "—", "grey", True),
    )
    return {
        "rows": rows,
        "lights": (("green", "<b>on track</b>"), ("grey", "no data")),
        "scorecard_url": "/o/acme/scorecards/",
        "query": "?period=2026-10",
    }


def test_the_same_values_give_the_markup_rendered_before():
    first = render_partial_memoized(NAME, **_context())
    hits = _render_memoized.cache_info().hits
    again = render_partial_memoized(NAME, **_context())  # equal values, other objects
    assert again == first == render_partial(NAME, **_context())
    assert _render_memoized.cache_info().hits == hits + 1
    assert "Sales &amp; &lt;Marketing&gt;" in first  # escaped like the partial always does
    assert '<a class="unit-name" href="/o/acme/scorecards/2/?period=2026-10">' in first


def test_a_changed_score_renders_anew():
    before = render_partial_memoized(NAME, **_context("91%"))
    after = render_partial_memoized(NAME, **_context("48%"))
    assert "91%" in before and "91%" not in after and "48%" in after


@override_settings(DEBUG=True)
def test_nothing_is_remembered_in_debug():
    hits, misses = _render_memoized.cache_info().hits, _render_memoized.cache_info().misses
    assert render_partial_memoized(NAME, **_context()) == render_partial(NAME, **_context())
    assert _render_memoized.cache_info()[:2] == (hits, misses)
