"""Cascade consistency checks (issue 18): what in an organization's maps, KPIs and targets cannot add up or is
missing, one function per rule, each one set-based query whatever the number of units, and each item saying in
plain words what is wrong and where it is fixed.

Decisions (docs/checks.md says them for people):
- Targets of a roll-up: for each period from the start of the current fiscal year on in which the roll-up KPI
  and every one of its aligned (not archived) KPIs have a target, the children's targets combined by the
  roll-up's method (sum, average, or the weighted average by KPI weight, a plain average when every weight is
  0, as kpis/recompute.py combines values) must equal the roll-up's target within TOLERANCE of it (or half a
  unit of its last shown decimal, whichever is larger). Min and max roll-ups are not checked (any one child
  can set them). A period where some children have no target is left to the rule on missing targets.
- An objective "with no KPI" is one nothing scores: no KPI of its own and no sub-unit objective aligned to it
  (a company objective measured through its cascade is fine).
- Owners and values concern KPIs people enter (manual); roll-ups and formulas are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q
from django.urls import reverse

from bsc import org_calendar
from bsc.models import Objective, Organization, OrgUnit, Scorecard
from kpis.models import Kpi, Measurement, RollupMethod, Source, Target

TOLERANCE = Decimal("0.005")  # 0.5% of the roll-up's target
PERIODS_WITHOUT_VALUES = 3
NAMED_PERIODS = 3  # a mismatch names this many periods, then says how many more


@dataclass(frozen=True)
class CheckItem:
    message: str  # what is wrong, in plain words
    unit_id: int
    unit_name: str
    fix_url: str
    fix_label: str  # where the link goes: "Open the KPI", "Open the map" …
    kind: str  # "kpi", "objective" or "scorecard"
    object_id: int


@dataclass
class CheckRule:
    key: str
    title: str
    explanation: str
    items: list[CheckItem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)


RULES = {
    "rollup_targets": (
        "Targets that do not add up",
        "A roll-up KPI's target should be what its aligned KPIs' targets make under its method (sum, average or "
        "weighted average), within 0.5%.",
    ),
    "objectives_without_kpis": (
        "Objectives nothing measures",
        "An objective with no KPI and no sub-unit objective aligned to it has no score.",
    ),
    "kpis_without_owner": (
        "KPIs without an owner",
        "Nobody is reminded to enter their values.",
    ),
    "kpis_without_target": (
        "KPIs without a target this fiscal year",
        "Without a target a value cannot be scored.",
    ),
    "kpis_without_values": (
        "KPIs without values for their last three periods",
        "Values entered by hand stopped coming in (roll-up and formula KPIs are computed and not listed).",
    ),
    "alignments_skipping_a_level": (
        "Alignments that skip a level",
        "An objective should be aligned to an objective of its parent unit's map, not further up the tree.",
    ),
    "perspectives_weighted_zero": (
        "Maps whose perspectives all weigh 0",
        "With every perspective at weight 0 the scorecard has no score. Perspective weights are set under the map "
        "(Perspective weights) or through the API (PATCH /api/v1/o/<slug>/perspectives/<id>/).",
    ),
}


def consistency_checks(*, organization: Organization) -> list[CheckRule]:
    """Every rule, in the order of RULES, with its items (about eight queries, whatever the size of the tree)."""
    today = org_calendar.today(organization)
    finders = {
        "rollup_targets": lambda: rollup_target_mismatches(organization=organization, today=today),
        "objectives_without_kpis": lambda: objectives_without_kpis(organization=organization),
        "kpis_without_owner": lambda: kpis_without_owner(organization=organization),
        "kpis_without_target": lambda: kpis_without_target(organization=organization, today=today),
        "kpis_without_values": lambda: kpis_without_values(organization=organization),
        "alignments_skipping_a_level": lambda: alignments_skipping_a_level(organization=organization),
        "perspectives_weighted_zero": lambda: perspectives_weighted_zero(organization=organization),
    }
    return [CheckRule(key, *RULES[key], items=finders[key]()) for key in RULES]


# --- Links to where each item is fixed ---------------------------------------------------------------------


def _kpi_url(organization: Organization, kpi_id: int, route: str = "kpi_detail") -> str:
    return reverse(route, kwargs={"org_slug": organization.slug, "pk": kpi_id})


def _map_url(organization: Organization, unit_id: int) -> str:
    return reverse("strategy_map", kwargs={"org_slug": organization.slug, "unit_id": unit_id})


def _kpis(organization: Organization):
    return Kpi.objects.for_organization(organization).filter(archived_at__isnull=True).order_by("unit__path", "code")


def _kpi_item(
    organization: Organization, kpi, message: str, *, route: str = "kpi_detail", label: str, url: str = ""
) -> CheckItem:
    return CheckItem(
        message=message, unit_id=kpi.unit_id, unit_name=kpi.unit_name,
        fix_url=url or _kpi_url(organization, kpi.pk, route), fix_label=label, kind="kpi", object_id=kpi.pk,
    )  # fmt: skip


def _data_entry_url(organization: Organization, kpi, period: date) -> str:
    """The data-entry page of the KPI's unit for the month `period` (a period's start) is due in (its last month),
    at the KPI's value."""
    due_in = org_calendar.period_last_month(period, org_calendar.FREQUENCY_STEPS[kpi.frequency])
    query = urlencode({"period": f"{due_in:%Y-%m}", "unit": kpi.unit_id})
    return f"{reverse('data_entry', kwargs={'org_slug': organization.slug})}?{query}#value-{kpi.pk}"


