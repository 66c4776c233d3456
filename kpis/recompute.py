"""Stored scores: recompute what depends on changed KPI-periods, unit by unit from the deepest up.

For each touched unit and its ancestors, and for the month, fiscal quarter and fiscal year containing each
touched month, this writes KPI scores (manual, formula and roll-up KPIs), objective scores (their KPIs and
the child-unit objectives aligned to them), perspective and scorecard scores, following DESIGN.md
section 5. Running it twice, or for overlapping changes at once, ends in the same rows (upserts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import FilteredRelation, Q

from bsc.models import Objective, Organization, OrgUnit, Perspective, Scorecard
from kpis import formula as formulas
from kpis import scoring
from kpis.models import (
    Kpi,
    KpiScore,
    Measurement,
    ObjectiveScore,
    PeriodKind,
    PerspectiveScore,
    ScorecardScore,
    Source,
    Target,
)

PROGRESS_LIMIT = Decimal("99999999")
LOCK_NAMESPACE = 7301  # pg_advisory_xact_lock(namespace, organization id) for score recomputes


@dataclass(frozen=True)
class Window:
    """A period of a score: its kind, first month, and the months it spans."""

    kind: str
    start: date
    months: tuple[date, ...]


def windows_for(month: date, fiscal_start: int) -> list[Window]:
    """The month itself, and the fiscal quarter and fiscal year that contain it."""
    offset = (month.month - fiscal_start) % 12
    fy_start_year = month.year if month.month >= fiscal_start else month.year - 1
    year_months = tuple(
        date(fy_start_year + (fiscal_start - 1 + i) // 12, (fiscal_start - 1 + i) % 12 + 1, 1) for i in range(12)
    )
    quarter = offset // 3
    quarter_months = year_months[quarter * 3 : quarter * 3 + 3]
    return [
        Window(PeriodKind.MONTH, month, (month,)),
        Window(PeriodKind.QUARTER, quarter_months[0], quarter_months),
        Window(PeriodKind.YEAR, year_months[0], year_months),
    ]


def _thresholds(kpi: Kpi, organization: Organization) -> tuple[Decimal, Decimal]:
    return (
        kpi.green_threshold if kpi.green_threshold is not None else organization.green_threshold,
        kpi.amber_threshold if kpi.amber_threshold is not None else organization.amber_threshold,
    )


def _window_value(values_by_month: dict[date, Decimal], kpi: Kpi, window: Window) -> Decimal | None:
    values = [values_by_month.get(m) for m in window.months]
    if window.kind == PeriodKind.MONTH:
        return values[0]
    return scoring.aggregate_values(values, kpi.time_aggregation)


class _Run:
    """One recompute pass over an organization, with the rows it needs loaded in bulk per unit."""

    def __init__(self, organization: Organization):
        self.organization = organization
        self.org_id = organization.pk
        self.formula_cache: dict[int, formulas.Formula] = {}
        self.rollup_coverage: dict[int, Decimal] = {}  # per roll-up KPI, for the window being computed

    def kpi_actuals(self, kpis: list[Kpi], window: Window) -> dict[int, Decimal | None]:
        """Actual values for manual KPIs from measurements, for roll-up KPIs from their children's stored
        actuals, and for formula KPIs from the values they refer to."""
        manual = [k for k in kpis if k.source == Source.MANUAL]
        by_kpi: dict[int, dict[date, Decimal]] = defaultdict(dict)
        for kpi_id, period, value in (
            Measurement.objects.for_organization(self.org_id)
            .filter(kpi__in=manual, period__in=window.months)
            .values_list("kpi_id", "period", "value")
        ):
            by_kpi[kpi_id][period] = value
        actuals: dict[int, Decimal | None] = {k.pk: _window_value(by_kpi[k.pk], k, window) for k in manual}
        for kpi in kpis:
            if kpi.source == Source.ROLLUP:
                actuals[kpi.pk] = self.rollup_actual(kpi, window)
        for kpi in kpis:
            if kpi.source == Source.FORMULA:
                actuals[kpi.pk] = self.formula_actual(kpi, window)
        return actuals

    def rollup_actual(self, kpi: Kpi, window: Window) -> Decimal | None:
        """Aggregate the stored actuals of the active child-unit KPIs aligned to `kpi` (deeper units are
        computed first, so a child roll-up contributes its computed value). Also notes the roll-up's
        coverage: the weight of aligned children with data over the weight of all aligned children."""
        rows = list(
            Kpi.objects.for_organization(self.org_id)
            .filter(aligned_to=kpi, archived_at__isnull=True)
            .annotate(
                window_score=FilteredRelation(
                    "scores", condition=Q(scores__period_kind=window.kind, scores__period=window.start)
                )
            )
            .values_list("window_score__actual", "weight")
        )
        if not any(weight for _, weight in rows):  # no weights at all: every child counts the same
            rows = [(actual, Decimal(1)) for actual, _ in rows]
        _, self.rollup_coverage[kpi.pk] = scoring.weighted_score(
            (weight, None if actual is None else Decimal(1)) for actual, weight in rows
        )
        values = [(actual, weight) for actual, weight in rows if actual is not None]
        if not values:
            return None
        numbers = [v for v, _ in values]
        if kpi.rollup_method == "sum":
            return sum(numbers, Decimal(0))
        if kpi.rollup_method == "average":
            return sum(numbers, Decimal(0)) / len(numbers)
        if kpi.rollup_method == "min":
            return min(numbers)
        if kpi.rollup_method == "max":
            return max(numbers)
        total = sum((w for _, w in values), Decimal(0))
        return sum((v * w for v, w in values), Decimal(0)) / total if total else None

    def formula_actual(self, kpi: Kpi, window: Window) -> Decimal | None:
        parsed = self.formula_cache.get(kpi.pk) or formulas.parse(kpi.formula)
        self.formula_cache[kpi.pk] = parsed
        refs = list(Kpi.objects.for_organization(self.org_id).filter(code__in=parsed.codes))
        values = {}
        stored = dict(
            KpiScore.objects.for_organization(self.org_id)
            .filter(
                kpi__in=[r for r in refs if r.source != Source.MANUAL], period_kind=window.kind, period=window.start
            )
            .values_list("kpi_id", "actual")
        )
        manual = self.kpi_actuals([r for r in refs if r.source == Source.MANUAL], window)
        for ref in refs:
            values[ref.code] = manual.get(ref.pk) if ref.source == Source.MANUAL else stored.get(ref.pk)
        try:
            return parsed.evaluate(values)
        except formulas.FormulaError:
            return None  # e.g. a division by zero in this period: no value, shown as missing data

    def kpi_targets(self, kpis: list[Kpi], window: Window) -> dict[int, Decimal | None]:
        by_kpi: dict[int, dict[date, Decimal]] = defaultdict(dict)
        for kpi_id, period, value in (
            Target.objects.for_organization(self.org_id)
            .filter(kpi__in=kpis, period__in=window.months)
            .values_list("kpi_id", "period", "value")
        ):
            by_kpi[kpi_id][period] = value
        return {k.pk: _window_value(by_kpi[k.pk], k, window) for k in kpis}

    def unit(self, unit: OrgUnit, window: Window) -> None:
        scorecard = Scorecard.objects.for_organization(self.org_id).get(unit=unit)
        kpis = list(Kpi.objects.for_organization(self.org_id).filter(unit=unit, archived_at__isnull=True))
        actuals = self.kpi_actuals(kpis, window)
        targets = self.kpi_targets(kpis, window)
        kpi_scores: dict[int, Decimal | None] = {}
        for kpi in kpis:
            progress = scoring.kpi_progress(
                direction=kpi.direction,
                baseline=kpi.baseline,
                target=targets[kpi.pk],
                actual=actuals[kpi.pk],
                band_low=kpi.band_low,
                band_high=kpi.band_high,
                band_tolerance=kpi.band_tolerance,
            )
            if progress is not None:  # the column's range; such progress means a target next to the baseline
                progress = min(max(progress, -PROGRESS_LIMIT), PROGRESS_LIMIT)
            score = scoring.kpi_score(progress)
            green, amber = _thresholds(kpi, self.organization)
            kpi_scores[kpi.pk] = score
            KpiScore.objects.for_organization(self.org_id).update_or_create(
                kpi=kpi,
                period_kind=window.kind,
                period=window.start,
                defaults={
                    "organization_id": self.org_id,
                    "actual": actuals[kpi.pk],
                    "target": targets[kpi.pk],
                    "progress": progress,
                    "score": score,
                    "status": scoring.status_of(score, green=green, amber=amber),
                    "coverage": self._kpi_coverage(kpi, score),
                },
            )
        KpiScore.objects.for_organization(self.org_id).filter(
            kpi__unit=unit, kpi__archived_at__isnull=False, period_kind=window.kind, period=window.start
        ).delete()
        self.objectives(scorecard, kpis, kpi_scores, window)

    def _kpi_coverage(self, kpi: Kpi, score: Decimal | None) -> Decimal:
        if score is None:
            return Decimal(0)
        if kpi.source == Source.ROLLUP:
            return self.rollup_coverage.get(kpi.pk, Decimal(0))
        return Decimal(1)

    def objectives(self, scorecard, kpis, kpi_scores, window: Window) -> None:
        green, amber = self.organization.green_threshold, self.organization.amber_threshold
        objectives = list(Objective.objects.for_organization(self.org_id).filter(scorecard=scorecard))
        aligned = defaultdict(list)
        for aligned_to_id, weight, score in (
            ObjectiveScore.objects.for_organization(self.org_id)
            .filter(objective__aligned_to__in=objectives, period_kind=window.kind, period=window.start)
            .values_list("objective__aligned_to_id", "objective__weight", "score")
        ):
            aligned[aligned_to_id].append((weight, score))
        by_objective = defaultdict(list)
        for kpi in kpis:
            if kpi.objective_id:
                by_objective[kpi.objective_id].append((kpi.weight, kpi_scores[kpi.pk]))
        objective_scores = {}
        for objective in objectives:
            score, coverage = scoring.weighted_score(by_objective[objective.pk] + aligned[objective.pk])
            objective_scores[objective.pk] = (objective, score)
            self._store(ObjectiveScore, {"objective": objective}, window, score, coverage, green, amber)
        perspectives = list(Perspective.objects.for_organization(self.org_id).filter(scorecard=scorecard))
        perspective_items = []
        for perspective in perspectives:
            items = [(o.weight, s) for o, s in objective_scores.values() if o.perspective_id == perspective.pk]
            score, coverage = scoring.weighted_score(items)
            perspective_items.append((perspective.weight, score))
            self._store(PerspectiveScore, {"perspective": perspective}, window, score, coverage, green, amber)
        score, coverage = scoring.weighted_score(perspective_items)
        self._store(ScorecardScore, {"scorecard": scorecard}, window, score, coverage, green, amber)

    def _store(self, model, lookup, window, score, coverage, green, amber) -> None:
        model.objects.for_organization(self.org_id).update_or_create(
            **lookup,
            period_kind=window.kind,
            period=window.start,
            defaults={
                "organization_id": self.org_id,
                "score": score,
                "coverage": coverage,
                "status": scoring.status_of(score, green=green, amber=amber),
            },
        )


def scores_recompute_full(*, organization: Organization, progress=None) -> int:
    """Rebuild every stored score of the organization from the source rows (the nightly repair path for
    a recompute task lost between commit and publish). `progress(done, total)` is told as windows finish."""
    months = set(Measurement.objects.for_organization(organization).values_list("period", flat=True).distinct())
    months |= set(Target.objects.for_organization(organization).values_list("period", flat=True).distinct())
    unit_ids = set(OrgUnit.objects.for_organization(organization).values_list("id", flat=True))
    done = 0
    ordered = sorted(months)
    for month in ordered:
        done += scores_recompute(organization=organization, unit_ids=unit_ids, months={month})
        if progress is not None:
            progress(ordered.index(month) + 1, len(ordered))
    return done


def scores_recompute(*, organization: Organization, unit_ids: set[int], months: set[date]) -> int:
    """Recompute the given units and every ancestor for the windows containing the months. Returns the
    number of unit-windows computed."""
    units = list(OrgUnit.objects.for_organization(organization).filter(pk__in=unit_ids))
    ancestor_ids = set(unit_ids)
    for unit in units:
        ancestor_ids.update(unit.ancestor_ids())
    chain = sorted(
        OrgUnit.objects.for_organization(organization).filter(pk__in=ancestor_ids), key=lambda u: -u.depth
    )  # deepest first: children's scores feed their parents'
    windows = {w for month in months for w in windows_for(month, organization.fiscal_year_start_month)}
    run = _Run(organization)
    count = 0
    with transaction.atomic(), connection.cursor() as cursor:
        # One recompute per organization at a time: concurrent runs queue here instead of racing upserts.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, organization.pk])
        for window in sorted(windows, key=lambda w: (w.start, w.kind)):
            for unit in chain:
                run.unit(unit, window)
                count += 1
    return count
