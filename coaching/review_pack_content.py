"""What a review pack shows, read once and prepared for display (the PDF template and the spreadsheet only print
these): the unit's map coloured by the period's objective statuses, its scorecard, the heat map of its sub-units,
the red and amber KPIs of the unit and of the sub-units the heat map shows, each with its comment and its open
action items, the open action items of the unit and of those KPIs, the coach's last notes on the unit and the
accountability figures. A fixed number of queries whatever the number of KPIs or sub-units."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.safestring import SafeString

from bsc import map_svg, org_calendar
from bsc.models import Membership, Organization, OrgUnit, Scorecard
from bsc.selectors import strategy_map
from coaching.accountability_display import METRIC_LABELS, figure_cell
from coaching.models import (
    ActionItem,
    ActionItemStatus,
    CoachingSession,
    SessionKind,
    SessionKpiSnapshot,
    SessionStatus,
)
from coaching.rendering import markdown_html
from coaching.selectors import METRICS, accountability
from kpis.dashboard import Score, heat_map_to_depth
from kpis.models import KpiScore, Measurement
from kpis.scorecard_display import (
    KIND_NOUNS,
    KpiLine,
    Light,
    ScorecardDisplay,
    kpi_line,
    light,
    percent,
    scorecard_display,
    share_percent,
)
from kpis.selectors import KpiRow, scorecard_rows

# How far below the pack's unit the heat map goes: its sub-units and theirs (a pack for the top of a large
# organization stays a few pages; the page says how many units further down it leaves out).
HEAT_MAP_LEVELS = 2
ATTENTION = ("red", "amber")

Progress = Callable[[int, str], None]


@dataclass
class HeatCell:
    score: str
    light: Light
    coverage: str
    absent: bool = False  # the unit's scorecard has no perspective of that name


@dataclass
class HeatLine:
    name: str
    depth: int  # 1 for the pack unit's sub-units, 2 for theirs
    card: HeatCell
    cells: list[HeatCell]


@dataclass
class HeatMap:
    columns: list[str]
    lines: list[HeatLine]
    left_out: int = 0  # units further down than HEAT_MAP_LEVELS


@dataclass
class OpenItem:
    title: str
    owner: str
    due: date
    overdue: bool
    about: str  # the KPI or objective it serves
    kpi_id: int | None = None


@dataclass
class AttentionKpi:
    line: KpiLine
    unit: str
    objective: str
    owner: str
    comment: str
    comment_period: str  # the month of the comment, in a quarter or a year
    items: list[OpenItem] = field(default_factory=list)  # its open action items, by due date
    discussed: str = ""  # the last held coaching session that looked at it, up to the review ("" if none)


@dataclass
class LastSession:
    kind: str
    coach: str
    held_on: date
    notes: SafeString
    notes_text: str
    wins: str
    challenges: str


@dataclass
class AccountabilityLine:
    label: str
    depth: int
    cells: list  # coaching.accountability_display.FigureCell per metric


@dataclass
class PackContent:
    organization: str
    unit: str
    kind: str
    period: date
    period_label: str
    period_span: str
    generated_at: datetime
    requested_by: str
    scorecard: ScorecardDisplay
    map_svg: SafeString
    heat_map: HeatMap
    attention: list[AttentionKpi]
    action_items: list[OpenItem]
    last_session: LastSession | None
    accountability_months: str
    accountability_metrics: list[str]
    accountability: list[AccountabilityLine] = field(default_factory=list)


def _heat_cell(score: Score | None) -> HeatCell:
    if score is None:
        return HeatCell("—", light(None), "")
    coverage = share_percent(score.coverage) if score.score is not None else ""
    return HeatCell(percent(score.score), light(score.status), coverage)


def subunit_heat_map(*, organization: Organization, unit: OrgUnit, kind: str, period: date) -> HeatMap:
    """The units below `unit` (HEAT_MAP_LEVELS deep, in tree order) against the perspectives, each cell the stored
    perspective score for the period: the dashboard's heat map (kpis.dashboard, the same rows, columns and cells) at
    a fixed depth, since paper cannot unfold a row, prepared for print. Three queries."""
    heat = heat_map_to_depth(organization=organization, unit=unit, kind=kind, month=period, levels=HEAT_MAP_LEVELS)
    absent = HeatCell("", light(None), "", absent=True)  # the unit's scorecard has no perspective of that name
    lines = [
        HeatLine(
            row.unit.name,
            row.depth,
            _heat_cell(row.card),
            [absent if missing else _heat_cell(score) for score, missing in zip(row.cells, row.absent, strict=True)],
        )
        for row in heat.rows
        if row.depth  # the unit's own scores are the scorecard's section
    ]
    return HeatMap(heat.columns, lines, left_out=heat.left_out)


def _map_svg(*, scorecard: Scorecard, kind: str, period: date) -> str:
    """The unit's strategy map with each card coloured by its objective's stored status for the period, the
    status's shape in its corner and the legend along the bottom."""
    return map_svg.render(strategy_map(scorecard=scorecard, kind=kind, period=period), legend=True)