def _map_item(organization: Organization, row, message: str, *, kind: str, anchor: str = "") -> CheckItem:
    """An item about an objective or a scorecard (`row` annotated with its unit_id and unit_name), fixed on the map
    (at `anchor`, a part of the map page, when given)."""
    return CheckItem(
        message=message, unit_id=row.unit_id, unit_name=row.unit_name,
        fix_url=_map_url(organization, row.unit_id) + (f"#{anchor}" if anchor else ""),
        fix_label="Open the map", kind=kind, object_id=row.pk,
    )  # fmt: skip


# --- The rules ---------------------------------------------------------------------------------------------


def combine(method: str, targets: list[tuple[Decimal, Decimal]]) -> Decimal:
    """The children's (target, weight) pairs combined as the roll-up combines values (kpis/recompute.py)."""
    values = [value for value, _ in targets]
    if method == RollupMethod.SUM:
        return sum(values, Decimal(0))
    total_weight = sum((weight for _, weight in targets), Decimal(0))
    if method == RollupMethod.WEIGHTED_AVERAGE and total_weight > 0:
        return sum((value * weight for value, weight in targets), Decimal(0)) / total_weight
    return sum(values, Decimal(0)) / len(values)


def adds_up(expected: Decimal, target: Decimal, decimals: int) -> bool:
    """Whether a roll-up's target matches what its children's targets make: within TOLERANCE of the target, or
    half a unit of the last decimal the KPI shows, whichever is larger."""
    allowed = max(abs(target) * TOLERANCE, Decimal(1).scaleb(-decimals) / 2)
    return abs(expected - target) <= allowed


_ROLLUP_TARGETS_SQL = f"""
SELECT p.id, p.code, p.name, p.unit_id, u.name, p.rollup_method, p.decimals, pt.period, pt.value,
    count(c.id) AS children, count(ct.id) AS with_target,
    array_agg(ct.value ORDER BY c.id) FILTER (WHERE ct.id IS NOT NULL),
    array_agg(c.weight ORDER BY c.id) FILTER (WHERE ct.id IS NOT NULL)
FROM {Kpi._meta.db_table} p
JOIN {OrgUnit._meta.db_table} u ON u.id = p.unit_id
JOIN {Target._meta.db_table} pt ON pt.kpi_id = p.id AND pt.period >= %(since)s
JOIN {Kpi._meta.db_table} c ON c.aligned_to_id = p.id AND c.archived_at IS NULL
LEFT JOIN {Target._meta.db_table} ct ON ct.kpi_id = c.id AND ct.period = pt.period
WHERE p.organization_id = %(organization)s AND p.source = 'rollup' AND p.archived_at IS NULL
    AND p.rollup_method IN ('sum', 'average', 'weighted_average')
GROUP BY p.id, u.name, u.path, pt.period, pt.value
ORDER BY u.path, p.code, pt.period
"""

METHOD_WORDS = {"sum": "add up to", "average": "average", "weighted_average": "make, as a weighted average,"}


