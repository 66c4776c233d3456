"""Reads of the executive dashboard (issue 16): for a unit and the units below it, in one period (month, fiscal
quarter or year), the stored scorecard and perspective scores (the heat map), the scorecard's 12-month trend,
the red objectives, the biggest movers since the previous period and the data-entry completeness. A fixed number
of queries whatever the number of units; the page composes them with coaching's figures (bsc/project/dashboard.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, FilteredRelation, Max, Min, OuterRef, Q, Subquery

from bsc import org_calendar
from bsc.models import Objective, Organization, OrgUnit, Perspective
from kpis import causes
from kpis.forecast import WILL_MISS, Forecast
from kpis.forecast_selectors import kpi_forecasts
from kpis.models import Kpi, KpiScore, Measurement, ObjectiveScore, PeriodKind, ScorecardScore, Source

RED_OBJECTIVES_SHOWN = 25  # the worst first; the page says how many more there are
RED_KPIS_SHOWN = 25  # the red KPIs without an open action item, worst first
MOVERS_SHOWN = 5  # up and down, units and KPIs each
TREND_MONTHS = 12
ROW_DEPTH = 1  # the heat map's rows on the page: the unit and its children; deeper rows load when unfolded


@dataclass
class Score:
    """A stored score as the dashboard reads it."""

    score: Decimal | None
    status: str
    coverage: Decimal


@dataclass
class HeatRow:
    unit: OrgUnit
    depth: int  # below the dashboard's unit (0 for itself)
    parent_id: int | None
    has_children: bool
    card: Score | None  # the scorecard's score; None: no stored score for the period
    cells: list[Score | None]  # one per column; None: no stored score (`absent` says whether it has the perspective)
    absent: list[bool]  # the unit's scorecard has no perspective of that name
    entered: int = 0  # values entered for the period
    due: int = 0  # values due for the period (active manually entered KPIs)


@dataclass
class Mover:
    name: str
    unit: OrgUnit
    before: Decimal
    after: Decimal
    kpi: Kpi | None = None

    @property
    def change(self) -> Decimal:
        return self.after - self.before


@dataclass
class Dashboard:
    unit: OrgUnit
    kind: str
    period: date  # the window's first month
    previous: date
    card: Score | None
    trend: list[tuple[date, Score | None]]  # monthly scorecard scores, oldest first
    columns: list[str]  # perspective names, in their usual order
    rows: list[HeatRow]
    red_objectives: list[tuple[Objective, Score]] = field(default_factory=list)  # worst first
    red_total: int = 0
    units_up: list[Mover] = field(default_factory=list)
    units_down: list[Mover] = field(default_factory=list)
    kpis_up: list[Mover] = field(default_factory=list)
    kpis_down: list[Mover] = field(default_factory=list)

    entered: int = 0  # values entered for the period in the whole subtree
    due: int = 0
    short_units: int = 0  # units with fewer values entered than due


def _score(score, status, coverage) -> Score:
    return Score(score, status or "grey", coverage if coverage is not None else Decimal(0))


def stored_span(*, organization: Organization, kind: str) -> tuple[date | None, date | None]:
    """The first and last period of this kind with a stored scorecard score in the organization. One query."""
    found = (
        ScorecardScore.objects.for_organization(organization)
        .filter(period_kind=kind)
        .aggregate(first=Min("period"), last=Max("period"))
    )
    return found["first"], found["last"]


def _tree(units: list[OrgUnit], top: OrgUnit) -> list[tuple[OrgUnit, int, bool]]:
    """The units depth-first from `top`, siblings by name: (unit, depth below top, has children)."""
    children: dict[int | None, list[OrgUnit]] = defaultdict(list)
    for unit in units:
        children[unit.parent_id].append(unit)
    ordered: list[tuple[OrgUnit, int, bool]] = []
    stack = [(top, 0)]
    while stack:
        unit, depth = stack.pop()
        kids = sorted(children.get(unit.pk, []), key=lambda u: u.name.lower())
        ordered.append((unit, depth, bool(kids)))
        stack.extend((kid, depth + 1) for kid in reversed(kids))
    return ordered


def _due_counts(*, organization: Organization, path: str, months: tuple[date, ...], due: date):
    """Per unit, how many values of its active, manually entered KPIs fall due in `months` (up to the month now
    due: later months are not due yet) and how many of them are entered. Two queries."""
    fiscal_start = organization.fiscal_year_start_month
    # The periods of each frequency ending in the window (a quarterly KPI's value is due when its quarter ends).
    periods = {
        frequency: [
            p
            for month in months
            if month <= due and (p := org_calendar.period_ending_in(month, step, fiscal_start)) is not None
        ]
        for frequency, step in org_calendar.FREQUENCY_STEPS.items()
    }
    kpis = Kpi.objects.for_organization(organization).filter(
        unit__path__startswith=path, archived_at__isnull=True, source=Source.MANUAL
    )
    due_by_unit: dict[int, int] = defaultdict(int)
    for unit_id, frequency, count in kpis.values_list("unit_id", "frequency").annotate(n=Count("id")).order_by():
        due_by_unit[unit_id] += count * len(periods.get(frequency, []))
    condition = Q(pk__in=[])
    for frequency, starts in periods.items():
        if starts:
            condition |= Q(kpi__frequency=frequency, period__in=starts)
    entered = dict(
        Measurement.objects.for_organization(organization)
        .filter(condition, kpi__unit__path__startswith=path, kpi__archived_at__isnull=True, kpi__source=Source.MANUAL)
        .values_list("kpi__unit_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return due_by_unit, entered


def _kpi_movers(*, organization: Organization, path: str, kind: str, period: date, previous: date):
    """The KPIs of the units whose score changed most since the previous period, up and down. Two queries."""
    before = KpiScore.objects.for_organization(organization).filter(
        kpi=OuterRef("kpi"), period_kind=kind, period=previous, score__isnull=False
    )
    changed = (
        KpiScore.objects.for_organization(organization)
        .filter(
            kpi__unit__path__startswith=path,
            kpi__archived_at__isnull=True,
            period_kind=kind,
            period=period,
            score__isnull=False,
        )
        .annotate(before=Subquery(before.values("score")[:1]))
        .filter(before__isnull=False)
        .annotate(change=F("score") - F("before"))
        .select_related("kpi", "kpi__unit")
    )

    def movers(rows) -> list[Mover]:
        return [Mover(f"{s.kpi.code} {s.kpi.name}", s.kpi.unit, s.before, s.score, s.kpi) for s in rows]

    up = movers(changed.filter(change__gt=0).order_by("-change", "kpi__code")[:MOVERS_SHOWN])
    down = movers(changed.filter(change__lt=0).order_by("change", "kpi__code")[:MOVERS_SHOWN])
    return up, down


@dataclass
class _Heat:
    """What the heat map's rows are made of, for every unit of a subtree."""

    period: date
    previous: date
    ordered: list[tuple[OrgUnit, int, bool]]
    cards: dict[tuple[int, date], Score]
    columns: list[str]
    cells: dict[tuple[int, str], Score | None]
    due_by_unit: dict[int, int] = field(default_factory=dict)
    entered: dict[int, int] = field(default_factory=dict)

    def row(self, member: OrgUnit, depth: int, has_children: bool) -> HeatRow:
        return HeatRow(
            unit=member,
            depth=depth,
            parent_id=member.parent_id if depth else None,
            has_children=has_children,
            card=self.cards.get((member.pk, self.period)),
            cells=[self.cells.get((member.pk, name)) for name in self.columns],
            absent=[(member.pk, name) not in self.cells for name in self.columns],
            entered=self.entered.get(member.pk, 0),
            due=self.due_by_unit.get(member.pk, 0),
        )


