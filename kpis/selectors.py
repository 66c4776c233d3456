"""Reads shared by the KPI pages and the API; a fixed number of queries whatever the number of KPIs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from django.db.models import Count, Exists, F, FilteredRelation, Max, Min, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from bsc.models import Membership, Objective, Organization, OrgUnit, Perspective, Scorecard
from bsc.org_calendar import KIND_STEPS, due_month, month_shift, window_start
from bsc.selectors import tree_ordered
from bsc.statuses import STATUS_LABELS
from kpis.models import (
    Kpi,
    KpiScore,
    Measurement,
    ObjectiveScore,
    PendingRecompute,
    PeriodKind,
    PerspectiveScore,
    ScoreBase,
    ScorecardScore,
    Target,
)


def kpi_list(*, organization: Organization, unit: OrgUnit | None = None, archived: bool = False) -> QuerySet[Kpi]:
    kpis = (
        Kpi.objects.for_organization(organization)
        .select_related("unit", "objective", "owner", "aligned_to")
        .filter(archived_at__isnull=not archived)
    )
    return kpis.filter(unit=unit) if unit is not None else kpis


def recent_windows(kind: str, month: date, fiscal_start: int, count: int = 12) -> list[date]:
    """The starts of the `count` windows of this kind ending with the one containing `month`."""
    step = KIND_STEPS[kind]
    last = window_start(kind, month, fiscal_start)
    return [month_shift(last, -step * i) for i in range(count - 1, -1, -1)]


@dataclass
class KpiRow:
    kpi: Kpi
    score: KpiScore | None
    trend: list[Decimal | None] = field(default_factory=list)  # actuals of the recent windows, oldest first


@dataclass
class ObjectiveRow:
    objective: Objective
    score: ObjectiveScore | None
    kpis: list[KpiRow] = field(default_factory=list)


@dataclass
class PerspectiveRow:
    perspective: Perspective
    score: PerspectiveScore | None
    objectives: list[ObjectiveRow] = field(default_factory=list)


@dataclass
class ScorecardView:
    scorecard: Scorecard
    score: ScorecardScore | None
    perspectives: list[PerspectiveRow]
    unlinked: list[KpiRow]  # KPIs of the unit that serve no objective
    windows: list[date]


def scorecard_rows(*, organization: Organization, unit: OrgUnit, kind: str, month: date) -> ScorecardView:
    """Perspectives, then objectives, then KPIs of one unit, each with its stored score for the window of
    `kind` containing `month`, and each KPI with the actuals of the last 12 windows for a sparkline."""
    org_id = organization.pk
    scorecard = Scorecard.objects.for_organization(org_id).select_related("unit").get(unit=unit)
    windows = recent_windows(kind, month, organization.fiscal_year_start_month)
    current = windows[-1]
    perspectives = list(Perspective.objects.for_organization(org_id).filter(scorecard=scorecard))
    objectives = list(
        Objective.objects.for_organization(org_id)
        .filter(scorecard=scorecard)
        .select_related("owner")
        .annotate(aligned_count=Count("aligned_from"))  # sub-units' objectives that count towards its score
        .order_by("x", "id")
    )
    # The KPIs' owners serve the review pack; their unit is `unit`, their objective is found by id below.
    kpis = list(
        kpi_list(organization=organization, unit=unit).select_related(None).select_related("owner").order_by("code")
    )
    # The 12 windows' rows as tuples (a model instance each would cost more than the page's rendering of them):
    # the actuals for the sparklines, and a KpiScore only for the window shown.
    fields = [f.attname for f in KpiScore._meta.concrete_fields]
    kpi_at, period_at, actual_at = fields.index("kpi_id"), fields.index("period"), fields.index("actual")
    trends: dict[int, dict[date, Decimal | None]] = defaultdict(dict)
    current_scores: dict[int, KpiScore] = {}
    for values in (
        KpiScore.objects.for_organization(org_id)
        .filter(kpi__in=kpis, period_kind=kind, period__in=windows)
        .values_list(*fields)
    ):
        trends[values[kpi_at]][values[period_at]] = values[actual_at]
        if values[period_at] == current:
            current_scores[values[kpi_at]] = KpiScore.from_db("default", fields, values)
    objective_scores, perspective_scores, card_score = _owner_scores(
        org_id, kind, current, objectives=objectives, perspectives=perspectives, scorecard=scorecard
    )

    def row(kpi: Kpi) -> KpiRow:
        by_period = trends.get(kpi.pk, {})
        return KpiRow(kpi=kpi, score=current_scores.get(kpi.pk), trend=[by_period.get(w) for w in windows])

    kpi_rows = defaultdict(list)
    unlinked = []
    for kpi in kpis:
        (kpi_rows[kpi.objective_id] if kpi.objective_id else unlinked).append(row(kpi))
    perspective_rows = []
    for perspective in perspectives:
        rows = [
            ObjectiveRow(objective=o, score=objective_scores.get(o.pk), kpis=kpi_rows.get(o.pk, []))
            for o in objectives
            if o.perspective_id == perspective.pk
        ]
        perspective_rows.append(PerspectiveRow(perspective, perspective_scores.get(perspective.pk), rows))
    return ScorecardView(scorecard, card_score, perspective_rows, unlinked, windows)


_SCORE_FIELDS = ["id", *(f.attname for f in ScoreBase._meta.concrete_fields)]  # id, organization_id, period_kind, …
_OWNER_SCORES = {"objective": ObjectiveScore, "perspective": PerspectiveScore, "scorecard": ScorecardScore}


def _owner_scores(org_id: int, kind: str, period: date, *, objectives, perspectives, scorecard):
    """The stored scores of the objectives, the perspectives and the scorecard for one window, in one query (a
    UNION ALL of the three tables): ({objective id: score}, {perspective id: score}, scorecard score or None)."""
    parts = [
        model.objects.for_organization(org_id)
        .filter(**{f"{level}__in": owners}, period_kind=kind, period=period)
        .annotate(level=Value(level), owner=F(f"{level}_id"))
        .values_list(*_SCORE_FIELDS, "level", "owner")
        for (level, model), owners in zip(_OWNER_SCORES.items(), (objectives, perspectives, [scorecard]), strict=True)
    ]
    found: dict[str, dict[int, ScoreBase]] = {level: {} for level in _OWNER_SCORES}
    for *values, level, owner in parts[0].union(*parts[1:], all=True):
        model = _OWNER_SCORES[level]
        row = dict(zip(_SCORE_FIELDS, values, strict=True), **{f"{level}_id": owner})
        names = [f.attname for f in model._meta.concrete_fields]
        found[level][owner] = model.from_db("default", names, [row[name] for name in names])
    return found["objective"], found["perspective"], found["scorecard"].get(scorecard.pk)


def kpi_history(*, kpi: Kpi, months: int = 24, until: date) -> list[dict]:
    """Month by month: actual, target (and original target), comment and status, for the KPI page chart
    and table."""
    org_id = kpi.organization_id
    start = month_shift(until, -(months - 1))
    measurements = {
        m.period: m
        for m in Measurement.objects.for_organization(org_id)
        .filter(kpi=kpi, period__gte=start, period__lte=until)
        .select_related("entered_by")
    }
    targets = {
        t.period: t
        for t in Target.objects.for_organization(org_id).filter(kpi=kpi, period__gte=start, period__lte=until)
    }
    scores = {
        s.period: s
        for s in KpiScore.objects.for_organization(org_id).filter(
            kpi=kpi, period_kind=PeriodKind.MONTH, period__gte=start, period__lte=until
        )
    }
    rows = []
    for i in range(months):
        period = month_shift(start, i)
        m, t, s = measurements.get(period), targets.get(period), scores.get(period)
        rows.append(
            {
                "period": period,
                # roll-up and formula KPIs have no entered values: their computed actual is shown
                "actual": m.value if m else (s.actual if s and kpi.source != "manual" else None),
                "comment": m.comment if m else "",
                "entered_by": m.entered_by if m else None,
                "entered_at": m.entered_at if m else None,
                "version": m.version if m else None,
                "measurement_id": m.pk if m else None,
                "target": t.value if t else None,
                "original_target": t.original_value if t else None,
                "score": s.score if s else None,
                "status": s.status if s else "grey",
            }
        )
    return rows


def measurement_audit(*, kpi: Kpi, limit: int = 200) -> list:
    """Every change of the KPI's values (pghistory events), newest first, with who made it."""
    from kpis.models import Measurement as M

    events = (
        M.pgh_event_model.objects.filter(kpi_id=kpi.pk)
        .select_related("pgh_context")
        .order_by("-pgh_created_at", "-pgh_id")
    )
    return list(events[:limit])