def rollup_target_mismatches(*, organization: Organization, today: date) -> list[CheckItem]:
    """Roll-up KPIs whose target, in some period of the current fiscal year or later, is not what their aligned
    KPIs' targets make under the roll-up's method. One item per roll-up KPI, naming the first periods."""
    fiscal_start = organization.fiscal_year_start_month
    since = org_calendar.fiscal_year_months(org_calendar.current_fiscal_year(organization), fiscal_start)[0]
    with connection.cursor() as cursor:
        cursor.execute(_ROLLUP_TARGETS_SQL, {"since": since, "organization": organization.pk})
        rows = cursor.fetchall()
    wrong: dict[int, list] = {}
    for kpi_id, code, name, unit_id, unit_name, method, decimals, period, target, children, with_target, *pairs in rows:
        if with_target < children:
            continue  # some child has no target for this period: the missing-target rule names it
        expected = combine(method, list(zip(*pairs, strict=True)))
        if not adds_up(expected, target, decimals):
            wrong.setdefault(kpi_id, []).append(
                (code, name, unit_id, unit_name, method, decimals, period, target, expected)
            )
    items = []
    for kpi_id, periods in wrong.items():
        code, name, unit_id, unit_name, method, decimals, period, target, expected = periods[0]
        named = ", ".join(org_calendar.month_label(p[6]) for p in periods[:NAMED_PERIODS])
        more = f" and {len(periods) - NAMED_PERIODS} more" if len(periods) > NAMED_PERIODS else ""
        message = (
            f"{code} · {name}: its aligned KPIs' targets {METHOD_WORDS[method]} {_number(expected, decimals)}, not "
            f"its target of {_number(target, decimals)} ({org_calendar.month_label(period)}); "
            f"{len(periods)} period{'s' if len(periods) != 1 else ''} do{'es' if len(periods) == 1 else ''} not match: "
            f"{named}{more}."
        )
        items.append(
            CheckItem(
                message=message,
                unit_id=unit_id,
                unit_name=unit_name,
                fix_url=_kpi_url(organization, kpi_id),
                fix_label="Open the KPI's targets",
                kind="kpi",
                object_id=kpi_id,
            )  # fmt: skip
        )
    return items


