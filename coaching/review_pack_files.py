"""The review pack's two files from its prepared content (coaching.review_pack_content): the PDF, laid out by
WeasyPrint from an HTML template with a print stylesheet (templates/coaching/review_pack_pdf.html,
static/css/review_pack_pdf.css), and the spreadsheet, one sheet per section (openpyxl). People's text in the
spreadsheet goes through the export's formula neutralising and is always a string cell."""

from __future__ import annotations

import io
import logging

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from coaching.review_pack_content import PackContent
from kpis.exports import formula_neutralised, sheet_title

PDF_TEMPLATE = "coaching/review_pack_pdf.html"
# WeasyPrint logs a line per step and page at INFO; the worker's log keeps its warnings (a font or image it missed).
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
PDF_STYLESHEET = "css/review_pack_pdf.css"


def pack_pdf(content: PackContent) -> tuple[bytes, int]:
    """The PDF and its number of pages."""
    from weasyprint import CSS, HTML

    html = render_to_string(PDF_TEMPLATE, {"pack": content})
    stylesheet = finders.find(PDF_STYLESHEET)
    # No base_url: the pack loads nothing from outside the document (the map is inline SVG).
    document = HTML(string=html).render(stylesheets=[CSS(filename=stylesheet)])
    return document.write_pdf(), len(document.pages)


# --- Spreadsheet ----------------------------------------------------------------------------------------------


def _text(value: str) -> str:
    """People's text as a cell: without the control characters a worksheet cannot hold, and neutralised when a
    spreadsheet would read it as a formula."""
    return formula_neutralised(ILLEGAL_CHARACTERS_RE.sub("", value))


class Figure(str):
    """A figure the product formatted ('-4.5 EUR', '87%'): shown as it is, a string cell, never neutralised (a
    minus sign is not a formula here)."""


class _Sheet:
    """A worksheet written row by row: a bold header, strings always string cells, widths given once."""

    def __init__(self, workbook, title: str, header: list[str], widths: list[int]):
        from openpyxl.styles import Font

        self.sheet = workbook.create_sheet(sheet_title(title, taken=set(workbook.sheetnames)))
        self.sheet.append(header)
        for cell in self.sheet[1]:
            cell.font = Font(bold=True)
        self.sheet.freeze_panes = "A2"
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[self.sheet.cell(row=1, column=index).column_letter].width = width

    def row(self, *values) -> None:
        self.sheet.append([_text(v) if isinstance(v, str) and not isinstance(v, Figure) else v for v in values])
        for cell in self.sheet[self.sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # openpyxl makes a text starting with '=' a formula; text stays text


def pack_xlsx(content: PackContent) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    summary = workbook.active
    summary.title = "Summary"
    card = content.scorecard
    for label, value in (
        ("Review pack", content.unit),
        ("Organization", content.organization),
        ("Period", f"{content.period_label} ({content.period_span})"),
        ("Made", f"{content.generated_at:%-d %b %Y %H:%M} for {content.requested_by}"),
        ("Scorecard score", F(card.score)),
        ("Status", card.light.label),
        ("Coverage", card.coverage),
    ):
        summary.append([label, value if isinstance(value, Figure) else _text(value)])
        summary.cell(row=summary.max_row, column=2).data_type = "s"
        summary.cell(row=summary.max_row, column=1).font = Font(bold=True)
    summary.column_dimensions["A"].width = 18
    summary.column_dimensions["B"].width = 70

    scorecard = _Sheet(
        workbook, "Scorecard",
        ["Perspective", "Objective", "KPI code", "KPI", "Actual", "Target", "Score", "Status", "Coverage"],
        [22, 30, 12, 34, 14, 14, 9, 10, 36],
    )  # fmt: skip
    for perspective in card.perspectives:
        scorecard.row(perspective.name, "", "", "", "", "", F(perspective.score), perspective.light.label,
                      perspective.coverage)  # fmt: skip
        for objective in perspective.children:
            scorecard.row(perspective.name, objective.name, "", "", "", "", F(objective.score), objective.light.label,
                          objective.coverage)  # fmt: skip
            for kpi in objective.kpis:
                scorecard.row(perspective.name, objective.name, kpi.code, kpi.name, F(kpi.actual), F(kpi.target),
                              F(kpi.score), kpi.light.label, kpi.progress_note)  # fmt: skip
    for kpi in card.unlinked:
        scorecard.row("", "(no objective)", kpi.code, kpi.name, F(kpi.actual), F(kpi.target), F(kpi.score),
                      kpi.light.label, kpi.progress_note)  # fmt: skip

    heat = content.heat_map
    sub_units = _Sheet(workbook, "Sub-units", ["Unit", "Level", "Scorecard", *heat.columns],
                       [30, 7, 12, *([16] * len(heat.columns))])  # fmt: skip
    for line in heat.lines:
        sub_units.row(line.name, line.depth, F(_cell_text(line.card)), *(F(_cell_text(cell)) for cell in line.cells))

    attention = _Sheet(
        workbook, "Red and amber KPIs",
        ["Status", "KPI code", "KPI", "Unit", "Objective", "Owner", "Actual", "Target", "Score", "Comment",
         "Comment of", "Open action items", "Last discussed"],
        [10, 12, 34, 24, 30, 20, 14, 14, 9, 60, 12, 50, 40],
    )  # fmt: skip
    for a in content.attention:
        line = a.line
        planned = "; ".join(f"{item.title} ({item.owner}, due {item.due:%Y-%m-%d})" for item in a.items)
        attention.row(line.light.label, line.code, line.name, a.unit, a.objective, a.owner, F(line.actual),
                      F(line.target), F(line.score), a.comment, a.comment_period, planned, a.discussed)  # fmt: skip

    items = _Sheet(workbook, "Open action items", ["Action item", "Owner", "Due", "Overdue", "About"],
                   [50, 22, 12, 9, 40])  # fmt: skip
    for item in content.action_items:
        items.row(item.title, item.owner, item.due, "overdue" if item.overdue else "", item.about)
        items.sheet.cell(row=items.sheet.max_row, column=3).number_format = "yyyy-mm-dd"

    notes = _Sheet(workbook, "Coaching notes", ["Session", "Coach", "Held on", "Notes", "Wins", "Challenges"],
                   [18, 22, 12, 80, 40, 40])  # fmt: skip
    session = content.last_session
    if session is not None:
        notes.row(session.kind, session.coach, session.held_on, session.notes_text, session.wins, session.challenges)
        notes.sheet.cell(row=2, column=3).number_format = "yyyy-mm-dd"

    figures = _Sheet(
        workbook, "Accountability",
        ["Unit", "Level", *content.accountability_metrics, *(f"{m}: of" for m in content.accountability_metrics)],
        [30, 7, 14, 14, 14, 28, 28, 28],
    )  # fmt: skip
    for line in content.accountability:
        figures.row(line.label, line.depth, *(F(c.text) for c in line.cells), *(F(c.note) for c in line.cells))

    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


F = Figure


def _cell_text(cell) -> str:
    if cell.absent:
        return "not on its map"
    if cell.score == "—":
        return "no data"
    return f"{cell.score} {cell.light.label.lower()}"