def objective_delete_blockers(*, objective: Objective) -> list[str]:
    """Why the objective cannot be deleted yet, as far as KPIs go: active KPIs with data serve it."""
    with_data = objective.kpis.filter(archived_at__isnull=True, measurements__isnull=False).distinct().count()
    if with_data:
        return [f"it has {with_data} KPI{'s' if with_data != 1 else ''} with data; move or archive them first"]
    return []


def objective_statuses(*, scorecard: Scorecard, kind: str | None = None, period: date | None = None) -> dict[int, dict]:
    """Each objective's stored score (and the score as pages print it, `score_text`) and status for the period of
    `kind` starting in `period` (default: the month now due, the previous month), in one query."""
    from kpis.scorecard_display import percent  # scorecard_display reads this module's rows

    kind = kind or PeriodKind.MONTH
    period = period or due_month(scorecard.organization)
    rows = ObjectiveScore.objects.for_organization(scorecard.organization_id).filter(
        objective__scorecard=scorecard, period_kind=kind, period=period
    )
    return {
        row.objective_id: {
            "status": row.status,
            "score": None if row.score is None else str(row.score),
            "score_text": "" if row.score is None else percent(row.score),
        }
        for row in rows
    }


def score_months(*, organization: Organization) -> tuple[date, date] | None:
    """The first and last month with the organization's stored monthly scores, or None (one query)."""
    found = (
        ScorecardScore.objects.for_organization(organization)
        .filter(period_kind=PeriodKind.MONTH)
        .aggregate(first=Min("period"), last=Max("period"))
    )
    return None if found["first"] is None else (found["first"], found["last"])