def _subunit_rows(*, organization: Organization, unit: OrgUnit, kind: str, period: date) -> list[KpiRow]:
    """The red and amber KPIs of the units below `unit` that the heat map shows (HEAT_MAP_LEVELS deep), with their
    stored scores for the period: one query."""
    scores = (
        KpiScore.objects.for_organization(organization)
        .filter(
            period_kind=kind,
            period=period,
            status__in=ATTENTION,
            kpi__archived_at__isnull=True,
            kpi__unit__path__startswith=unit.path,
            kpi__unit__depth__gt=unit.depth,
            kpi__unit__depth__lte=unit.depth + HEAT_MAP_LEVELS,
        )
        .select_related("kpi__owner", "kpi__objective", "kpi__unit")
    )
    return [KpiRow(kpi=score.kpi, score=score) for score in scores]


def _attention(
    *,
    organization: Organization,
    unit: OrgUnit,
    display: ScorecardDisplay,
    kind: str,
    period: date,
    months: tuple[date, ...],
    rows,
    until: datetime,
) -> tuple[list[AttentionKpi], list[OpenItem]]:
    """The red KPIs, then the amber ones (lowest score first): the unit's own (`display`, `rows`), then those of the
    sub-units the heat map shows, each with the latest comment of the period and its open action items; and the open
    items the pack lists (the unit's and those KPIs', one query)."""
    lines: list[tuple[KpiLine, str, str]] = []
    for perspective in display.perspectives:
        for objective in perspective.children:
            lines += [(line, unit.name, objective.name) for line in objective.kpis if line.light.status in ATTENTION]
    lines += [(line, unit.name, "") for line in display.unlinked if line.light.status in ATTENTION]
    below = _subunit_rows(organization=organization, unit=unit, kind=kind, period=period)
    noun = KIND_NOUNS[kind]
    for row in below:
        lines.append(
            (kpi_line(row, noun, kind), row.kpi.unit.name, row.kpi.objective.name if row.kpi.objective else "")
        )
    rows = [*rows, *below]
    ids = [line.pk for line, _, _ in lines]
    comments: dict[int, tuple[date, str]] = {}
    for kpi_id, month, comment in (
        Measurement.objects.for_organization(organization)
        .filter(kpi__in=ids, period__in=months)
        .exclude(comment="")
        .order_by("kpi_id", "period")
        .values_list("kpi_id", "period", "comment")
    ):
        comments[kpi_id] = (month, comment)  # the latest month's wins
    discussed = _last_discussed(organization, ids, until=until)
    # The open items the pack lists (the unit's, and those of these KPIs), read once; each KPI shows its own.
    open_items = _open_items(organization, Q(unit=unit) | Q(kpi__in=ids), today=org_calendar.today(organization))
    items: dict[int, list[OpenItem]] = {}
    for item in open_items:
        items.setdefault(item.kpi_id, []).append(item)
    owners = {row.kpi.pk: row.kpi.owner.display_name if row.kpi.owner else "" for row in rows}
    scores = {row.kpi.pk: row.score.score for row in rows if row.score is not None and row.score.score is not None}
    rank = {status: i for i, status in enumerate(ATTENTION)}
    lines.sort(key=lambda entry: (rank[entry[0].light.status], scores.get(entry[0].pk, 0), entry[0].code))
    result = []
    for line, unit_name, objective in lines:
        month, comment = comments.get(line.pk, (None, ""))
        result.append(
            AttentionKpi(
                line=line,
                unit=unit_name,
                objective=objective,
                owner=owners.get(line.pk, ""),
                comment=comment,
                comment_period=org_calendar.month_label(month) if month and len(months) > 1 else "",
                items=items.get(line.pk, []),
                discussed=discussed.get(line.pk, ""),
            )
        )
    return result, open_items


def _last_discussed(organization: Organization, kpi_ids: list[int], *, until: datetime) -> dict[int, str]:
    """For each KPI, the last held coaching session before `until` that looked at it (its values were captured when
    the session was held), in words: one query."""
    snapshots = (
        SessionKpiSnapshot.objects.for_organization(organization)
        .filter(kpi__in=kpi_ids, session__status=SessionStatus.HELD, session__held_at__lt=until)
        .order_by("kpi_id", "session__held_at", "session_id")
        .values_list(
            "kpi_id", "session__kind", "session__held_at", "session__coach__full_name", "session__coach__email"
        )
    )
    zone = org_calendar.zone(organization)
    found = {}
    for kpi_id, kind, held_at, coach_name, coach_email in snapshots:  # the latest session wins
        day = timezone.localtime(held_at, zone).date()
        found[kpi_id] = (
            f"{SessionKind(kind).label} of {day.day} {org_calendar.month_label(day)} with {coach_name or coach_email}"
        )
    return found


