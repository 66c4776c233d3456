"""The evidence of a cause-effect link on small hand-computed series (kpis/link_evidence.py): a perfect lag-1
relation, an inverse one, noise, too few pairs, and no data at all."""

import random
from datetime import date

import pytest

from bsc.org_calendar import month_shift
from kpis import link_evidence as le

MONTHS = [month_shift(date(2024, 11, 1), i) for i in range(24)]  # Nov 2024 .. Oct 2026
# A cause score that goes up and down (no trend), 25 values: one before the window, then one per month.
CAUSE = [0.50, 0.52, 0.47, 0.55, 0.60, 0.58, 0.51, 0.49, 0.62, 0.66, 0.61, 0.57, 0.64,
         0.70, 0.68, 0.59, 0.63, 0.71, 0.75, 0.69, 0.72, 0.78, 0.74, 0.80, 0.77]  # fmt: skip


def series(values):
    return dict(zip(MONTHS, values, strict=True))


def test_ranks_share_ties():
    assert le.ranks([3.0, 1.0, 2.0, 2.0]) == [4.0, 1.0, 2.5, 2.5]


def test_spearman_on_a_hand_computed_noise():
    # ranks equal the values; d = -2,-6,2,-2,0,4,0,4, sum d² = 80: rho = 1 - 6·80/(8·63) = 1/21
    rho = le.spearman([1, 2, 3, 4, 5, 6, 7, 8], [3, 8, 1, 6, 5, 2, 7, 4])
    assert rho == pytest.approx(1 / 21)
    assert le.describe(best_lag=0, rho=rho, pairs=8, lags=[])["strength"] == "weak"


def test_a_perfect_lag_one_relation_is_found_at_lag_one():
    effect = [0.3 + 0.5 * value for value in CAUSE[:-1]]  # the effect follows the cause one month later
    found = le.evidence(series(CAUSE[1:]), series(effect), MONTHS)
    assert found.best == le.LagResult(lag=1, rho=pytest.approx(1.0), pairs=22)
    assert [r.pairs for r in found.lags] == [23, 22, 21, 20]
    assert found.lags[0].rho < 0.6  # in the same month they hardly agree
    words = le.describe(best_lag=1, rho=found.best.rho, pairs=22, lags=[])
    assert words == {
        "strength": "strong",
        "summary": "Strong: the effect moved with the cause 1 month later (rho +1.00, 22 paired months).",
        "caution": "Correlation is not proof of cause: both may follow something else.",
    }


def test_an_inverse_relation_has_a_negative_rho():
    effect = [1 - value for value in CAUSE[1:]]
    found = le.evidence(series(CAUSE[1:]), series(effect), MONTHS)
    assert found.best == le.LagResult(lag=0, rho=pytest.approx(-1.0), pairs=23)
    assert le.describe(best_lag=0, rho=-1.0, pairs=23, lags=[])["summary"] == (
        "Strong: the effect moved against the cause in the same month (rho -1.00, 23 paired months)."
    )


def test_noise_is_not_reported_as_strong():
    draw = random.Random(18)
    cause, effect = ([round(draw.random(), 4) for _ in MONTHS] for _ in range(2))
    found = le.evidence(series(cause), series(effect), MONTHS)
    assert [r.pairs for r in found.lags] == [23, 22, 21, 20]
    assert [round(r.rho, 4) for r in found.lags] == [-0.3221, -0.0096, 0.3844, -0.3068]
    assert found.best.lag == 2 and found.strength == "weak"  # the best of four lags of noise, still below 0.45


def test_too_few_pairs_are_computed_with_a_warning():
    months = MONTHS[:6]  # 5 changes: 5 pairs at lag 0, 2 at lag 3 (not computed)
    cause = dict(zip(months, [0.1, 0.3, 0.2, 0.5, 0.4, 0.6], strict=True))
    effect = dict(zip(months, [0.2, 0.4, 0.3, 0.6, 0.5, 0.7], strict=True))
    found = le.evidence(cause, effect, months)
    assert [(r.lag, r.pairs) for r in found.lags] == [(0, 5), (1, 4), (2, 3), (3, 2)]
    assert found.lags[2].rho is None and found.lags[3].rho is None
    assert found.best.lag == 0 and found.best.rho == pytest.approx(1.0)
    assert le.describe(best_lag=0, rho=1.0, pairs=5, lags=[])["caution"] == (
        "Correlation is not proof of cause: both may follow something else. Fewer than 12 paired months say little."
    )


def test_no_data_says_so():
    found = le.evidence({}, series(CAUSE[1:]), MONTHS)
    assert found.best is None and found.strength == "none"
    lags = [{"lag": r.lag, "rho": None, "pairs": r.pairs} for r in found.lags]
    assert le.describe(best_lag=None, rho=None, pairs=0, lags=lags)["summary"] == (
        "No data to compare: the two objectives have 0 paired monthly changes at most; at least 4 are needed, "
        "with scores that move."
    )


def test_a_score_that_never_moves_gives_no_correlation():
    flat = series([1.0] * 24)
    assert le.evidence(flat, series(CAUSE[1:]), MONTHS).best is None