def unit_scores(*, organization: Organization, month: date) -> dict[int, ScorecardScore]:
    """Each unit's stored scorecard score for the month, by unit id (units without one are left out). One query."""
    rows = ScorecardScore.objects.for_organization(organization).filter(period_kind=PeriodKind.MONTH, period=month)
    return {row.unit_id: row for row in rows.annotate(unit_id=F("scorecard__unit_id"))}


class UnitScoreLine(NamedTuple):
    """A unit of the organization overview as the page prints it (a tuple, so the Jinja2 list unpacks it)."""

    id: int
    name: str
    depth: int
    head: str  # the head's display name, or ""
    score: str  # the stored scorecard score for the month as a percentage (percent()), or the missing mark
    status: str  # the light's status: one of STATUS_LABELS, "grey" without a score
    own: bool  # one of the member's own units (Membership.units)


def unit_score_lines(*, organization: Organization, month: date, membership: Membership) -> list[UnitScoreLine]:
    """Every unit of the organization in org_unit_tree's order with its head, its stored scorecard score for the
    month and whether it is one of the member's own units, prepared for display: one query of plain rows, no
    model instances, for the organization overview (1,000 units)."""
    from kpis.scorecard_display import MISSING, percent  # scorecard_display reads this module's rows

    scores = FilteredRelation(
        "scorecard__scores",
        condition=Q(
            scorecard__scores__organization=organization,
            scorecard__scores__period_kind=PeriodKind.MONTH,
            scorecard__scores__period=month,
        ),
    )
    own = Membership.units.through.objects.filter(membership_id=membership.pk, orgunit_id=OuterRef("pk"))
    rows = (
        OrgUnit.objects.for_organization(organization)
        .annotate(month_score=scores, own=Exists(own))
        .order_by("path")
        .values_list(
            "id",
            "parent_id",
            "name",
            "depth",
            "head__full_name",
            "head__email",
            "month_score__score",
            "month_score__status",
            "own",
        )  # fmt: skip
    )
    shown: dict[Decimal, str] = {}  # percent() once per distinct score
    lines = []
    for pk, _, name, depth, head_name, head_email, score, status, is_own in tree_ordered(rows):
        if score is None:
            text, status = MISSING, "grey"
        else:
            text = shown.get(score) or shown.setdefault(score, percent(score))
            status = status if status in STATUS_LABELS else "grey"
        lines.append(UnitScoreLine(pk, name, depth, head_name or head_email or "", text, status, is_own))
    return lines


def kpi_aligned_count(*, unit: OrgUnit) -> int:
    """How many of the unit's KPIs feed its parent's roll-ups (moving the unit releases them)."""
    return unit.kpis.filter(aligned_to__isnull=False).count()


def objective_kpis(*, objective) -> list[dict]:
    """The active KPIs serving an objective, with their status for the month now due (two queries)."""
    due = due_month(objective.organization)
    kpis = list(
        Kpi.objects.for_organization(objective.organization_id)
        .filter(objective=objective, archived_at__isnull=True)
        .order_by("code")
    )
    statuses = dict(
        KpiScore.objects.for_organization(objective.organization_id)
        .filter(kpi__in=kpis, period_kind=PeriodKind.MONTH, period=due)
        .values_list("kpi_id", "status")
    )
    return [{"id": k.pk, "code": k.code, "name": k.name, "status": statuses.get(k.pk, "grey")} for k in kpis]


