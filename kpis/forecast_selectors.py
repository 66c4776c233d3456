"""Forecasts of many KPIs at once (kpis/forecast.py), from the stored KPI scores of each KPI's own period kind (a
monthly KPI's month rows, a quarterly KPI's quarter rows, an annual KPI's year rows): one query for the values of
every KPI asked, whatever their number and frequencies, for the KPI page, the API and the dashboard ("likely to
miss")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db.models import Q

from bsc import org_calendar
from bsc.models import Organization, OrgUnit
from kpis.forecast import WILL_MISS, Forecast, first_period_used, kpi_forecast, rules_of
from kpis.models import Kpi, KpiScore
from kpis.selectors import kpi_list


def kpi_forecasts(
    *, organization: Organization, kpis: Iterable[Kpi], fiscal_year: int | None = None
) -> dict[int, Forecast]:
    """Each KPI's forecast for the fiscal year (the current one by default), by KPI id. One query."""
    kpis = list(kpis)
    fiscal_start = organization.fiscal_year_start_month
    if fiscal_year is None:
        fiscal_year = org_calendar.current_fiscal_year(organization)
    year_end = org_calendar.fiscal_year_end(fiscal_year, fiscal_start)
    # Each frequency's KPIs, from the oldest period their line can use to the year end, in their own kind of rows.
    by_frequency: dict[str, list[int]] = defaultdict(list)
    for kpi in kpis:
        by_frequency[kpi.frequency].append(kpi.pk)
    rows_wanted = Q()
    for frequency, ids in by_frequency.items():
        rows_wanted |= Q(
            kpi__in=ids,
            period_kind=org_calendar.FREQUENCY_KINDS[frequency],
            period__gte=first_period_used(frequency, fiscal_year, fiscal_start),
        )
    actuals: dict[int, dict[date, object]] = defaultdict(dict)
    targets: dict[int, dict[date, object]] = defaultdict(dict)
    if by_frequency:
        rows = (
            KpiScore.objects.for_organization(organization)
            .filter(rows_wanted, period__lte=year_end)
            .values_list("kpi_id", "period", "actual", "target")
        )
        for kpi_id, period, actual, target in rows:
            if actual is not None:
                actuals[kpi_id][period] = actual
            if target is not None:
                targets[kpi_id][period] = target
    return {
        kpi.pk: kpi_forecast(
            rules=rules_of(kpi, organization),
            actuals=actuals.get(kpi.pk, {}),
            targets=targets.get(kpi.pk, {}),
            fiscal_year=fiscal_year,
            fiscal_start=fiscal_start,
        )
        for kpi in kpis
    }


def kpis_likely_to_miss(
    *, organization: Organization, unit: OrgUnit | None = None, fiscal_year: int | None = None
) -> list[tuple[Kpi, Forecast]]:
    """The active KPIs of the unit and the units below it (all of the organization's without one) whose
    forecast says they will miss their year-end target, worst first. Two queries."""
    kpis = kpi_list(organization=organization)
    if unit is not None:
        kpis = kpis.filter(unit__path__startswith=unit.path)
    kpis = list(kpis.order_by("unit__path", "code"))
    forecasts = kpi_forecasts(organization=organization, kpis=kpis, fiscal_year=fiscal_year)
    missing = [(kpi, forecasts[kpi.pk]) for kpi in kpis if forecasts[kpi.pk].classification == WILL_MISS]
    return sorted(missing, key=lambda pair: pair[1].progress)
