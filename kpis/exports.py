"""Export of a scorecard's data (one row per KPI and month) as CSV or XLSX; the CSV imports back unchanged."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from django.db.models import F

from bsc.models import Organization, OrgUnit
from bsc.org_calendar import month_shift
from kpis.models import KpiScore, Measurement, PeriodKind, Source, Target
from kpis.selectors import kpi_list

HEADER = ["unit", "objective", "kpi code", "kpi name", "period", "actual", "target", "score", "status", "comment"]
MONTHS = 24


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def scorecard_export_rows(
    *, organization: Organization, unit: OrgUnit, until: date, months: int = MONTHS
) -> list[dict]:
    """The unit's active KPIs, each with the `months` months ending with `until`: actual (the entered value of
    a manual KPI, the computed one otherwise), target, stored score and status, comment. Five queries."""
    periods = [month_shift(until, -i) for i in range(months - 1, -1, -1)]
    kpis = list(
        kpi_list(organization=organization, unit=unit)
        .select_related("objective__perspective")
        .order_by(F("objective__perspective__order").asc(nulls_last=True), "objective__name", "code")
    )
    span = {"kpi__in": kpis, "period__gte": periods[0], "period__lte": periods[-1]}
    measurements = {
        (m.kpi_id, m.period): m
        for m in Measurement.objects.for_organization(organization)
        .filter(**span)
        .only("kpi", "period", "value", "comment")
    }
    targets = {
        (kpi_id, period): value
        for kpi_id, period, value in Target.objects.for_organization(organization)
        .filter(**span)
        .values_list("kpi_id", "period", "value")
    }
    scores = {
        (s.kpi_id, s.period): s
        for s in KpiScore.objects.for_organization(organization).filter(period_kind=PeriodKind.MONTH, **span)
    }
    rows = []
    for kpi in kpis:
        for period in periods:
            measurement = measurements.get((kpi.pk, period))
            score = scores.get((kpi.pk, period))
            if kpi.source == Source.MANUAL:
                actual = measurement.value if measurement else None
            else:
                actual = score.actual if score else None
            rows.append(
                {
                    "unit": unit.name,
                    "objective": kpi.objective.name if kpi.objective else "",
                    "kpi code": kpi.code,
                    "kpi name": kpi.name,
                    "period": period,
                    "actual": actual,
                    "target": targets.get((kpi.pk, period)),
                    "score": score.score if score else None,
                    "status": score.status if score else "",
                    "comment": measurement.comment if measurement else "",
                }
            )
    return rows


def export_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(
            [row["unit"], row["objective"], row["kpi code"], row["kpi name"], f"{row['period']:%Y-%m}",
             _plain(row["actual"]), _plain(row["target"]), _plain(row["score"]), row["status"], row["comment"]]
        )  # fmt: skip
    return "\ufeff" + out.getvalue()  # the byte order mark makes Excel read UTF-8


def export_xlsx(rows: list[dict], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31] or "Scorecard"
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([None if row[name] == "" else row[name] for name in HEADER])
        sheet.cell(row=sheet.max_row, column=5).number_format = "yyyy-mm"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJ", [22, 28, 12, 32, 10, 12, 12, 8, 8, 40], strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
