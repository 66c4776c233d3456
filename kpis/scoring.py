"""The scoring contract of DESIGN.md section 5 as pure functions: KPI progress and score, status lights,
weighted roll-ups with coverage (time aggregation and the fiscal periods are computed in SQL, kpis/recompute.py
and bsc/org_calendar.py).

Numbers are Decimals (ints are accepted; floats are refused, since a binary float cannot hold most decimal
values exactly). Progress, scores and coverage are quantized to 4 decimal places (``PLACES``); progress and
scores round half-even, coverage rounds down so that 1 means "every weight has data". No database here:
the data-entry page (kpis/data_entry.py) calls them, and the SQL that stores scores (kpis/recompute.py) follows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)

Number = Decimal | int

PLACES = Decimal("0.0001")
ZERO = Decimal(0)
ONE = Decimal(1)

DIRECTIONS = ("increase", "decrease", "band")
GREEN, AMBER, RED, GREY = "green", "amber", "red", "grey"

# Wide enough that sums and products of stored values (20 digits, 6 places) are exact before the final
# rounding, so results do not depend on the caller's decimal context.
_CONTEXT = Context(prec=50, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])


def _decimal(value: Number | None, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal or an int, not {type(value).__name__}.")
    value = Decimal(value)
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value}.")
    return value


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN, context=_CONTEXT)


# --- One KPI ---------------------------------------------------------------------------------------


def kpi_progress(
    *,
    direction: str,
    baseline: Number | None,
    target: Number | None,
    actual: Number | None,
    band_low: Number | None = None,
    band_high: Number | None = None,
    band_tolerance: Number | None = None,
) -> Decimal | None:
    """How far the actual has come, unclamped: 0 at the baseline, 1 at the target (1.5 is 50 % beyond it).

    - "increase" / "decrease": (actual − baseline) / (target − baseline). Which way is better follows from
      baseline and target, so ``direction`` only matters when they are equal: then progress is 1 if the
      target is met in that direction (increase: actual >= target; decrease: actual <= target), else 0.
    - "band": 1 inside [band_low, band_high], falling linearly to 0 at band_low − tolerance and
      band_high + tolerance and staying 0 beyond (no tolerance, or 0: 1 inside, 0 outside). The target is
      not used.

    Returns None (no score, grey) when the actual is missing or what the direction needs is: the target
    or baseline for increase/decrease, either bound for a band. Rounded to 4 places, half-even.
    Raises ValueError for an unknown direction, a band whose low bound is above its high bound, or a
    negative tolerance.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, not {direction!r}.")
    a = _decimal(actual, "actual")
    with localcontext(_CONTEXT):
        if direction == "band":
            return _band_progress(a, band_low, band_high, band_tolerance)
        b, t = _decimal(baseline, "baseline"), _decimal(target, "target")
        if a is None or b is None or t is None:
            return None
        if t == b:
            met = a >= t if direction == "increase" else a <= t
            return _round(ONE if met else ZERO)
        return _round((a - b) / (t - b))


def _band_progress(
    a: Decimal | None, band_low: Number | None, band_high: Number | None, band_tolerance: Number | None
) -> Decimal | None:
    lo, hi = _decimal(band_low, "band_low"), _decimal(band_high, "band_high")
    d = _decimal(band_tolerance, "band_tolerance") or ZERO
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"band_low ({lo}) must not be above band_high ({hi}).")
    if d < 0:
        raise ValueError(f"band_tolerance must not be negative, not {d}.")
    if a is None or lo is None or hi is None:
        return None
    distance = lo - a if a < lo else a - hi if a > hi else ZERO
    if distance == 0:
        return _round(ONE)
    if d == 0 or distance >= d:
        return _round(ZERO)
    return _round(ONE - distance / d)


def kpi_score(progress: Number | None) -> Decimal | None:
    """The score that rolls up: progress clamped to [0, 1], so over-achievement on one KPI cannot hide a
    miss on another. None stays None (no data). Rounded to 4 places, half-even."""
    p = _decimal(progress, "progress")
    if p is None:
        return None
    return _round(min(max(p, ZERO), ONE))


def status_of(score: Number | None, *, green: Number, amber: Number) -> str:
    """The traffic light: "green" at or above the green threshold, "amber" at or above the amber threshold,
    "red" below, "grey" without data (score None). Raises ValueError unless green > amber."""
    g, a = _decimal(green, "green"), _decimal(amber, "amber")
    if g is None or a is None:
        raise ValueError("Both the green and the amber threshold are needed.")
    if not g > a:
        raise ValueError(f"The green threshold ({g}) must be above the amber threshold ({a}).")
    s = _decimal(score, "score")
    if s is None:
        return GREY
    if s >= g:
        return GREEN
    if s >= a:
        return AMBER
    return RED


# --- Roll-ups --------------------------------------------------------------------------------------


def weighted_score(items: Iterable[tuple[Number, Number | None]]) -> tuple[Decimal | None, Decimal]:
    """Weighted mean of (weight, score) pairs and the coverage of the data behind it.

    Items without data (score None) are left out and the remaining weights renormalised, so the result
    always lies between the lowest and the highest score with data. Coverage = weight with data / total
    weight, in [0, 1]. With no data, or no weight at all (including no items), the answer is (None, 0).
    The score rounds to 4 places half-even; coverage rounds down to 4 places, so 1 means complete data.
    Raises ValueError for a negative weight.
    """
    total = with_data = weighted_sum = ZERO
    with localcontext(_CONTEXT):
        for index, (weight, score) in enumerate(items):
            w = _decimal(weight, f"weight of item {index}")
            if w is None or w < 0:
                raise ValueError(f"The weight of item {index} must be zero or more, not {w}.")
            s = _decimal(score, f"score of item {index}")
            total += w
            if s is not None:
                with_data += w
                weighted_sum += w * s
        if with_data == 0:
            return None, _round(ZERO)
        coverage = (with_data / total).quantize(PLACES, rounding=ROUND_DOWN)
        return _round(weighted_sum / with_data), coverage
