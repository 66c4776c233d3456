"""Export of a scorecard's data (one row per KPI and month) as CSV or XLSX; the CSV imports back unchanged.
Names and comments are people's text: a CSV cell that starts like a formula is neutralised, an XLSX text cell
is always a string cell, and the sheet's title is one Excel accepts."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

from django.db.models import F
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from bsc.models import Organization, OrgUnit
from bsc.org_calendar import month_shift
from kpis.models import KpiScore, Measurement, PeriodKind, Source, Target
from kpis.selectors import kpi_list

HEADER = ["unit", "objective", "kpi code", "kpi name", "period", "actual", "target", "score", "status", "comment"]
TEXT_COLUMNS = ("unit", "objective", "kpi code", "kpi name", "status", "comment")
MONTHS = 24
# A spreadsheet reads a CSV cell starting with one of these as a formula (OWASP "CSV injection"); such a text
# cell is written with a leading apostrophe, which spreadsheets show as text and the import takes off again.
# Apostrophes already in front are counted in, so that taking one off gives back exactly what was exported.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
SHEET_TITLE_MAX = 31
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")


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


def formula_neutralised(text: str) -> str:
    """A text cell of a CSV export: one that a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if _FORMULA_START.match(text) else text


def formula_restored(text: str) -> str:
    """The text a neutralised cell stood for (the import's side of `formula_neutralised`)."""
    return text[1:] if text.startswith("'") and _FORMULA_START.match(text) else text


def sheet_title(name: str, *, taken: set[str] = frozenset()) -> str:
    """A worksheet title Excel accepts: none of / \\ ? * [ ] : nor control characters, no apostrophe at either
    end, at most 31 characters, and unlike the titles `taken` and "History", which Excel keeps for itself
    (comparing them ignoring case)."""
    title = _SHEET_TITLE_FORBIDDEN.sub("-", ILLEGAL_CHARACTERS_RE.sub("", name)).strip().strip("'").strip()
    title = title[:SHEET_TITLE_MAX].rstrip().rstrip("'") or "Scorecard"
    taken = {t.lower() for t in taken} | {"history"}
    candidate, number = title, 1
    while candidate.lower() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = title[: SHEET_TITLE_MAX - len(suffix)].rstrip().rstrip("'") + suffix
    return candidate


def export_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        text = {name: formula_neutralised(row[name]) for name in TEXT_COLUMNS}
        writer.writerow(
            [text["unit"], text["objective"], text["kpi code"], text["kpi name"], f"{row['period']:%Y-%m}",
             _plain(row["actual"]), _plain(row["target"]), _plain(row["score"]), text["status"], text["comment"]]
        )  # fmt: skip
    return "\ufeff" + out.getvalue()  # the byte order mark makes Excel read UTF-8


def _xlsx_value(value):
    """A cell value openpyxl can write: text without the control characters a worksheet cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def export_xlsx(rows: list[dict], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title(title)
    sheet.append(HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([None if row[name] == "" else _xlsx_value(row[name]) for name in HEADER])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl makes a text starting with '=' a formula; text stays text
        sheet.cell(row=sheet.max_row, column=5).number_format = "yyyy-mm"
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJ", [22, 28, 12, 32, 10, 12, 12, 8, 8, 40], strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
