"""The numbers the pages print: a score never shows a figure its light contradicts, no negative zero,
counts without decimals, plain words for progress beyond the target or behind the baseline."""

from decimal import Decimal

import pytest

from kpis.scorecard_display import (
    number,
    percent,
    progress_note,
    share_percent,
    threshold_percent,
)
from kpis.scoring import status_of


@pytest.mark.parametrize(
    ("score", "shown"),
    [
        ("0.8996", "89.9%"),  # amber under a 90% green threshold: not '90%'
        ("0.9", "90%"),
        ("0.9004", "90%"),
        ("0.59999", "59.9%"),
        ("0.6", "60%"),
        ("0.7234", "72.3%"),
        ("1", "100%"),
        ("0", "0%"),
        ("-0.0004", "0%"),  # no '-0%'
        ("-0.8712", "-87.1%"),
        ("1.456", "145.6%"),
    ],
)
def test_a_score_is_cut_to_one_decimal_and_drops_a_whole_figures_zero(score, shown):
    assert percent(Decimal(score)) == shown


def test_the_shown_score_and_the_light_agree_at_every_threshold():
    green, amber = Decimal("0.875"), Decimal("0.6")
    for thousandths in range(0, 1001):
        for extra in (Decimal(0), Decimal("0.0004"), Decimal("0.0009")):
            score = Decimal(thousandths) / 1000 + extra
            shown = Decimal(percent(score).rstrip("%")) / 100
            assert status_of(shown, green=green, amber=amber) == status_of(score, green=green, amber=amber), score


def test_a_missing_score_shows_a_dash():
    assert percent(None) == "—" and share_percent(None) == "—"


def test_coverage_and_shares_are_whole_and_never_reach_100_before_they_are_complete():
    assert share_percent(Decimal("0.9996")) == "99%"
    assert share_percent(Decimal("1")) == "100%"
    assert share_percent(Decimal("0.25")) == "25%"
    assert share_percent(Decimal("-0.001")) == "0%"


def test_thresholds_show_as_typed():
    assert threshold_percent(Decimal("0.900")) == "90%"
    assert threshold_percent(Decimal("0.875")) == "87.5%"


def test_numbers_respect_the_kpis_decimals_and_have_no_negative_zero():
    assert number(Decimal("7"), 0, "accounts") == "7 accounts"
    assert number(Decimal("7.2"), 0, "accounts") == "7 accounts"
    assert number(Decimal("1234.56"), 1, "kEUR") == "1,234.6 kEUR"
    assert number(Decimal("-0.04"), 1, "%") == "0.0%"
    assert number(Decimal("-0.4"), 0) == "0"


def test_progress_beyond_the_target_or_behind_the_baseline_is_said_in_words():
    assert progress_note(Decimal("-0.87"), Decimal("0")) == "worse than the baseline"
    assert progress_note(Decimal("1.45"), Decimal("1")) == "target passed: 145% of the way"
    assert progress_note(Decimal("0.5"), Decimal("0.5")) == ""
    assert progress_note(None, None) == ""