def _number(value: Decimal, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def objectives_without_kpis(*, organization: Organization) -> list[CheckItem]:
    """Objectives with no KPI (not archived) and no sub-unit objective aligned to them."""
    kpis = Kpi.objects.for_organization(organization).filter(objective=OuterRef("pk"), archived_at__isnull=True)
    aligned = Objective.objects.for_organization(organization).filter(aligned_to=OuterRef("pk"))
    objectives = (
        Objective.objects.for_organization(organization)
        .filter(~Exists(kpis), ~Exists(aligned))
        .annotate(unit_id=F("scorecard__unit_id"), unit_name=F("scorecard__unit__name"))
        .order_by("scorecard__unit__path", "perspective__order", "name")
        .only("id", "name")
    )
    return [
        _map_item(
            organization,
            objective,
            f"“{objective.name}” has no KPI and no sub-unit objective aligned to it: nothing scores it.",
            kind="objective",
        )
        for objective in objectives
    ]


def kpis_without_owner(*, organization: Organization) -> list[CheckItem]:
    kpis = _kpis(organization).filter(source=Source.MANUAL, owner__isnull=True).annotate(unit_name=F("unit__name"))
    return [
        _kpi_item(
            organization,
            kpi,
            f"{kpi.code} · {kpi.name} has no owner: nobody is reminded to enter its values.",
            route="kpi_edit",
            label="Edit the KPI",
        )  # fmt: skip
        for kpi in kpis.only("id", "code", "name", "unit_id")
    ]


def kpis_without_target(*, organization: Organization, today: date) -> list[CheckItem]:
    fiscal_start = organization.fiscal_year_start_month
    fiscal_year = org_calendar.current_fiscal_year(organization)
    months = org_calendar.fiscal_year_months(fiscal_year, fiscal_start)
    label = org_calendar.period_label(org_calendar.YEAR, months[0], fiscal_start)
    targets = Target.objects.for_organization(organization).filter(
        kpi=OuterRef("pk"), period__gte=months[0], period__lte=months[-1]
    )
    kpis = _kpis(organization).filter(~Exists(targets)).annotate(unit_name=F("unit__name"))
    return [
        _kpi_item(organization, kpi, f"{kpi.code} · {kpi.name} has no target for {label}.", label="Set its targets")
        for kpi in kpis.only("id", "code", "name", "unit_id")
    ]


def last_due_periods(organization: Organization, step: int, count: int = PERIODS_WITHOUT_VALUES) -> list[date]:
    """The starts of the last `count` periods of `step` months (1, 3, 12) that are over and due for data entry."""
    fiscal_start = organization.fiscal_year_start_month
    month, periods = org_calendar.due_month(organization), []
    while len(periods) < count:
        start = org_calendar.period_ending_in(month, step, fiscal_start)
        if start is not None:
            periods.append(start)
        month = org_calendar.month_shift(month, -1)
    return periods


def kpis_without_values(*, organization: Organization) -> list[CheckItem]:
    """Manual KPIs with no value in any of their last three periods due (by their frequency)."""
    due = {frequency: last_due_periods(organization, step) for frequency, step in org_calendar.FREQUENCY_STEPS.items()}
    recent = Q()
    for frequency, periods in due.items():
        recent |= Q(kpi__frequency=frequency, period__in=periods)
    values = Measurement.objects.for_organization(organization).filter(recent, kpi=OuterRef("pk"))
    kpis = _kpis(organization).filter(~Exists(values), source=Source.MANUAL).annotate(unit_name=F("unit__name"))
    fiscal_start = organization.fiscal_year_start_month
    items = []
    for kpi in kpis.only("id", "code", "name", "unit_id", "frequency"):
        periods = due[kpi.frequency]
        kind = org_calendar.FREQUENCY_KINDS[kpi.frequency]
        span = f"{org_calendar.period_label(kind, periods[-1], fiscal_start)} to " + org_calendar.period_label(
            kind, periods[0], fiscal_start
        )
        message = f"{kpi.code} · {kpi.name} has no value for its last three periods ({span})."
        url = _data_entry_url(organization, kpi, periods[0])  # fixed where values are entered
        items.append(_kpi_item(organization, kpi, message, label="Enter its value", url=url))
    return items


def alignments_skipping_a_level(*, organization: Organization) -> list[CheckItem]:
    """Objectives aligned to an objective that is not on their parent unit's map (further up, or elsewhere)."""
    objectives = (
        Objective.objects.for_organization(organization)
        .filter(aligned_to__isnull=False)
        .exclude(aligned_to__scorecard__unit_id=F("scorecard__unit__parent_id"))
        .annotate(
            unit_id=F("scorecard__unit_id"),
            unit_name=F("scorecard__unit__name"),
            parent_name=F("scorecard__unit__parent__name"),
            aligned_name=F("aligned_to__name"),
            aligned_unit=F("aligned_to__scorecard__unit__name"),
        )  # fmt: skip
        .order_by("scorecard__unit__path", "name")
        .only("id", "name")
    )
    items = []
    for objective in objectives:
        parent = f"the parent unit {objective.parent_name}" if objective.parent_name else "no parent unit"
        items.append(
            _map_item(
                organization,
                objective,
                (
                    f"“{objective.name}” is aligned to “{objective.aligned_name}” of {objective.aligned_unit}, "
                    f"skipping {parent}: align it to an objective of {objective.parent_name or 'its parent'}."
                ),
                kind="objective",
            )
        )
    return items


def perspectives_weighted_zero(*, organization: Organization) -> list[CheckItem]:
    scorecards = (
        Scorecard.objects.for_organization(organization)
        .annotate(
            bands=Count("perspectives"),
            weighted=Count("perspectives", filter=Q(perspectives__weight__gt=0)),
            unit_name=F("unit__name"),
        )  # fmt: skip
        .filter(bands__gt=0, weighted=0)
        .order_by("unit__path")
        .only("id", "unit_id")
    )
    return [
        _map_item(
            organization,
            scorecard,
            (
                f"Every perspective of {scorecard.unit_name}'s map weighs 0, so its scorecard has no score: "
                "give at least one perspective a weight."
            ),
            kind="scorecard",
            anchor="perspective-weights",
        )
        for scorecard in scorecards
    ]