def _heat(
    *, organization: Organization, unit: OrgUnit, kind: str, month: date, levels: int | None = None, counts: bool = True
) -> _Heat:
    """The units of the subtree in tree order with their scorecard scores (of the period and the one before), their
    perspective scores by name and their data-entry counts. With `levels`, only the units down to that many levels
    below `unit` have their scores read, and the columns are the perspectives those units use (a page that cannot
    unfold); without `counts`, the data-entry counts are left out. Five queries; three without counts."""
    fiscal_start = organization.fiscal_year_start_month
    period = org_calendar.window_start(kind, month, fiscal_start)
    previous = org_calendar.month_shift(period, -org_calendar.KIND_STEPS[kind])
    path = unit.path
    scored = Q() if levels is None else Q(scorecard__unit__depth__lte=unit.depth + levels)

    # By path, so that siblings of the same name keep one order wherever the tree is walked.
    units = list(
        OrgUnit.objects.for_organization(organization)
        .filter(path__startswith=path)
        .select_related("head")
        .order_by("path")
    )
    ordered = _tree(units, unit)

    cards: dict[tuple[int, date], Score] = {}
    for unit_id, when, score, status, coverage in (
        ScorecardScore.objects.for_organization(organization)
        .filter(scored, scorecard__unit__path__startswith=path, period_kind=kind, period__in=[period, previous])
        .values_list("scorecard__unit_id", "period", "score", "status", "coverage")
    ):
        cards[unit_id, when] = _score(score, status, coverage)

    # Perspectives by name, each with its score for the period, in each scorecard's order.
    perspectives = (
        Perspective.objects.for_organization(organization)
        .filter(scored, scorecard__unit__path__startswith=path)
        .annotate(stored=FilteredRelation("scores", condition=Q(scores__period_kind=kind, scores__period=period)))
        .order_by("order", "id")
        .values_list("scorecard__unit_id", "name", "order", "stored__score", "stored__status", "stored__coverage")
    )
    places: dict[str, list[int]] = defaultdict(list)
    cells: dict[tuple[int, str], Score | None] = {}
    own: dict[str, int] = {}  # the unit's own perspectives: their place on its scorecard (order, then creation)
    for unit_id, name, order, score, status, coverage in perspectives:
        places[name].append(order)
        if unit_id == unit.pk:
            own[name] = len(own)
        cells[unit_id, name] = None if status is None else _score(score, status, coverage)
    # The unit's own perspectives in its order, then the others' by their usual place and how many use them.
    columns = sorted(
        places,
        key=lambda name: (name not in own, own.get(name, 0), min(places[name]), -len(places[name]), name.lower()),
    )
    heat = _Heat(period, previous, ordered, cards, columns, cells)
    if counts:
        heat.due_by_unit, heat.entered = _due_counts(
            organization=organization,
            path=path,
            months=org_calendar.window_months(kind, period, fiscal_start),
            due=org_calendar.due_month(organization),
        )
    return heat


