"""The scoring contract of DESIGN.md section 5 as pure functions: KPI progress and score, status lights,
weighted roll-ups with coverage (time aggregation and the fiscal periods are computed in SQL, kpis/recompute.py
and bsc/org_calendar.py).

Every function takes an optional ``trace``: given one, it records each step of its calculation with its numbers
as it computes (the score explainer, kpis/explain.py, reads them), so an explanation never comes from a second
formula. The steps change no result.

Numbers are Decimals (ints are accepted; floats are refused, since a binary float cannot hold most decimal
values exactly). Progress, scores and coverage are quantized to 4 decimal places (``PLACES``); progress and
scores round half-even, coverage rounds down so that 1 means "every weight has data". No database here:
the data-entry page (kpis/data_entry.py) calls them, and the SQL that stores scores (kpis/recompute.py) follows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class Step:
    """One step of a calculation: what was done (``name``, e.g. "ratio", "clamp", "weighted") and its figures,
    the result among them under "result"."""

    name: str
    figures: dict


@dataclass
class Trace:
    """The steps of a calculation, in the order they were computed."""

    steps: list[Step] = field(default_factory=list)

    def record(self, step: str, /, **figures) -> None:
        self.steps.append(Step(step, figures))

    def step(self, name: str) -> Step | None:
        """The last step of that name, or None."""
        return next((s for s in reversed(self.steps) if s.name == name), None)


def _record(trace: Trace | None, step: str, /, **figures) -> None:
    if trace is not None:
        trace.record(step, **figures)


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
    trace: Trace | None = None,
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
            return _band_progress(a, band_low, band_high, band_tolerance, trace)
        b, t = _decimal(baseline, "baseline"), _decimal(target, "target")
        if a is None or b is None or t is None:
            missing = [name for name, v in (("actual", a), ("baseline", b), ("target", t)) if v is None]
            _record(trace, "missing", missing=missing, result=None)
            return None
        if t == b:
            met = a >= t if direction == "increase" else a <= t
            result = _round(ONE if met else ZERO)
            _record(trace, "target_at_baseline", direction=direction, actual=a, target=t, met=met, result=result)
            return result
        result = _round((a - b) / (t - b))
        _record(trace, "ratio", actual=a, baseline=b, target=t, result=result)
        return result


def _band_progress(
    a: Decimal | None,
    band_low: Number | None,
    band_high: Number | None,
    band_tolerance: Number | None,
    trace: Trace | None = None,
) -> Decimal | None:
    lo, hi = _decimal(band_low, "band_low"), _decimal(band_high, "band_high")
    d = _decimal(band_tolerance, "band_tolerance") or ZERO
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"band_low ({lo}) must not be above band_high ({hi}).")
    if d < 0:
        raise ValueError(f"band_tolerance must not be negative, not {d}.")
    if a is None or lo is None or hi is None:
        missing = [name for name, v in (("actual", a), ("band_low", lo), ("band_high", hi)) if v is None]
        _record(trace, "missing", missing=missing, result=None)
        return None
    distance = lo - a if a < lo else a - hi if a > hi else ZERO
    figures = {"actual": a, "band_low": lo, "band_high": hi, "tolerance": d, "distance": distance}
    if distance == 0:
        result = _round(ONE)
        _record(trace, "band_inside", **figures, result=result)
    elif d == 0 or distance >= d:
        result = _round(ZERO)
        _record(trace, "band_beyond_tolerance", **figures, result=result)
    else:
        result = _round(ONE - distance / d)
        _record(trace, "band_tolerance", **figures, result=result)
    return result


def kpi_score(progress: Number | None, *, trace: Trace | None = None) -> Decimal | None:
    """The score that rolls up: progress clamped to [0, 1], so over-achievement on one KPI cannot hide a
    miss on another. None stays None (no data). Rounded to 4 places, half-even."""
    p = _decimal(progress, "progress")
    if p is None:
        _record(trace, "clamp", progress=None, result=None, clamped=False)
        return None
    result = _round(min(max(p, ZERO), ONE))
    _record(trace, "clamp", progress=p, result=result, clamped=result != p)
    return result


def status_of(score: Number | None, *, green: Number, amber: Number, trace: Trace | None = None) -> str:
    """The traffic light: "green" at or above the green threshold, "amber" at or above the amber threshold,
    "red" below, "grey" without data (score None). Raises ValueError unless green > amber."""
    g, a = _decimal(green, "green"), _decimal(amber, "amber")
    if g is None or a is None:
        raise ValueError("Both the green and the amber threshold are needed.")
    if not g > a:
        raise ValueError(f"The green threshold ({g}) must be above the amber threshold ({a}).")
    s = _decimal(score, "score")
    result = GREY if s is None else GREEN if s >= g else AMBER if s >= a else RED
    _record(trace, "status", score=s, green=g, amber=a, result=result)
    return result


# --- Roll-ups --------------------------------------------------------------------------------------


def weighted_score(
    items: Iterable[tuple[Number, Number | None]], *, trace: Trace | None = None
) -> tuple[Decimal | None, Decimal]:
    """Weighted mean of (weight, score) pairs and the coverage of the data behind it.

    Items without data (score None) are left out and the remaining weights renormalised, so the result
    always lies between the lowest and the highest score with data. Coverage = weight with data / total
    weight, in [0, 1]. With no data, or no weight at all (including no items), the answer is (None, 0).
    The score rounds to 4 places half-even; coverage rounds down to 4 places, so 1 means complete data.
    Raises ValueError for a negative weight.
    """
    total = with_data = weighted_sum = ZERO
    parts = []  # (weight, score, share of the weight with data) per item, for the trace
    with localcontext(_CONTEXT):
        for index, (weight, score) in enumerate(items):
            w = _decimal(weight, f"weight of item {index}")
            if w is None or w < 0:
                raise ValueError(f"The weight of item {index} must be zero or more, not {w}.")
            s = _decimal(score, f"score of item {index}")
            total += w
            parts.append((w, s))
            if s is not None:
                with_data += w
                weighted_sum += w * s
        if with_data == 0:
            result, coverage = None, _round(ZERO)
        else:
            result = _round(weighted_sum / with_data)
            coverage = (with_data / total).quantize(PLACES, rounding=ROUND_DOWN)
        if trace is not None:
            shares = [None if s is None or with_data == 0 else w / with_data for w, s in parts]
            trace.record(
                "weighted",
                items=[(w, s, share) for (w, s), share in zip(parts, shares, strict=True)],
                total=total, with_data=with_data, weighted_sum=weighted_sum, result=result, coverage=coverage,
            )  # fmt: skip
        return result, coverage


# --- Windows, roll-up KPIs and a KPI's coverage ----------------------------------------------------------
# The stored scores compute these in SQL (kpis/recompute.py); these are the same rules in Python, for the score
# explainer and the tests that hold the SQL to them.

TIME_AGGREGATIONS = ("sum", "average", "last", "min", "max")
ROLLUP_METHODS = ("sum", "average", "weighted_average", "min", "max")


def window_value(
    method: str, months: Sequence[tuple[object, Number | None]], *, name: str = "actual", trace: Trace | None = None
) -> Decimal | None:
    """A KPI's actual (or target) over a quarter or year from its months, oldest first, by its time aggregation:
    sum, average, last (the latest month with a value), min or max. Months without a value are skipped; with
    none the window has no value. Not rounded (the score's rounding comes later)."""
    if method not in TIME_AGGREGATIONS:
        raise ValueError(f"time aggregation must be one of {', '.join(TIME_AGGREGATIONS)}, not {method!r}.")
    values = [(month, _decimal(v, f"{name} of {month}")) for month, v in months]
    known = [v for _, v in values if v is not None]
    with localcontext(_CONTEXT):
        if not known:
            result = None
        elif method == "sum":
            result = sum(known, ZERO)
        elif method == "average":
            result = sum(known, ZERO) / len(known)
        elif method == "last":
            result = known[-1]
        else:
            result = min(known) if method == "min" else max(known)
    _record(trace, "window", method=method, name=name, months=values, used=len(known), result=result)
    return result


def rollup_value(
    method: str, children: Sequence[tuple[Number, Number | None]], *, trace: Trace | None = None
) -> tuple[Decimal | None, Decimal]:
    """A roll-up KPI's actual from the (weight, actual) of the child-unit KPIs aligned to it, and its coverage.

    sum, average, min or max of the children with a value; weighted_average = Σ(weight × actual) / Σ(weight) over
    the children with a value. When no child has any weight, every child counts the same (weight 1). Coverage =
    weight of the children with a value / weight of all of them, rounded down to 4 places (0 without data)."""
    if method not in ROLLUP_METHODS:
        raise ValueError(f"roll-up method must be one of {', '.join(ROLLUP_METHODS)}, not {method!r}.")
    rows = [
        (_decimal(w, f"weight of child {i}"), _decimal(a, f"actual of child {i}")) for i, (w, a) in enumerate(children)
    ]
    with localcontext(_CONTEXT):
        equal = sum((w for w, _ in rows), ZERO) == 0
        weights = [(ONE if equal else w, a) for w, a in rows]
        known = [(w, a) for w, a in weights if a is not None]
        weight_all = sum((w for w, _ in weights), ZERO)
        weight_with_data = sum((w for w, _ in known), ZERO)
        values = [a for _, a in known]
        if not values:
            result = None
        elif method == "sum":
            result = sum(values, ZERO)
        elif method == "average":
            result = sum(values, ZERO) / len(values)
        elif method == "min":
            result = min(values)
        elif method == "max":
            result = max(values)
        else:
            weighted = sum((w * a for w, a in known), ZERO)
            result = weighted / weight_with_data if weight_with_data > 0 else None
        coverage = (
            (weight_with_data / weight_all).quantize(PLACES, rounding=ROUND_DOWN) if weight_with_data > 0 else ZERO
        )
    _record(
        trace, "rollup", method=method, children=weights, equal_weights=equal and bool(rows),
        weight_all=weight_all, weight_with_data=weight_with_data, result=result, coverage=coverage,
    )  # fmt: skip
    return result, coverage


def kpi_coverage(score: Number | None, *, rollup_coverage: Number | None = None, trace: Trace | None = None) -> Decimal:
    """The coverage stored with a KPI score: 0 without a score; for a roll-up (give its children's coverage from
    `rollup_value`), that coverage; else 1."""
    s = _decimal(score, "score")
    if s is None:
        result = ZERO
    elif rollup_coverage is None:
        result = ONE
    else:
        result = _decimal(rollup_coverage, "rollup_coverage")
    _record(trace, "kpi_coverage", score=s, rollup_coverage=rollup_coverage, result=result)
    return result
