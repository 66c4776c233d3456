"""A KPI's forecast as the KPI page and the API show it: the classification and the method in words, and the dashed
line's points for static/js/kpi_chart.js (by period label, as the chart's axis has them)."""

from __future__ import annotations

from dataclasses import dataclass

from bsc import org_calendar
from bsc.models import Organization
from kpis.forecast import Forecast, ForecastText, forecast_text, rules_of
from kpis.forecast_selectors import kpi_forecasts
from kpis.models import Kpi
from kpis.scorecard_display import Light, light, number


@dataclass(frozen=True)
class ForecastDisplay:
    forecast: Forecast
    text: ForecastText
    chart: dict  # for json_script: the dashed line's labels and values, and the classification
    light: Light  # the projection's status light


def forecast_display(*, kpi: Kpi, organization: Organization, forecast: Forecast | None = None) -> ForecastDisplay:
    """The forecast of one KPI for the current fiscal year (read unless given), in words and as chart points."""
    if forecast is None:
        forecast = kpi_forecasts(organization=organization, kpis=[kpi])[kpi.pk]
    fiscal_start = organization.fiscal_year_start_month
    text = forecast_text(
        forecast,
        fiscal_start=fiscal_start,
        rules=rules_of(kpi, organization),
        fmt=lambda value: number(value, kpi.decimals, kpi.measurement_unit),
    )
    kind = org_calendar.FREQUENCY_KINDS[kpi.frequency]
    chart = {
        "labels": [org_calendar.period_label(kind, period, fiscal_start) for period, _ in forecast.line],
        "values": [float(value) for _, value in forecast.line],
        "classification": forecast.classification,
        "status": forecast.status,
        "label": f"Forecast: {forecast.label.lower()}" if forecast.available else "",
    }
    return ForecastDisplay(forecast=forecast, text=text, chart=chart, light=light(forecast.status))