def heat_rows(*, organization: Organization, unit: OrgUnit, parent: OrgUnit, kind: str, month: date):
    """The heat-map rows of `parent`'s children on the dashboard of `unit` (same columns, depth below `unit`): what
    unfolding a row loads. Five queries, whatever the number of units. (columns, rows)."""
    heat = _heat(organization=organization, unit=unit, kind=kind, month=month)
    return heat.columns, [heat.row(*entry) for entry in heat.ordered if entry[0].parent_id == parent.pk]


def heat_map(*, organization: Organization, unit: OrgUnit, kind: str, month: date):
    """Every heat-map row of `unit`'s subtree (depth first, siblings by name), not only the page's first levels:
    what the API pages through. Five queries, whatever the number of units. (period, columns, rows)."""
    heat = _heat(organization=organization, unit=unit, kind=kind, month=month)
    return heat.period, heat.columns, [heat.row(*entry) for entry in heat.ordered]


@dataclass
class HeatMapRows:
    period: date
    columns: list[str]
    rows: list[HeatRow]  # the unit (depth 0) and the units down to `levels` below it, depth first, siblings by name
    left_out: int  # units of the subtree further down


def heat_map_to_depth(*, organization: Organization, unit: OrgUnit, kind: str, month: date, levels: int) -> HeatMapRows:
    """The heat map of `unit` down to `levels` below it, for a page that cannot unfold (the review pack): the rows,
    cells and column order of the dashboard's heat map, the columns being the perspectives of the units shown, and
    how many units further down are left out. No data-entry counts. Three queries, whatever the number of units."""
    heat = _heat(organization=organization, unit=unit, kind=kind, month=month, levels=levels, counts=False)
    rows = [heat.row(*entry) for entry in heat.ordered if entry[1] <= levels]
    return HeatMapRows(heat.period, heat.columns, rows, left_out=len(heat.ordered) - len(rows))


