"""The score explainer: any stored score (a KPI's, roll-up and formula KPIs included, an objective's, a perspective's
or a scorecard's, for a month, fiscal quarter or fiscal year) taken apart into its calculation, in plain words with
its numbers, and the children it was made from.

The figures come from kpis/scoring.py, the same functions the stored scores' SQL is held to (kpis/recompute.py; the
tests compare them on every score row of a world), run with a `Trace` that records each step as it computes: the
explanation is the calculation, never a second formula. Its result is compared with the stored row; a difference
(a change whose recompute is still on its way) is said, not hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse

from bsc import org_calendar
from bsc.models import Objective, Organization, OrgUnit, Perspective, Scorecard
from kpis import formula as formulas
from kpis import period_close, scoring
from kpis.models import (
    Approval,
    Kpi,
    KpiScore,
    Measurement,
    ObjectiveScore,
    PerspectiveScore,
    ScorecardScore,
    Source,
    Target,
)
from kpis.recompute import ACTUAL_LIMIT, PROGRESS_LIMIT
from kpis.scorecard_display import (
    light,
    number,
    percent,
    plural,
    rounded_percent,
    share_percent,
    threshold_percent,
)

LEVELS = ("kpi", "objective", "perspective", "scorecard")
STORED_PLACES = Decimal("0.000001")  # the actual and target columns
KIND_WORDS = {"month": "month", "quarter": "fiscal quarter", "year": "fiscal year"}
AGGREGATION_PHRASES = {
    "sum": "the total of",
    "average": "the average of",
    "last": "the latest of",
    "min": "the lowest of",
    "max": "the highest of",
}
ROLLUP_PHRASES = {
    "sum": "the sum of",
    "average": "the average of",
    "weighted_average": "the weighted average of",
    "min": "the lowest of",
    "max": "the highest of",
}
DIRECTION_WORDS = {"increase": "higher is better", "decrease": "lower is better", "band": "stay within a band"}


class ExplainError(Exception):
    """Bad input to the explainer, with the message to show; `not_found` tells a 404 from a 400."""

    def __init__(self, message: str, *, not_found: bool = False, field: str = "detail"):
        super().__init__(message)
        self.message, self.not_found, self.field = message, not_found, field


@dataclass
class Figure:
    """One input, as shown and as a number (or text)."""

    label: str
    text: str
    value: Decimal | str | None = None


@dataclass
class Line:
    """One step of the calculation in words: `step` names it (window, rollup, formula, progress, clamp, status,
    left_out, weights, weighted, coverage)."""

    step: str
    text: str


@dataclass
class Month:
    """A month of a quarter or year window: the values that made its actual and target."""

    period: date
    label: str
    actual: str
    target: str


@dataclass
class Child:
    """An item a score was made from: a KPI (of the objective, or aligned to a roll-up), an objective (of a
    perspective, or a sub-unit's aligned to an objective) or a perspective."""

    level: str
    id: int
    name: str
    unit_id: int
    unit_name: str
    weight: Decimal
    score: Decimal | None
    status: str
    included: bool
    share: Decimal | None  # its renormalised weight, or None when left out
    actual: Decimal | None = None  # a roll-up's child: its value
    role: str = ""  # "KPI", "aligned objective of <unit>", ...
    score_text: str = ""
    share_text: str = ""
    weight_text: str = ""
    actual_text: str = ""
    light: object = None
    explain_url: str = ""
    explain_api_url: str = ""
    page_url: str = ""


@dataclass
class Explanation:
    level: str
    id: int
    name: str
    unit_id: int
    unit_name: str
    kind: str
    period: date
    label: str
    score: Decimal | None
    status: str
    coverage: Decimal
    progress: Decimal | None = None
    actual: Decimal | None = None
    target: Decimal | None = None
    stored: dict = field(default_factory=dict)
    matches: bool = True
    note: str = ""
    closed: str = ""  # "Oct 2026 was closed for Operations (closed by … on …)" when the window is closed for the unit
    inputs: list[Figure] = field(default_factory=list)
    months: list[Month] = field(default_factory=list)
    steps: list[Line] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    trace: scoring.Trace = field(default_factory=scoring.Trace)

    @property
    def score_text(self) -> str:
        return percent(self.score)

    @property
    def light(self):
        return light(self.status)

    @property
    def as_reviewed(self) -> bool:
        """A closed window whose stored score (the one reviewed) differs from today's calculation."""
        return bool(self.closed) and not self.matches

    @property
    def reviewed_score_text(self) -> str:
        return percent(self.stored.get("score"))

    @property
    def reviewed_light(self):
        return light(self.stored.get("status", "grey"))

    @property
    def coverage_text(self) -> str:
        return share_percent(self.coverage)

    @property
    def left_out(self) -> list[Child]:
        return [c for c in self.children if not c.included]


# --- Numbers in words ---------------------------------------------------------------------------------------------


def figure(value: Decimal | None, decimals: int = 0, unit: str = "") -> str:
    """A value with the KPI's decimals, or more when it has them (an average of months), up to the 6 stored."""
    if value is None:
        return "no value"
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    places = min(6, max(decimals, -exponent if isinstance(exponent, int) and exponent < 0 else 0))
    return number(value, places, unit)


def _signed(value: Decimal, decimals: int) -> str:
    """A figure inside arithmetic: a negative one in brackets."""
    text = figure(value, decimals)
    return f"({text})" if value < 0 else text


def _q6(value: Decimal | None) -> Decimal | None:
    # PostgreSQL casts to numeric(20, 6) rounding halves away from zero
    return None if value is None else Decimal(value).quantize(STORED_PLACES, rounding=ROUND_HALF_UP)


# --- Reading the stored score -------------------------------------------------------------------------------------


def _window(organization: Organization, kind: str, period: date) -> tuple[date, ...]:
    fiscal_start = organization.fiscal_year_start_month
    start = org_calendar.window_start(kind, period, fiscal_start)
    if start != period:
        label = org_calendar.period_label(kind, period, fiscal_start)
        raise ExplainError(
            f"{period:%Y-%m} does not start a {KIND_WORDS[kind]}: name it by its first month, {start:%Y-%m} for "
            f"{label}.",
            field="period",
        )
    return org_calendar.window_months(kind, period, fiscal_start)


def _stored(model, organization, owner_field: str, owner_id: int, kind: str, period: date):
    return (
        model.objects.for_organization(organization)
        .filter(**{owner_field: owner_id}, period_kind=kind, period=period)
        .first()
    )


def _no_score(what: str, label: str) -> ExplainError:
    return ExplainError(
        f"No score is stored for {what} in {label}: the organization has no values or targets in that period "
        "(or a recompute has not reached it yet).",
        not_found=True,
        field="period",
    )


def explain(*, organization: Organization, level: str, id: int, kind: str, period: date) -> Explanation:
    """The calculation of one stored score. ExplainError for an unknown level or kind, a period that does not start
    its window, an id not of this organization (404) or a period without a stored score (404)."""
    if level not in LEVELS:
        raise ExplainError(
            f"“{str(level)[:40]}” is not a level of score: kpi, objective, perspective or scorecard.", field="level"
        )
    if kind not in org_calendar.KINDS:
        raise ExplainError(f"“{str(kind)[:40]}” is not a kind of period: month, quarter or year.", field="kind")
    months = _window(organization, kind, period)
    label = org_calendar.period_label(kind, period, organization.fiscal_year_start_month)
    return _as_reviewed(organization, _EXPLAINERS[level](organization, id, kind, period, months, label), months)


CHANGED_SINCE = {
    "kpi": "the KPI's baseline, band or thresholds, or what a roll-up or formula is made from",
    "objective": "the weights of its KPIs and aligned objectives, or their definitions",
    "perspective": "the weights of its objectives, or what is below them",
    "scorecard": "the weights of its perspectives, or what is below them",
}


def _as_reviewed(organization: Organization, result: Explanation, months: tuple[date, ...]) -> Explanation:
    """A window closed for the score's unit keeps the score it was reviewed with (kpis/period_close.py: the recompute
    leaves it), while the steps are today's calculation: values and targets cannot change in a closed month, but a
    definition can (a baseline, a threshold, a weight). The inputs of the close are not stored, only the score row's
    own figures, so a difference is said plainly (docs/scoring.md), not passed off as a recompute on its way."""
    unit = OrgUnit.objects.for_organization(organization).filter(pk=result.unit_id).first()
    closes = period_close.closed_months(unit, list(months)) if unit is not None else {}
    if len(closes) < len(months):
        return result
    close = max(closes.values(), key=lambda c: c.closed_at)
    close.organization = organization
    result.closed = f"{result.label} was closed for {close.unit.name} ({period_close.closed_note(close)})"
    if not result.matches:
        stored = result.stored
        result.note = (
            f"{result.closed}. The score shown is the one reviewed then, {percent(stored['score'])} "
            f"({light(stored['status']).label}), and it stays as it was while the month is closed. The definition has "
            f"changed since ({CHANGED_SINCE[result.level]}). The steps below are today's calculation, which gives "
            f"{percent(result.score)} ({light(result.status).label}); an admin who reopens the month brings the score "
            "up to date."
        )
    return result


def owner_unit(*, organization: Organization, level: str, id: int):
    """The org unit a score belongs to (for the read permission), or None when the id is not the organization's."""
    models = {"kpi": Kpi, "objective": Objective, "perspective": Perspective, "scorecard": Scorecard}
    if level not in models:
        return None
    path = {"kpi": "unit", "objective": "scorecard__unit", "perspective": "scorecard__unit", "scorecard": "unit"}
    row = models[level].objects.for_organization(organization).select_related(path[level]).filter(pk=id).first()
    if row is None:
        return None
    return row.unit if level in ("kpi", "scorecard") else row.scorecard.unit


# --- A KPI --------------------------------------------------------------------------------------------------------


def _explain_kpi(organization, kpi_id, kind, period, months, label) -> Explanation:
    kpi = (
        Kpi.objects.for_organization(organization)
        .select_related("unit")
        .filter(pk=kpi_id, archived_at__isnull=True)
        .first()
    )
    if kpi is None:
        raise ExplainError(f"No KPI {kpi_id} in this organization.", not_found=True, field="id")
    stored = _stored(KpiScore, organization, "kpi_id", kpi.pk, kind, period)
    if stored is None:
        raise _no_score(f"KPI {kpi.code}", label)
    d, unit = kpi.decimals, kpi.measurement_unit
    trace = scoring.Trace()
    steps: list[Line] = []
    inputs = [Figure("Direction", DIRECTION_WORDS[kpi.direction], kpi.direction)]
    if kpi.direction == "band":
        inputs += [
            Figure("Band", f"{figure(kpi.band_low, d, unit)} to {figure(kpi.band_high, d, unit)}", None),
            Figure("Tolerance", figure(kpi.band_tolerance or Decimal(0), d, unit), kpi.band_tolerance),
        ]
    else:
        inputs.append(Figure("Baseline", figure(kpi.baseline, d, unit), kpi.baseline))
    aggregated = kind != org_calendar.MONTH
    if aggregated:
        words = AGGREGATION_PHRASES[kpi.time_aggregation]
        inputs.append(Figure("Time aggregation", f"{words} the months with a value", kpi.time_aggregation))

    # The window's target (every source) and actual (by source), as the SQL reads them.
    targets = dict(
        Target.objects.for_organization(organization).filter(kpi=kpi, period__in=months).values_list("period", "value")
    )
    month_rows: list[Month] = []
    if aggregated:
        target = scoring.window_value(
            kpi.time_aggregation, [(m, targets.get(m)) for m in months], name="target", trace=trace
        )
        steps.append(Line("window", _window_text(trace.step("window"), "Target", label, d, unit)))
    else:
        target = targets.get(period)
    rollup_coverage = None
    children: list[Child] = []
    if kpi.source == Source.MANUAL:
        entered = Measurement.objects.for_organization(organization).filter(kpi=kpi, period__in=months)
        if organization.values_need_approval:  # the scores read approved values only (kpis/approval.py)
            entered = entered.filter(approval=Approval.APPROVED)
        values = dict(entered.values_list("period", "value"))
        if aggregated:
            actual = scoring.window_value(
                kpi.time_aggregation, [(m, values.get(m)) for m in months], name="actual", trace=trace
            )
            steps.insert(0, Line("window", _window_text(trace.step("window"), "Actual", label, d, unit)))
            month_rows = [
                Month(m, org_calendar.month_label(m), figure(values.get(m), d, unit) if m in values else "—",
                      figure(targets.get(m), d, unit) if m in targets else "—")
                for m in months
            ]  # fmt: skip
        else:
            actual = values.get(period)
            entered = f"{figure(actual, d, unit)} entered for {label}" if actual is not None else "none entered"
            steps.insert(0, Line("actual", f"Actual: {entered}."))
    elif kpi.source == Source.ROLLUP:
        actual, rollup_coverage, children = _rollup(organization, kpi, kind, period, trace)
        steps.insert(0, Line("rollup", _rollup_text(trace.step("rollup"), kpi, children, d, unit)))
    else:
        actual, text = _formula(organization, kpi, kind, period, d)
        steps.insert(0, Line("formula", text))
    inputs.append(Figure("Actual", figure(actual, d, unit), actual))
    if kpi.direction != "band":
        inputs.append(Figure("Target", figure(target, d, unit), target))
    green = kpi.green_threshold if kpi.green_threshold is not None else organization.green_threshold
    amber = kpi.amber_threshold if kpi.amber_threshold is not None else organization.amber_threshold
    whose = (
        "the KPI's own" if kpi.green_threshold is not None or kpi.amber_threshold is not None else "the organization's"
    )
    inputs.append(
        Figure("Thresholds", f"green from {threshold_percent(green)}, amber from {threshold_percent(amber)} ({whose})")
    )
    inputs.append(Figure("Weight in its objective", figure(kpi.weight), kpi.weight))

    progress = scoring.kpi_progress(
        direction=kpi.direction, baseline=kpi.baseline, target=target, actual=actual,
        band_low=kpi.band_low, band_high=kpi.band_high, band_tolerance=kpi.band_tolerance, trace=trace,
    )  # fmt: skip
    score = scoring.kpi_score(progress, trace=trace)
    status = scoring.status_of(score, green=green, amber=amber, trace=trace)
    coverage = scoring.kpi_coverage(score, rollup_coverage=rollup_coverage, trace=trace)
    steps.append(Line("progress", _progress_text(trace, kpi, label, d)))
    if score is not None:
        steps.append(Line("clamp", _clamp_text(trace.step("clamp"))))
    steps.append(Line("status", _status_text(trace.step("status"))))
    steps.append(Line("coverage", _kpi_coverage_text(kpi, score, coverage)))
    shown_progress = None if progress is None else max(min(progress, PROGRESS_LIMIT), -PROGRESS_LIMIT)
    result = Explanation(
        level="kpi", id=kpi.pk, name=f"{kpi.code} · {kpi.name}", unit_id=kpi.unit_id, unit_name=kpi.unit.name,
        kind=kind, period=period, label=label, score=score, status=status, coverage=coverage,
        progress=shown_progress, actual=_q6(actual), target=_q6(target), inputs=inputs, months=month_rows,
        steps=steps, children=children, trace=trace,
    )  # fmt: skip
    stored_figures = {
        "score": stored.score, "status": stored.status, "coverage": stored.coverage, "progress": stored.progress,
        "actual": stored.actual, "target": stored.target,
    }  # fmt: skip
    return _compare(result, stored_figures)


def _window_text(step: scoring.Step, what: str, label: str, d: int, unit: str) -> str:
    f = step.figures
    known = [v for _, v in f["months"] if v is not None]
    count = f"{len(known)} of its {len(f['months'])} months"
    if not known:
        return f"{what} for {label}: none of its {len(f['months'])} months has a value, so there is none."
    shown = [figure(v, d) for v in known]
    result = figure(f["result"], d, unit)
    if f["method"] == "sum":
        arithmetic = f"{' + '.join(shown)} = {result}"
    elif f["method"] == "average":
        arithmetic = f"({' + '.join(shown)}) / {len(known)} = {result}"
    elif f["method"] == "last":
        month = next(m for m, v in reversed(f["months"]) if v is not None)
        arithmetic = f"{org_calendar.month_label(month)}: {result}"
    else:
        arithmetic = f"{'lowest' if f['method'] == 'min' else 'highest'} of {', '.join(shown)} = {result}"
    return f"{what} for {label} = {AGGREGATION_PHRASES[f['method']]} the {count} with a value: {arithmetic}."


def _rollup(organization, kpi: Kpi, kind: str, period: date, trace: scoring.Trace):
    children = list(
        Kpi.objects.for_organization(organization)
        .select_related("unit")
        .filter(aligned_to=kpi, archived_at__isnull=True)
        .order_by("unit__path", "code")
    )
    scores = {
        s.kpi_id: s
        for s in KpiScore.objects.for_organization(organization).filter(
            kpi_id__in=[c.pk for c in children], period_kind=kind, period=period
        )
    }
    pairs = [(c.weight, getattr(scores.get(c.pk), "actual", None)) for c in children]
    actual, coverage = scoring.rollup_value(kpi.rollup_method or "sum", pairs, trace=trace)
    step = trace.step("rollup")
    lines = []
    for c, (weight, value) in zip(children, step.figures["children"], strict=True):
        s = scores.get(c.pk)
        share = (
            None if value is None or not step.figures["weight_with_data"] else weight / step.figures["weight_with_data"]
        )
        lines.append(
            Child(
                level="kpi", id=c.pk, name=f"{c.code} · {c.name}", unit_id=c.unit_id, unit_name=c.unit.name,
                weight=c.weight, score=getattr(s, "score", None), status=getattr(s, "status", "grey"),
                included=value is not None, share=share, actual=value, role=f"aligned KPI of {c.unit.name}",
                actual_text=figure(value, c.decimals, c.measurement_unit),
                score_text=percent(getattr(s, "score", None)), weight_text=figure(weight),
                share_text=rounded_percent(share) if share is not None else "", light=light(getattr(s, "status", "grey")),
            )
        )  # fmt: skip
    return actual, coverage, lines


def _rollup_text(step: scoring.Step, kpi: Kpi, children: list[Child], d: int, unit: str) -> str:
    f = step.figures
    method = f["method"]
    if not children:
        return "Actual: no KPI of a sub-unit is aligned to this roll-up, so it has no value."
    known = [c for c in children if c.included]
    if not known:
        return f"Actual: none of the {len(children)} aligned KPIs of sub-units has a value, so there is none."
    values = [_signed(c.actual, d) for c in known]
    result = figure(f["result"], d, unit)
    if method == "sum":
        arithmetic = f"{' + '.join(values)} = {result}"
    elif method == "average":
        arithmetic = f"({' + '.join(values)}) / {len(known)} = {result}"
    elif method in ("min", "max"):
        arithmetic = f"{'lowest' if method == 'min' else 'highest'} of {', '.join(values)} = {result}"
    elif f["result"] is None:
        arithmetic = "the children with a value have no weight, so there is none"
    else:
        weights = [w for w, a in f["children"] if a is not None]
        products = " + ".join(f"{figure(w)} × {v}" for w, v in zip(weights, values, strict=True))
        arithmetic = f"({products}) / ({' + '.join(figure(w) for w in weights)}) = {result}"
    left = len(children) - len(known)
    out = f" {left} without a value {'is' if left == 1 else 'are'} left out." if left else ""
    equal = " (none has a weight, so each counts the same)" if f["equal_weights"] else ""
    return (
        f"Actual = {ROLLUP_PHRASES[method]} the {len(known)} aligned {plural(len(known), 'KPI')} of sub-units with a "
        f"value{equal}: "
        f"{arithmetic}.{out}"
    )


def _formula(organization, kpi: Kpi, kind: str, period: date, d: int) -> tuple[Decimal | None, str]:
    parsed = formulas.parse(kpi.formula)
    refs = {
        k.code: k
        for k in Kpi.objects.for_organization(organization).filter(code__in=parsed.codes, archived_at__isnull=True)
    }
    actuals = dict(
        KpiScore.objects.for_organization(organization)
        .filter(kpi_id__in=[k.pk for k in refs.values()], period_kind=kind, period=period)
        .values_list("kpi_id", "actual")
    )
    values = {code: actuals.get(refs[code].pk) if code in refs else None for code in parsed.codes}
    given = ", ".join(
        f"{code} = {figure(values[code], refs[code].decimals) if code in refs else 'no such KPI'}"
        for code in sorted(parsed.codes)
    )
    try:
        value = parsed.evaluate(values)
    except formulas.FormulaError as error:
        return None, f"Actual = {kpi.formula} with {given}: no value ({error})"
    if value is not None and abs(value) >= ACTUAL_LIMIT:
        return None, f"Actual = {kpi.formula} with {given}: too large to store, so no value."
    return value, f"Actual = {kpi.formula} with {given} = {figure(value, d, kpi.measurement_unit)}."


def _progress_text(trace: scoring.Trace, kpi: Kpi, label: str, d: int) -> str:
    missing = trace.step("missing")
    if missing is not None:
        names = {"actual": "actual", "baseline": "baseline", "target": "target", "band_low": "low bound",
                 "band_high": "high bound"}  # fmt: skip
        what = " and ".join(f"no {names[m]}" for m in missing.figures["missing"])
        return (
            f"No progress: the KPI has {what} for {label}, so it has no score (grey) and is left out of its objective."
        )
    for name in ("ratio", "target_at_baseline", "band_inside", "band_tolerance", "band_beyond_tolerance"):
        step = trace.step(name)
        if step is not None:
            break
    f = step.figures
    p = percent(f["result"])
    if name == "ratio":
        a, b, t = f["actual"], f["baseline"], f["target"]
        return (
            f"Progress = (actual − baseline) / (target − baseline) = ({_signed(a, d)} − {_signed(b, d)}) / "
            f"({_signed(t, d)} − {_signed(b, d)}) = {p}"
            + (" (the target is below the baseline: lower is better)." if t < b else ".")
        )
    if name == "target_at_baseline":
        sign = "≥" if f["direction"] == "increase" else "≤"
        verdict = "met" if f["met"] else "not met"
        return (
            f"The target equals the baseline ({figure(f['target'], d)}), so progress is 100% when the target is met in "
            f"the KPI's direction (actual {sign} {figure(f['target'], d)}) and 0% otherwise: "
            f"actual {figure(f['actual'], d)}, {verdict}: {p}."
        )
    band = f"[{figure(f['band_low'], d)}, {figure(f['band_high'], d)}]"
    if name == "band_inside":
        return f"The actual {figure(f['actual'], d)} lies inside the band {band}: progress = {p}."
    distance, tolerance = figure(f["distance"], d), figure(f["tolerance"], d)
    if name == "band_tolerance":
        return (
            f"The actual {figure(f['actual'], d)} is {distance} outside the band {band}; with a tolerance of "
            f"{tolerance}, progress = 1 − {distance} / {tolerance} = {p}."
        )
    reason = "with no tolerance" if not f["tolerance"] else f"at or beyond the tolerance of {tolerance}"
    return f"The actual {figure(f['actual'], d)} is {distance} outside the band {band}, {reason}: progress = {p}."


def _clamp_text(step: scoring.Step) -> str:
    f = step.figures
    if not f["clamped"]:
        return f"Score = progress = {percent(f['result'])} (within 0–100%, nothing to clamp)."
    why = (
        "over-achievement on one KPI does not hide a miss on another"
        if f["progress"] > 1
        else "a value worse than the baseline scores 0%"
    )
    return f"Score = progress {percent(f['progress'])} clamped to 0–100% = {percent(f['result'])} ({why})."


def _status_text(step: scoring.Step) -> str:
    f = step.figures
    s, g, a = f["score"], threshold_percent(f["green"]), threshold_percent(f["amber"])
    label = light(f["result"]).label
    if s is None:
        return f"Status: no score, so grey ({label})."
    shown = percent(s)
    if f["result"] == scoring.GREEN:
        return f"Status: {shown} is at or above the green threshold {g}: green ({label})."
    if f["result"] == scoring.AMBER:
        return f"Status: {shown} is below the green threshold {g} and at or above the amber threshold {a}: amber ({label})."
    return f"Status: {shown} is below the amber threshold {a}: red ({label})."


def _kpi_coverage_text(kpi: Kpi, score, coverage) -> str:
    if score is None:
        return "Coverage 0%: no score."
    if kpi.source == Source.ROLLUP:
        return f"Coverage {share_percent(coverage)}: the weight of the aligned KPIs with a value over the weight of all of them."
    return "Coverage 100%: the KPI has its data."


# --- Weighted means: objectives, perspectives, scorecards -----------------------------------------------------------


def _weighted(
    organization, children: list[Child], kind_noun: str, trace: scoring.Trace
) -> tuple[list[Line], Decimal | None, str, Decimal]:
    score, coverage = scoring.weighted_score([(c.weight, c.score) for c in children], trace=trace)
    status = scoring.status_of(
        score, green=organization.green_threshold, amber=organization.amber_threshold, trace=trace
    )
    f = trace.step("weighted").figures
    for child, (_, _, share) in zip(children, f["items"], strict=True):
        child.share = share
        child.included = child.score is not None
    steps: list[Line] = []
    if not children:
        steps.append(Line("weighted", f"Nothing to score: no {kind_noun}. The score is grey."))
    else:
        out = [c for c in children if not c.included]
        if out:
            names = ", ".join(c.name for c in out)
            steps.append(
                Line(
                    "left_out",
                    f"Left out for missing data: {names} (weight {' + '.join(figure(c.weight) for c in out)} of "
                    f"{figure(f['total'])}).",
                )
            )
        kept = [c for c in children if c.included]
        if not kept:
            steps.append(Line("weighted", "No item has data, so there is no score (grey)."))
        elif not f["with_data"]:
            steps.append(Line("weighted", "The items with data have no weight, so there is no score (grey)."))
        else:
            total = figure(f["with_data"])
            shares = ", ".join(f"{c.name} {figure(c.weight)} / {total} = {rounded_percent(c.share)}" for c in kept)
            steps.append(Line("weights", f"Weights renormalised over the items with data: {shares}."))
            products = " + ".join(f"{figure(c.weight)} × {percent(c.score)}" for c in kept)
            steps.append(Line("weighted", f"Score = ({products}) / {total} = {percent(score)}."))
        steps.append(
            Line(
                "coverage",
                f"Coverage = weight with data / total weight = {figure(f['with_data'])} / {figure(f['total'])} = "
                f"{share_percent(coverage)}.",
            )
        )
    steps.append(Line("status", _status_text(trace.step("status"))))
    for c in children:
        c.score_text, c.weight_text, c.light = percent(c.score), figure(c.weight), light(c.status)
        c.share_text = rounded_percent(c.share) if c.share is not None else "left out"
    return steps, score, status, coverage


def _scored_children(model, owner_field, rows, organization, kind, period) -> dict[int, object]:
    return {
        getattr(s, owner_field): s
        for s in model.objects.for_organization(organization).filter(
            **{f"{owner_field}__in": [r.pk for r in rows]}, period_kind=kind, period=period
        )
    }


def _scored_child(level: str, row, name: str, unit_id: int, unit_name: str, scores: dict, role: str) -> Child:
    """A KPI, objective or perspective as an item of its parent's score, with its stored score of the period (grey
    without one); whether it counts and its share come later (_weighted)."""
    stored = scores.get(row.pk)
    return Child(level, row.pk, name, unit_id, unit_name, row.weight, getattr(stored, "score", None),
                 getattr(stored, "status", "grey"), False, None, role=role)  # fmt: skip


def _finish(result: Explanation, stored) -> Explanation:
    return _compare(result, {"score": stored.score, "status": stored.status, "coverage": stored.coverage})


def _explain_objective(organization, objective_id, kind, period, months, label) -> Explanation:
    objective = (
        Objective.objects.for_organization(organization)
        .select_related("scorecard__unit")
        .filter(pk=objective_id)
        .first()
    )
    if objective is None:
        raise ExplainError(f"No objective {objective_id} in this organization.", not_found=True, field="id")
    stored = _stored(ObjectiveScore, organization, "objective_id", objective.pk, kind, period)
    if stored is None:
        raise _no_score(f"the objective “{objective.name}”", label)
    kpis = list(
        Kpi.objects.for_organization(organization).select_related("unit")
        .filter(objective=objective, archived_at__isnull=True).order_by("code")
    )  # fmt: skip
    aligned = list(
        Objective.objects.for_organization(organization).select_related("scorecard__unit")
        .filter(aligned_to=objective).order_by("scorecard__unit__path", "name")
    )  # fmt: skip
    kpi_scores = _scored_children(KpiScore, "kpi_id", kpis, organization, kind, period)
    objective_scores = _scored_children(ObjectiveScore, "objective_id", aligned, organization, kind, period)
    children = [
        _scored_child("kpi", k, f"{k.code} · {k.name}", k.unit_id, k.unit.name, kpi_scores, "KPI") for k in kpis
    ] + [
        _scored_child("objective", o, o.name, o.scorecard.unit_id, o.scorecard.unit.name, objective_scores,
                      f"aligned objective of {o.scorecard.unit.name}")
        for o in aligned
    ]  # fmt: skip
    trace = scoring.Trace()
    steps, score, status, coverage = _weighted(organization, children, "KPIs and no aligned objectives", trace)
    steps.insert(
        0,
        Line("items", f"An objective's score is the weighted mean of {_items_phrase(len(kpis), len(aligned))}."),
    )  # fmt: skip
    unit = objective.scorecard.unit
    result = Explanation(
        level="objective", id=objective.pk, name=objective.name, unit_id=unit.pk, unit_name=unit.name, kind=kind,
        period=period, label=label, score=score, status=status, coverage=coverage, steps=steps,
        children=children, trace=trace, inputs=_threshold_inputs(organization, objective.weight, "its perspective"),
    )  # fmt: skip
    return _finish(result, stored)


def _items_phrase(kpis: int, aligned: int) -> str:
    parts = []
    if kpis:
        parts.append(f"the scores of its {kpis} {plural(kpis, 'KPI')}")
    if aligned:
        parts.append(f"the {aligned} sub-unit {plural(aligned, 'objective')} aligned to it")
    return " and of ".join(parts) or "its KPIs and the sub-unit objectives aligned to it (it has none)"


def _threshold_inputs(organization, weight, where: str | None) -> list[Figure]:
    inputs = [
        Figure(
            "Thresholds",
            f"green from {threshold_percent(organization.green_threshold)}, amber from "
            f"{threshold_percent(organization.amber_threshold)} (the organization's)",
        )
    ]
    if where:
        inputs.append(Figure(f"Weight in {where}", figure(weight), weight))
    return inputs


def _explain_perspective(organization, perspective_id, kind, period, months, label) -> Explanation:
    perspective = (
        Perspective.objects.for_organization(organization)
        .select_related("scorecard__unit")
        .filter(pk=perspective_id)
        .first()
    )
    if perspective is None:
        raise ExplainError(f"No perspective {perspective_id} in this organization.", not_found=True, field="id")
    stored = _stored(PerspectiveScore, organization, "perspective_id", perspective.pk, kind, period)
    if stored is None:
        raise _no_score(f"the perspective “{perspective.name}”", label)
    unit = perspective.scorecard.unit
    objectives = list(
        Objective.objects.for_organization(organization)
        .filter(perspective=perspective, scorecard=perspective.scorecard).order_by("y", "x", "name")
    )  # fmt: skip
    return _weighted_mean_of(
        organization, level="perspective", id=perspective.pk, name=perspective.name, unit=unit, parts=objectives,
        scores=_scored_children(ObjectiveScore, "objective_id", objectives, organization, kind, period),
        part="objective", kind=kind, period=period, label=label, stored=stored,
        inputs=_threshold_inputs(organization, perspective.weight, "the scorecard"),
    )  # fmt: skip


def _explain_scorecard(organization, scorecard_id, kind, period, months, label) -> Explanation:
    scorecard = Scorecard.objects.for_organization(organization).select_related("unit").filter(pk=scorecard_id).first()
    if scorecard is None:
        raise ExplainError(f"No scorecard {scorecard_id} in this organization.", not_found=True, field="id")
    stored = _stored(ScorecardScore, organization, "scorecard_id", scorecard.pk, kind, period)
    if stored is None:
        raise _no_score(f"the scorecard of {scorecard.unit.name}", label)
    unit = scorecard.unit
    perspectives = list(
        Perspective.objects.for_organization(organization).filter(scorecard=scorecard).order_by("order", "pk")
    )
    return _weighted_mean_of(
        organization, level="scorecard", id=scorecard.pk, name=f"{unit.name} scorecard", unit=unit, parts=perspectives,
        scores=_scored_children(PerspectiveScore, "perspective_id", perspectives, organization, kind, period),
        part="perspective", kind=kind, period=period, label=label, stored=stored,
        inputs=_threshold_inputs(organization, None, None),
    )  # fmt: skip


def _weighted_mean_of(
    organization, *, level, id, name, unit, parts, scores, part, kind, period, label, stored, inputs
) -> Explanation:
    """A perspective's score from its objectives, or a scorecard's from its perspectives (`parts`, all of `unit`):
    their weighted mean, checked against the stored score."""
    children = [_scored_child(part, p, p.name, unit.pk, unit.name, scores, part) for p in parts]
    trace = scoring.Trace()
    steps, score, status, coverage = _weighted(organization, children, f"{part}s", trace)
    steps.insert(
        0,
        Line(
            "items",
            f"A {level}'s score is the weighted mean of the scores of its {len(parts)} {plural(len(parts), part)}.",
        ),
    )
    result = Explanation(
        level=level, id=id, name=name, unit_id=unit.pk, unit_name=unit.name, kind=kind, period=period, label=label,
        score=score, status=status, coverage=coverage, steps=steps, children=children, trace=trace, inputs=inputs,
    )  # fmt: skip
    return _finish(result, stored)


_EXPLAINERS = {
    "kpi": _explain_kpi,
    "objective": _explain_objective,
    "perspective": _explain_perspective,
    "scorecard": _explain_scorecard,
}


def _compare(result: Explanation, stored: dict) -> Explanation:
    result.stored = stored
    mine = {
        "score": result.score, "status": result.status, "coverage": result.coverage, "progress": result.progress,
        "actual": result.actual, "target": result.target,
    }  # fmt: skip
    result.matches = all(mine[key] == value for key, value in stored.items())
    if not result.matches:
        result.note = (
            f"The stored score is {percent(stored['score'])} ({light(stored['status']).label}); today's data give "
            f"{percent(result.score)}: a change is still being worked into the scores. Reload in a moment."
        )
    return result


# --- Links --------------------------------------------------------------------------------------------------------


def explain_query(level: str, id: int, kind: str, period: date) -> str:
    return f"?level={level}&id={id}&kind={kind}&period={period:%Y-%m}"


def explain_url(slug: str, level: str, id: int, kind: str, period: date) -> str:
    return reverse("score_explain", args=[slug]) + explain_query(level, id, kind, period)


def page_url(slug: str, child: Child, kind: str, period: date) -> str:
    if child.level == "kpi":
        return reverse("kpi_detail", args=[slug, child.id])
    return reverse("scorecard_detail", args=[slug, child.unit_id]) + f"?kind={kind}&period={period:%Y-%m}"


def with_links(explanation: Explanation, slug: str) -> Explanation:
    """Fill each child's links: its own explanation (page and API), and its page (the KPI page, or its unit's
    scorecard)."""
    for child in explanation.children:
        query = explain_query(child.level, child.id, explanation.kind, explanation.period)
        child.explain_url = reverse("score_explain", args=[slug]) + query
        child.explain_api_url = reverse("api_score_explain", args=[slug]) + query
        child.page_url = page_url(slug, child, explanation.kind, explanation.period)
    return explanation


def attach_scorecard_links(card, view, *, slug: str, kind: str, month: date, fiscal_start: int) -> None:
    """Give the scorecard page's display lines (kpis.scorecard_display) the 'Why this score?' link of each stored
    score they show, as `explain_url`: the scorecard, each perspective, objective and KPI (lines without a stored
    score get none)."""
    period = org_calendar.window_start(kind, month, fiscal_start)
    base = reverse("score_explain", args=[slug])  # once: a page has a hundred or more links

    def link(line, level, owner_id, stored):
        line.explain_url = base + explain_query(level, owner_id, kind, period) if stored is not None else ""
        line.explain_key = f"{level}-{owner_id}"

    link(card, "scorecard", view.scorecard.pk, view.score)
    for p_line, p in zip(card.perspectives, view.perspectives, strict=True):
        link(p_line, "perspective", p.perspective.pk, p.score)
        for o_line, o in zip(p_line.children, p.objectives, strict=True):
            link(o_line, "objective", o.objective.pk, o.score)
            for k_line, k in zip(o_line.kpis, o.kpis, strict=True):
                link(k_line, "kpi", k.kpi.pk, k.score)
    for k_line, k in zip(card.unlinked, view.unlinked, strict=True):
        link(k_line, "kpi", k.kpi.pk, k.score)