def _open_items(organization: Organization, which: Q, *, today: date) -> list[OpenItem]:
    """The open action items matching `which`, by due date."""
    items = (
        ActionItem.objects.for_organization(organization)
        .filter(which, status=ActionItemStatus.OPEN)
        .select_related("owner", "kpi", "objective")
        .order_by("due_date", "id")
    )
    return [
        OpenItem(
            title=item.title,
            owner=item.owner.display_name,
            due=item.due_date,
            overdue=item.is_overdue(today),
            about=(f"{item.kpi.code} {item.kpi.name}" if item.kpi else item.objective.name if item.objective else ""),
            kpi_id=item.kpi_id,
        )
        for item in items
    ]


def _last_session(*, organization: Organization, unit: OrgUnit, until: datetime) -> LastSession | None:
    """The unit's last held session before `until` (the end of the month after the period: the review of a
    month is held in the next one)."""
    session = (
        CoachingSession.objects.for_organization(organization)
        .filter(unit=unit, status=SessionStatus.HELD, held_at__lt=until)
        .select_related("coach")
        .order_by("-held_at", "-id")
        .first()
    )
    if session is None:
        return None
    return LastSession(
        kind=session.get_kind_display(),
        coach=session.coach.display_name,
        held_on=timezone.localtime(session.held_at, org_calendar.zone(organization)).date(),
        notes=markdown_html(session.notes),
        notes_text=session.notes,
        wins=session.wins,
        challenges=session.challenges,
    )


def _accountability(*, organization: Organization, unit: OrgUnit, membership: Membership):
    """The accountability figures of the unit and the units below it, as far as the requester may see them:
    the latest month with a figure of each metric, over the 12 months ending with the month now due."""
    result = accountability(organization=organization, membership=membership)
    months = result.months
    lines = [
        AccountabilityLine(
            row.subject.name,
            row.subject.depth - unit.depth,
            [figure_cell(metric, getattr(row.figures, metric), months) for metric in METRICS],
        )
        for row in result.units
        if row.subject.path.startswith(unit.path)
    ]
    span = f"{org_calendar.month_label(months[0])} to {org_calendar.month_label(months[-1])}"
    return span, lines


def review_pack_content(
    *,
    organization: Organization,
    unit: OrgUnit,
    kind: str,
    period: date,
    membership: Membership,
    progress: Progress = lambda percent, step: None,
) -> PackContent:
    """Everything the pack shows, step by step (`progress(percent, step)` after each)."""
    fiscal_start = organization.fiscal_year_start_month
    months = org_calendar.window_months(kind, period, fiscal_start)
    progress(10, "Reading the scorecard")
    view = scorecard_rows(organization=organization, unit=unit, kind=kind, month=period)
    display = scorecard_display(view, kind=kind)
    progress(20, "Drawing the strategy map")
    svg = _map_svg(scorecard=view.scorecard, kind=kind, period=period)
    progress(30, "Reading the sub-units' scores")
    heat_map = subunit_heat_map(organization=organization, unit=unit, kind=kind, period=period)
    progress(40, "Collecting the red and amber KPIs, action items and coaching notes")
    rows = [row for p in view.perspectives for o in p.objectives for row in o.kpis] + view.unlinked
    until = org_calendar.local_midnight(org_calendar.month_shift(months[-1], 2), organization)
    attention, items = _attention(
        organization=organization, unit=unit, display=display, kind=kind, period=period, months=months, rows=rows,
        until=until,
    )  # fmt: skip
    session = _last_session(organization=organization, unit=unit, until=until)
    progress(50, "Reading the accountability figures")
    span, lines = _accountability(organization=organization, unit=unit, membership=membership)
    return PackContent(
        organization=organization.name,
        unit=unit.name,
        kind=kind,
        period=period,
        period_label=org_calendar.period_label(kind, period, fiscal_start),
        period_span=org_calendar.period_span(kind, period),
        generated_at=timezone.localtime(org_calendar.now(), org_calendar.zone(organization)),
        requested_by=membership.user.display_name,
        scorecard=display,
        map_svg=SafeString(svg),  # built by ElementTree, which quotes every name (bsc/map_svg.py)
        heat_map=heat_map,
        attention=attention,
        action_items=items,
        last_session=session,
        accountability_months=span,
        accountability_metrics=[METRIC_LABELS[metric] for metric in METRICS],
        accountability=lines,
    )