def kpi_review_list(*, organization: Organization, today: date) -> list[dict]:
    """KPIs worth reviewing, each with its reasons: no data for its last three periods, or not serving any
    objective (never discussed in a coaching session joins the list once sessions exist)."""
    from django.db.models import Count, Max, Q

    current = date(today.year, today.month, 1)
    windows = {"monthly": 3, "quarterly": 9, "annual": 36}  # three periods of each frequency, in months
    kpis = (
        kpi_list(organization=organization)
        .filter(source="manual")
        .annotate(
            last_period=Max("measurements__period"),
            **{
                f"recent_{frequency}": Count(
                    "measurements", filter=Q(measurements__period__gte=month_shift(current, -months))
                )
                for frequency, months in windows.items()
            },
        )
        .order_by("unit__path", "code")
    )
    rows = []
    for kpi in kpis:
        reasons = []
        if getattr(kpi, f"recent_{kpi.frequency}") == 0:
            reasons.append("no data for its last three periods")
        if kpi.objective_id is None:
            reasons.append("not linked to any objective")
        if reasons:
            rows.append({"kpi": kpi, "reasons": reasons, "last_period": kpi.last_period})
    return rows


@dataclass
class CascadeNode:
    unit: OrgUnit
    score: ScorecardScore | None
    children: list[CascadeNode] = field(default_factory=list)


def scorecard_cascade(*, organization: Organization, kind: str, month: date) -> list[CascadeNode]:
    """The unit tree (roots first, siblings by name), each unit with its stored scorecard score for the
    window of `kind` containing `month`. Two queries, whatever the number of units."""
    from bsc.selectors import org_unit_tree

    start = window_start(kind, month, organization.fiscal_year_start_month)
    scores = {
        s.scorecard.unit_id: s
        for s in ScorecardScore.objects.for_organization(organization)
        .filter(period_kind=kind, period=start)
        .select_related("scorecard")
    }
    nodes: dict[int, CascadeNode] = {}
    roots: list[CascadeNode] = []
    for unit in org_unit_tree(organization=organization):  # parents come before their children
        node = nodes[unit.pk] = CascadeNode(unit, scores.get(unit.pk))
        parent = nodes.get(unit.parent_id)
        (parent.children if parent is not None else roots).append(node)
    return roots


@dataclass
class Contribution:
    kpi: Kpi
    actual: Decimal | None


def rollup_contributions(*, kpi: Kpi, until: date) -> tuple[date | None, list[Contribution]]:
    """For a roll-up KPI: its latest period with a value up to `until` (at its frequency) and the active
    child-unit KPIs aligned to it with their stored actuals for that period (two queries)."""
    org_id = kpi.organization_id
    kind = {"monthly": PeriodKind.MONTH, "quarterly": PeriodKind.QUARTER, "annual": PeriodKind.YEAR}[kpi.frequency]
    period = (
        KpiScore.objects.for_organization(org_id)
        .filter(kpi=kpi, period_kind=kind, period__lte=until, actual__isnull=False)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    children = list(
        Kpi.objects.for_organization(org_id)
        .filter(aligned_to=kpi, archived_at__isnull=True)
        .select_related("unit")
        .annotate(
            window_actual=FilteredRelation("scores", condition=Q(scores__period_kind=kind, scores__period=period))
        )
        .annotate(stored_actual=F("window_actual__actual"))
        .order_by("unit__name", "code")
    )
    return period, [Contribution(child, child.stored_actual if period else None) for child in children]


# --- Scores being recomputed ------------------------------------------------------------------------------


def scores_recomputing(*, organization: Organization, unit: OrgUnit | None = None) -> bool:
    """Whether the recompute outbox holds requests that change the unit's stored scores: for its own KPIs
    or map, or its descendants' (they roll up into it), or a rebuild of the whole organization; without a
    unit, anywhere in the organization. One EXISTS."""
    pending = PendingRecompute.objects.for_organization(organization)
    if unit is not None:
        pending = pending.filter(
            Q(kpi__unit__path__startswith=unit.path)
            | Q(unit__path__startswith=unit.path)
            | Q(kpi__isnull=True, unit__isnull=True)
        )
    return pending.exists()


def units_recomputing(*, organization: Organization) -> set[int]:
    """The units whose stored scores wait for a recompute: those with requested KPIs or maps and their
    ancestors (from the materialized paths, in one query); every unit while the organization is rebuilt."""
    requests = PendingRecompute.objects.for_organization(organization).order_by()
    paths = set(requests.values_list(Coalesce("kpi__unit__path", "unit__path"), flat=True).distinct())
    if None in paths:  # a rebuild of the whole organization
        return set(OrgUnit.objects.for_organization(organization).values_list("id", flat=True))
    return {int(part) for path in paths for part in path.strip("/").split("/") if part}
