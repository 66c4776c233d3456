"""The scoring contract of DESIGN.md section 5 as pure functions (no database).

Numbers are Decimals; progress and scores are quantized to 4 decimal places (ROUND_HALF_EVEN).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal

PLACES = Decimal("0.0001")
ZERO, ONE = Decimal(0), Decimal(1)


def _q(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN)


def _d(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def kpi_progress(
    *, direction: str, baseline, target, actual, band_low=None, band_high=None, band_tolerance=None
) -> Decimal | None:
    """Unclamped progress of an actual value; None without data (no actual, or no target to compare to).

    increase / decrease: p = (a − b) / (t − b); the direction follows from b and t, so `direction` only
    decides the case b = t: 1 when the target is met in that direction, else 0.
    band [lo, hi] with tolerance d: 1 inside the band, falling linearly to 0 at lo − d and hi + d.
    """
    a = _d(actual)
    if a is None:
        return None
    if direction == "band":
        lo, hi, d = _d(band_low), _d(band_high), _d(band_tolerance) or ZERO
        if lo is None or hi is None:
            return None
        if lo <= a <= hi:
            return _q(ONE)
        distance = lo - a if a < lo else a - hi
        if d == 0 or distance >= d:
            return _q(ZERO)
        return _q(ONE - distance / d)
    b, t = _d(baseline), _d(target)
    if t is None or b is None:
        return None
    if t == b:
        met = a >= t if direction == "increase" else a <= t
        return _q(ONE if met else ZERO)
    return _q((a - b) / (t - b))


def kpi_score(progress: Decimal | None) -> Decimal | None:
    """Progress clamped to [0, 1]: over-achievement on one KPI must not hide a miss on another."""
    if progress is None:
        return None
    return _q(min(max(progress, ZERO), ONE))


def status_of(score: Decimal | None, *, green, amber) -> str:
    green, amber = Decimal(green), Decimal(amber)
    if not green > amber:
        raise ValueError(f"The green threshold ({green}) must be above the amber threshold ({amber}).")
    if score is None:
        return "grey"
    if score >= green:
        return "green"
    if score >= amber:
        return "amber"
    return "red"


def weighted_score(items: Iterable[tuple[object, Decimal | None]]) -> tuple[Decimal | None, Decimal]:
    """Weighted mean of the scores with data, weights renormalised over them; and the coverage: the
    weight with data over the total weight."""
    total = with_data = weighted = ZERO
    for weight, score in items:
        weight = Decimal(weight)
        if weight < 0:
            raise ValueError(f"Weights cannot be negative ({weight}).")
        total += weight
        if score is not None:
            with_data += weight
            weighted += weight * Decimal(score)
    if total == 0 or with_data == 0:
        return None, _q(ZERO)
    return _q(weighted / with_data), _q(with_data / total)


def aggregate_values(values: Sequence[Decimal | None], how: str) -> Decimal | None:
    """Quarter and year views: a KPI's period values combined by its time aggregation (None skipped)."""
    present = [Decimal(v) for v in values if v is not None]
    if not present:
        return None
    if how == "sum":
        return sum(present, ZERO)
    if how == "average":
        return sum(present, ZERO) / len(present)
    if how == "last":
        return present[-1]
    if how == "min":
        return min(present)
    if how == "max":
        return max(present)
    raise ValueError(f"Unknown time aggregation {how!r}.")