def dashboard(*, organization: Organization, unit: OrgUnit, kind: str, month: date) -> Dashboard:
    """The dashboard of `unit` (its own scorecard and the units below it) for the window of `kind` containing
    `month`: the heat map's rows down to ROW_DEPTH levels below the unit (deeper ones load when unfolded), every
    other figure over the whole subtree. Sixteen queries, whatever the number of units, objectives or KPIs."""
    heat = _heat(organization=organization, unit=unit, kind=kind, month=month)
    period, previous, ordered, cards = heat.period, heat.previous, heat.ordered, heat.cards
    fiscal_start = organization.fiscal_year_start_month
    path = unit.path
    rows = [heat.row(*entry) for entry in ordered if entry[1] <= ROW_DEPTH]
    counted = [(heat.entered.get(u.pk, 0), heat.due_by_unit.get(u.pk, 0)) for u, _depth, _kids in ordered]

    # The scorecard's trend: the 12 months ending with the period's last month (or the month now due, if earlier).
    last = min(org_calendar.window_months(kind, period, fiscal_start)[-1], org_calendar.due_month(organization))
    last = max(last, period)
    months = [org_calendar.month_shift(last, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    monthly = {
        when: _score(score, status, coverage)
        for when, score, status, coverage in ScorecardScore.objects.for_organization(organization)
        .filter(scorecard__unit=unit, period_kind=PeriodKind.MONTH, period__in=months)
        .values_list("period", "score", "status", "coverage")
    }

    red = ObjectiveScore.objects.for_organization(organization).filter(
        objective__scorecard__unit__path__startswith=path, period_kind=kind, period=period, status="red"
    )
    red_objectives = [
        (s.objective, _score(s.score, s.status, s.coverage))
        for s in red.select_related(
            "objective__owner", "objective__scorecard__unit", "objective__perspective"
        ).order_by("score", "objective__scorecard__unit__path", "objective__name")[:RED_OBJECTIVES_SHOWN]
    ]
    red_total = red.count()

    moved = []
    for member, _depth, _kids in ordered:
        now, then = cards.get((member.pk, period)), cards.get((member.pk, previous))
        if now and then and now.score is not None and then.score is not None and now.score != then.score:
            moved.append(Mover(member.name, member, then.score, now.score))
    kpis_up, kpis_down = _kpi_movers(organization=organization, path=path, kind=kind, period=period, previous=previous)
    return Dashboard(
        unit=unit,
        kind=kind,
        period=period,
        previous=previous,
        card=cards.get((unit.pk, period)),
        trend=[(m, monthly.get(m)) for m in months],
        columns=heat.columns,
        rows=rows,
        entered=sum(entered for entered, _due in counted),
        due=sum(due for _entered, due in counted),
        short_units=sum(1 for entered, due in counted if due and entered < due),
        red_objectives=red_objectives,
        red_total=red_total,
        units_up=sorted((m for m in moved if m.change > 0), key=lambda m: -m.change)[:MOVERS_SHOWN],
        units_down=sorted((m for m in moved if m.change < 0), key=lambda m: m.change)[:MOVERS_SHOWN],
        kpis_up=kpis_up,
        kpis_down=kpis_down,
    )


@dataclass
class RedKpi:
    """A red KPI without an open action item (issue 17): its stored score, and the cause entered with its value."""

    kpi: Kpi
    score: Decimal | None
    cause: str
    has_action: bool = False  # an open action item serves it


def red_without_action(
    *,
    organization: Organization,
    unit: OrgUnit,
    kind: str,
    period: date,
    limit: int = RED_KPIS_SHOWN,
    with_actioned: bool = False,
) -> tuple[list[RedKpi], int]:
    """The active KPIs of the unit and the units below it that score red in the period (a window of `kind` starting
    with `period`) and have no open action item, worst first, at most `limit`; with how many there are. With
    `with_actioned`, those with an open item follow them (a session's agenda discusses every red). Four queries (the
    open items are coaching's: kpis.causes asks); only the KPIs listed are loaded as rows, not every red one."""
    reds = list(
        KpiScore.objects.for_organization(organization)
        .filter(
            kpi__unit__path__startswith=unit.path, kpi__archived_at__isnull=True, period_kind=kind, period=period,
            status="red",
        )
        .order_by("score", "kpi__unit__path", "kpi__code")
        .values_list("kpi_id", "score")
    )  # fmt: skip
    covered = causes.kpis_with_open_action(organization=organization, kpi_ids=[kpi_id for kpi_id, _ in reds])
    left = [red for red in reds if red[0] not in covered]
    listed = left + ([red for red in reds if red[0] in covered] if with_actioned else [])
    shown = listed[:limit]
    kpis = Kpi.objects.for_organization(organization).select_related("unit").in_bulk([kpi_id for kpi_id, _ in shown])
    comments = dict(
        Measurement.objects.for_organization(organization)
        .filter(kpi_id__in=[kpi_id for kpi_id, _ in shown], period=period)
        .values_list("kpi_id", "comment")
    )
    return [RedKpi(kpis[kpi_id], score, comments.get(kpi_id, ""), kpi_id in covered) for kpi_id, score in shown], len(
        left
    )


def likely_to_miss(*, organization: Organization, unit: OrgUnit) -> list[tuple[Kpi, Forecast]]:
    """The active KPIs of the unit and the units below it whose forecast for the current fiscal year says they will
    miss the year-end target, worst first (as kpis_likely_to_miss, reading only the KPI rows and their units: the
    dashboard of a large organization asks it for thousands of KPIs). Two queries."""
    kpis = list(
        Kpi.objects.for_organization(organization)
        .filter(unit__path__startswith=unit.path, archived_at__isnull=True)
        .select_related("unit")
        .order_by("unit__path", "code")
    )
    forecasts = kpi_forecasts(organization=organization, kpis=kpis)
    missing = [(kpi, forecasts[kpi.pk]) for kpi in kpis if forecasts[kpi.pk].classification == WILL_MISS]
    return sorted(missing, key=lambda pair: pair[1].progress)
