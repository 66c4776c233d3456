"""What the KPI page shows, prepared in Python in one pass: the chart's series (actuals, targets, and the
green / amber / red zones around the target, month by month), the table of values with recalibrations, and
the audit history with people's names. A fixed number of queries whatever the months of data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bsc import org_calendar
from bsc.models import Organization, User
from bsc.org_calendar import month_shift, period_label
from kpis.models import Direction, Kpi, Source, Target, TargetRecalibration
from kpis.scorecard_display import (
    ContributionLine,
    Light,
    contribution_lines,
    light,
    number,
    percent,
    threshold_percent,
)
from kpis.selectors import kpi_history, measurement_audit, rollup_contributions

MONTHS = 24
STEPS = org_calendar.FREQUENCY_STEPS
KINDS = org_calendar.FREQUENCY_KINDS
AUDIT_LABELS = {"insert": "Entered", "update": "Changed", "delete": "Deleted"}


def default_until(organization: Organization) -> date:
    """The page shows the 24 months up to the end of the current fiscal year: its plan is visible ahead."""
    return org_calendar.fiscal_year_end(
        org_calendar.current_fiscal_year(organization), organization.fiscal_year_start_month
    )


def thresholds(kpi: Kpi, organization: Organization) -> tuple[Decimal, Decimal]:
    return (
        kpi.green_threshold if kpi.green_threshold is not None else organization.green_threshold,
        kpi.amber_threshold if kpi.amber_threshold is not None else organization.amber_threshold,
    )


def is_kpi_period(kpi: Kpi, period: date, organization: Organization) -> bool:
    return org_calendar.is_period_start(period, STEPS[kpi.frequency], organization.fiscal_year_start_month)


# --- Zones --------------------------------------------------------------------------------------------


def zone_edges(kpi: Kpi, target: Decimal | None, green: Decimal, amber: Decimal) -> dict[str, list] | None:
    """For one period: the value ranges of the green, amber and red zones, as (low, high) pairs where None
    means unbounded. Increase / decrease: the lines baseline + threshold × (target − baseline); the side
    follows from baseline and target (from the direction when they are equal). Band: the band widened by
    (1 − threshold) × tolerance."""
    if kpi.direction == Direction.BAND:
        if kpi.band_low is None or kpi.band_high is None:
            return None
        d = kpi.band_tolerance or Decimal(0)
        lo, hi = kpi.band_low, kpi.band_high
        g_lo, g_hi = lo - d * (1 - green), hi + d * (1 - green)
        a_lo, a_hi = lo - d * (1 - amber), hi + d * (1 - amber)
        return {
            "green": [(g_lo, g_hi)],
            "amber": [(a_lo, g_lo), (g_hi, a_hi)],
            "red": [(None, a_lo), (a_hi, None)],
        }
    if target is None or kpi.baseline is None:
        return None
    b, t = kpi.baseline, target
    green_line, amber_line = b + green * (t - b), b + amber * (t - b)
    upward = t > b or (t == b and kpi.direction == Direction.INCREASE)
    if upward:
        return {"green": [(green_line, None)], "amber": [(amber_line, green_line)], "red": [(None, amber_line)]}
    return {"green": [(None, green_line)], "amber": [(green_line, amber_line)], "red": [(amber_line, None)]}


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def chart_data(kpi: Kpi, rows: list[dict], organization: Organization) -> dict:
    """Series for static/js/kpi_chart.js. Zones come as bands (a lower and an upper edge per period); open
    edges are closed at the y-axis limits computed here, so the colours fill the whole plot."""
    green, amber = thresholds(kpi, organization)
    edges = [zone_edges(kpi, row["target"], green, amber) for row in rows]
    known = [v for row in rows for v in (row["actual"], row["target"], row["original_target"]) if v is not None]
    for periods in edges:
        for pairs in (periods or {}).values():
            known.extend(v for pair in pairs for v in pair if v is not None)
    if kpi.baseline is not None and kpi.direction != Direction.BAND:
        known.append(kpi.baseline)
    low, high = (min(known), max(known)) if known else (Decimal(0), Decimal(1))
    pad = (high - low) * Decimal("0.12") or (abs(high) * Decimal("0.1")) or Decimal(1)
    y_min, y_max = low - pad, high + pad
    if low >= 0 and y_min < 0:
        y_min = Decimal(0)  # values that cannot be negative keep the axis at zero
    zones = []
    for status in ("red", "amber", "green"):
        count = max((len(e[status]) for e in edges if e), default=0)
        for i in range(count):
            lows, highs = [], []
            for e in edges:
                pair = e[status][i] if e else None
                lows.append(None if pair is None else _f(y_min if pair[0] is None else max(pair[0], y_min)))
                highs.append(None if pair is None else _f(y_max if pair[1] is None else min(pair[1], y_max)))
            zones.append({"status": status, "low": lows, "high": highs})
    return {
        "labels": [
            period_label(KINDS[kpi.frequency], row["period"], organization.fiscal_year_start_month) for row in rows
        ],
        "actual": [_f(row["actual"]) for row in rows],
        "target": [_f(row["target"]) for row in rows],
        "original": [_f(row["original_target"]) for row in rows],
        "statuses": [row["status"] for row in rows],
        "zones": zones,
        "yMin": _f(y_min),
        "yMax": _f(y_max),
        "decimals": kpi.decimals,
        "unit": kpi.measurement_unit,
        "green": _f(green * 100),
        "amber": _f(amber * 100),
    }


# --- Table, recalibrations, audit ------------------------------------------------------------------------


@dataclass
class ValueRow:
    period: date
    label: str
    actual: str
    target: str
    original_target: str  # shown struck through when the target was recalibrated
    recalibration: TargetRecalibration | None  # the latest one
    light: Light
    score: str
    comment: str
    entered_by: User | None
    entered_at: datetime | None
    target_obj: Target | None
    form: object = None  # the recalibration form, for editors
    form_open: bool = False  # a refused recalibration is shown open with its errors
    measurement_id: int | None = None  # the entered value's (evidence files are added to it)


@dataclass
class AuditEntry:
    at: datetime
    action: str
    who: str
    period: date
    value: str
    previous: str
    comment: str


@dataclass
class KpiPage:
    kpi: Kpi
    until: date
    rows: list[ValueRow]
    chart: dict
    recalibrations: list[TargetRecalibration]
    audit: list[AuditEntry]
    green: str
    amber: str
    facts: dict[str, str]
    earlier: date = field(default=None)
    later: date = field(default=None)
    drivers: list[ContributionLine] = field(default_factory=list)  # a roll-up's children, for its latest value
    drivers_label: str = ""


def _audit(kpi: Kpi) -> list[AuditEntry]:
    events = measurement_audit(kpi=kpi)
    ids = {e.pgh_context.metadata.get("user") for e in events if e.pgh_context is not None}
    ids |= {e.entered_by_id for e in events}
    ids.discard(None)
    names = {u.pk: u.display_name for u in User.objects.filter(pk__in=ids)} if ids else {}
    fmt = lambda v: number(v, kpi.decimals, kpi.measurement_unit)  # noqa: E731
    entries = []
    for i, event in enumerate(events):  # newest first: the previous value of a period is further down
        earlier = next((e for e in events[i + 1 :] if e.period == event.period), None)
        user_id = (event.pgh_context.metadata.get("user") if event.pgh_context else None) or event.entered_by_id
        entries.append(
            AuditEntry(
                at=event.pgh_created_at,
                action=AUDIT_LABELS.get(event.pgh_label, event.pgh_label),
                who=names.get(user_id, "someone no longer here" if user_id else "the system"),
                period=event.period,
                value=fmt(event.value),
                previous=fmt(earlier.value) if earlier is not None and event.pgh_label == "update" else "",
                comment=event.comment,
            )
        )
    return entries


def kpi_page(*, kpi: Kpi, organization: Organization, until: date | None = None) -> KpiPage:
    until = until or default_until(organization)
    history = [
        r for r in kpi_history(kpi=kpi, months=MONTHS, until=until) if is_kpi_period(kpi, r["period"], organization)
    ]
    recalibrations = list(
        TargetRecalibration.objects.for_organization(organization)
        .filter(target__kpi=kpi)
        .select_related("changed_by", "target")
        .order_by("-changed_at", "-pk")
    )
    latest: dict[date, TargetRecalibration] = {}
    for r in recalibrations:
        latest.setdefault(r.target.period, r)
    targets = {
        t.period: t
        for t in Target.objects.for_organization(organization).filter(
            kpi=kpi, period__in=[r["period"] for r in history]
        )
    }
    fmt = lambda v: number(v, kpi.decimals, kpi.measurement_unit)  # noqa: E731
    rows = []
    for r in reversed(history):  # newest first
        if r["target"] is None and r["actual"] is None:
            continue  # nothing to show (the chart still spans the month)
        recalibrated = r["original_target"] is not None and r["original_target"] != r["target"]
        rows.append(
            ValueRow(
                period=r["period"],
                label=period_label(KINDS[kpi.frequency], r["period"], organization.fiscal_year_start_month),
                actual=fmt(r["actual"]),
                target=fmt(r["target"]),
                original_target=fmt(r["original_target"]) if recalibrated else "",
                recalibration=latest.get(r["period"]) if recalibrated else None,
                light=light(r["status"]),
                score="" if r["score"] is None else percent(r["score"]),
                comment=r["comment"],
                entered_by=r["entered_by"],
                entered_at=r["entered_at"],
                target_obj=targets.get(r["period"]),
                measurement_id=r["measurement_id"],
            )
        )
    for r in recalibrations:
        r.old_text, r.new_text = fmt(r.old_value), fmt(r.new_value)
    green, amber = thresholds(kpi, organization)
    facts = {
        "baseline": fmt(kpi.baseline),
        "band_low": fmt(kpi.band_low),
        "band_high": fmt(kpi.band_high),
        "band_tolerance": fmt(kpi.band_tolerance) if kpi.band_tolerance else "",
        "weight": f"{kpi.weight.normalize():f}",
    }
    drivers, drivers_label = [], ""
    if kpi.source == Source.ROLLUP:
        period, contributions = rollup_contributions(kpi=kpi, until=until)
        drivers = contribution_lines(kpi, contributions)
        if period is not None:
            drivers_label = period_label(KINDS[kpi.frequency], period, organization.fiscal_year_start_month)
    return KpiPage(
        drivers=drivers,
        drivers_label=drivers_label,
        kpi=kpi,
        until=until,
        rows=rows,
        chart=chart_data(kpi, history, organization),
        recalibrations=recalibrations,
        audit=_audit(kpi),
        green=threshold_percent(green),
        amber=threshold_percent(amber),
        facts=facts,
        earlier=month_shift(until, -12),
        later=month_shift(until, 12),
    )
