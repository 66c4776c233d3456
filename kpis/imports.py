"""Import of measurements from CSV and XLSX: read the file, check every row (preview), then write the valid
rows in one transaction (COPY into a staging table, one guarded upsert), or nothing.

The checked rows live in an ImportBatch between the preview and the import, so that confirming imports
exactly what the preview showed; a value changed by someone else in between refuses the whole import.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import pghistory
import pgtrigger
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from pghistory.models import Context

from bsc import org_calendar
from bsc.models import Membership, Organization, User
from bsc.permissions import Action, can
from bsc.validation import echo
from kpis import causes
from kpis.approval import entry_approval
from kpis.exports import formula_restored
from kpis.models import Frequency, ImportBatch, ImportStatus, Kpi, Measurement, PeriodClose, Source
from kpis.outbox import scores_recompute_request_from
from kpis.period_close import closed_in_staging, closed_message, staged_closes_sql
from kpis.scorecard_display import Light, light
from kpis.services import archived_message, check_period, error_messages, not_manual_message, parse_number, parse_period

# The bounds of an upload, checked before it is parsed and while it is read, so that a small hostile file (an
# .xlsx is a zip: 300 KB can unpack to gigabytes) cannot take the process's memory. Messages name them.
MAX_BYTES = 5 * 1024 * 1024  # the file as uploaded (the upload form checks it too)
MAX_UNPACKED_BYTES = 50 * 1024 * 1024  # what the parts of an .xlsx unpack to, together
MAX_PART_RATIO = 100  # how many times its packed size a part of an .xlsx may unpack to ...
RATIO_FROM_BYTES = 1024 * 1024  # ... once it unpacks to more than this (small parts of repeated markup may)
MAX_ROWS = 50_000  # rows after the header, blank ones included
MAX_CELL_CHARS = 1_000  # a kpi code, period or value cell; longer is a problem of its row (comments: MAX_COMMENT)
TASK_THRESHOLD = 500  # more valid rows than this are imported by a Celery task, with a progress bar
CHUNK = 500  # rows per upsert statement (progress is reported between chunks)
MAX_COMMENT = causes.CAUSE_MAX
MAX_DECIMALS = 6
STALE_RUN = timedelta(minutes=10)

COLUMNS = {
    "code": {"code", "kpi", "kpi code", "kpicode"},
    "period": {"period", "month"},
    "value": {"value", "actual"},
    "comment": {"comment", "comments"},
}


@dataclass
class RawRow:
    number: int  # the row number in the file, the header being row 1
    code: object
    period: object
    value: object
    comment: object = None


@dataclass
class Checked:
    """The outcome of a preview: the rows to write and every problem, by row number."""

    rows: list[list] = field(default_factory=list)  # [kpi_id, "YYYY-MM-DD", "value", comment|None, version|None]
    problems: list[dict] = field(default_factory=list)
    total: int = 0
    unchanged: int = 0
    changed: int = 0
    skipped: int = 0


# --- Reading files ---------------------------------------------------------------------------------


def _column_name(text) -> str:
    return " ".join(str(text or "").strip().lower().replace("_", " ").split())


def _columns(header: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        normalised = _column_name(name)
        for column, aliases in COLUMNS.items():
            if normalised in aliases and column not in found:
                found[column] = index
    missing = [name for name in ("code", "period", "value") if name not in found]
    if missing:
        seen = ", ".join(f"“{_column_name(h)}”" for h in header if _column_name(h)) or "nothing"
        raise ValidationError(
            f"The first row must name the columns kpi code, period and value (comment is optional); "
            f"missing {', '.join({'code': 'kpi code'}.get(m, m) for m in missing)}, found {seen}."
        )
    return found


def _blank(cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _rows_from(records, first_number: int = 2) -> tuple[list[RawRow], bool]:
    """RawRows from an iterator of lists whose first item is the header row."""
    header = next(records, None)
    if header is None:
        raise ValidationError("The file is empty.")
    columns = _columns(list(header))
    picked = [columns.get(name) for name in ("code", "period", "value", "comment")]
    rows = []
    for number, record in enumerate(records, start=first_number):
        if number - first_number == MAX_ROWS:  # blank rows count: a sheet can claim a million of them
            raise ValidationError(f"The file has more than {MAX_ROWS:,} rows; split it into smaller files.")
        if all(_blank(cell) for cell in record):
            continue
        size = len(record)
        rows.append(RawRow(number, *[record[i] if i is not None and i < size else None for i in picked]))
    return rows, "comment" in columns


def _csv_records(data: bytes):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError("The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again.") from None
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:  # a cell over the csv module's field limit, mostly
        if str(error).startswith("field larger than field limit"):
            raise ValidationError(
                f"Line {reader.line_num:,} of the file has a cell longer than {csv.field_size_limit():,} characters; "
                f"a cell holds at most {MAX_CELL_CHARS:,} (a comment {MAX_COMMENT:,})."
            ) from None
        raise ValidationError(f"Line {reader.line_num:,} of the file is not CSV: {error}.") from None


def _check_unpacked(data: bytes) -> None:
    """An .xlsx is a zip: bound what it unpacks to from its directory, before anything is unpacked. The sizes it
    states are the most zipfile will unpack (it stops there and checks the CRC), so they can be trusted."""
    try:
        parts = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise ValidationError("The file could not be read as an Excel workbook (.xlsx).") from None
    if sum(part.file_size for part in parts) > MAX_UNPACKED_BYTES:
        raise ValidationError(
            f"The file unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB; split it into smaller files."
        )
    for part in parts:
        if part.file_size > RATIO_FROM_BYTES and part.file_size > MAX_PART_RATIO * max(part.compress_size, 1):
            raise ValidationError(
                f"The part “{echo(part.filename)}” of the file unpacks to more than {MAX_PART_RATIO} times its "
                "packed size, which a workbook saved by a spreadsheet program does not; save it again and upload that."
            )


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    _check_unpacked(data)
    unreadable = "The file could not be read as an Excel workbook (.xlsx)."
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for files that are not workbooks
        raise ValidationError(unreadable) from None
    try:  # read_only: the sheet is parsed row by row as it is read
        yield from workbook.worksheets[0].iter_rows(values_only=True, max_col=50)
    except Exception:  # broken XML or cells further down (a number cell of 5,000 digits is a ValueError)
        raise ValidationError(unreadable) from None
    finally:
        workbook.close()


def read_rows(data: bytes, filename: str) -> tuple[list[RawRow], bool]:
    """The data rows of a .csv or .xlsx file, and whether it has a comment column."""
    if len(data) > MAX_BYTES:
        raise ValidationError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it into smaller files.")
    name = filename.lower()
    if name.endswith(".csv"):
        return _rows_from(_csv_records(data))
    if name.endswith(".xlsx"):
        return _rows_from(_xlsx_records(data))
    raise ValidationError("Upload a .csv or .xlsx file.")


# --- Checking rows ---------------------------------------------------------------------------------


# Periods and values as people write them nearly always: read without strptime or the general number parser (the
# same results; anything else goes through them, for their messages).
_PLAIN_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])(?:-01)?")
_PLAIN_NUMBER = {
    ".": re.compile(r"-?[0-9]{1,14}(?:\.[0-9]{1,6})?"),
    ",": re.compile(r"-?[0-9]{1,14}(?:,[0-9]{1,6})?"),
}


def _period(cell) -> date:
    if isinstance(cell, datetime):
        cell = cell.date()
    if isinstance(cell, date):
        if cell.day != 1:
            raise ValidationError(
                {"period": f"“{cell:%Y-%m-%d}” is not the first day of a month; write the period as YYYY-MM."}
            )
        return cell
    text = "" if cell is None else str(cell)
    plain = _PLAIN_PERIOD.fullmatch(text.strip())
    if plain and plain[1] != "0000":
        return date(int(plain[1]), int(plain[2]), 1)
    return parse_period(text)


def _number(cell, decimal_separator: str) -> Decimal:
    if isinstance(cell, bool):
        raise ValidationError({"value": f"“{cell}” is not a number."})
    if isinstance(cell, int | float):  # a number cell of a workbook: no separator to interpret
        cell, decimal_separator = str(cell), "."
    if isinstance(cell, str):
        text = cell.strip()
        if _PLAIN_NUMBER[decimal_separator].fullmatch(text):
            return Decimal(text.replace(",", "."))
    return parse_number(cell, decimal_separator=decimal_separator)


def _message(error: ValidationError) -> str:
    """A row's problem as one line: the messages of `error_messages` (the bulk API's per-item shape), joined."""
    return " ".join(m for messages in error_messages(error).values() for m in messages)


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime | date):
        return f"{cell:%Y-%m-%d}"
    return str(cell).strip()


def _kpi_refusals(kpi: Kpi) -> list[str]:
    """Why this KPI takes no values at all (archived, not entered by hand)."""
    messages = []
    if kpi.archived_at is not None:
        messages.append(archived_message(kpi))
    if kpi.source != Source.MANUAL:
        messages.append(not_manual_message(kpi))
    return messages


def _kpi_forbidden(kpi: Kpi, membership: Membership) -> list[str]:
    """Why the importing member may not enter this KPI's values (bsc.permissions decides)."""
    if can(membership, Action.ENTER_MEASUREMENTS, unit=kpi.unit_id, owner_id=kpi.owner_id):
        return []
    return [f"You may not enter values for {kpi.code} of {kpi.unit.name}."]


def kpi_problems(kpi: Kpi, period: date | None, membership: Membership, organization: Organization) -> list[str]:
    """Why values of this KPI cannot be imported (for this period), if they cannot."""
    messages = _kpi_refusals(kpi)
    if period is not None:
        try:
            check_period(kpi, period, organization)
        except ValidationError as error:
            messages.append(_message(error))
    return messages + _kpi_forbidden(kpi, membership)


# The staged rows of a preview (import_check: one per row with a KPI code) matched with the organization's KPIs: by
# code, else by code ignoring case when that names one KPI; never another organization's.
_MATCHED_SQL = """
WITH codes AS MATERIALIZED (SELECT DISTINCT code FROM import_check),
folded AS (
    SELECT lower(code) AS code, min(id) AS id FROM kpis_kpi WHERE organization_id = %(org)s
    GROUP BY lower(code) HAVING count(*) = 1
),
matched AS MATERIALIZED (
    SELECT c.code, COALESCE(k.id, f.id) AS kpi_id FROM codes c
    LEFT JOIN kpis_kpi k ON k.organization_id = %(org)s AND k.code = c.code
    LEFT JOIN folded f ON k.id IS NULL AND f.code = lower(c.code)
),
staged AS (
    SELECT s.*, x.kpi_id FROM import_check s JOIN matched x ON x.code = s.code
)
"""

# Per staged row (in no order: the caller has them by seq): its KPI, whether its period misses the KPI's frequency
# or lies after the current month (`check_period` names which), whether other rows of the file have the same KPI and
# period, and the value it replaces (its version; whether the row leaves it as it is).
_CHECK_SQL = (
    _MATCHED_SQL
    + f""",
repeated AS (
    SELECT kpi_id, period FROM staged WHERE kpi_id IS NOT NULL AND period IS NOT NULL
    GROUP BY kpi_id, period HAVING count(*) > 1
)
SELECT s.seq, s.kpi_id,
    s.period IS NOT NULL AND k.id IS NOT NULL AND (
        s.period > %(latest)s
        OR NOT {org_calendar.sql_is_period_start("s.period", org_calendar.sql_frequency_step("k.frequency"), "%(fiscal)s")}
    ),
    r.kpi_id IS NOT NULL,
    m.version,
    m.value = s.value AND (s.comment IS NULL OR s.comment = m.comment)
FROM staged s
LEFT JOIN kpis_kpi k ON k.id = s.kpi_id
LEFT JOIN repeated r ON r.kpi_id = s.kpi_id AND r.period = s.period
LEFT JOIN kpis_measurement m ON m.kpi_id = s.kpi_id AND m.period = s.period
"""
)


class _Row:
    """A row of the file being checked; its messages are put in the order the preview lists them at the end."""

    __slots__ = ("raw", "code", "period", "value", "comment", "head", "cells", "kpi", "period_problem", "others",
                 "version", "unchanged")  # fmt: skip

    def __init__(self, raw: RawRow, code: str):
        self.raw, self.code = raw, code
        self.period: date | None = None
        self.value: Decimal | None = None
        self.comment: str | None = None
        self.head: list[str] = []  # cells too long, no code
        self.cells: list[str] = []  # period, value and comment problems
        self.kpi: Kpi | None = None
        self.period_problem = ""
        self.others: list[int] | None = None  # the numbers of the rows with the same KPI and period, when several
        self.version: int | None = None  # of the value the row replaces
        self.unchanged = False  # the row holds the stored value (and comment)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


_NULL = "\\N"


def _copy_text(text: str | None) -> str:
    """A cell of COPY's text format."""
    return _NULL if text is None else text.translate(_COPY_ESCAPES)


def _closed_messages(cursor, organization: Organization, rows: list[_Row], seqs: list[int]) -> dict[int, str]:
    """The closed-period message (as data entry and the API give it) of each of these staged rows that is closed."""
    if not seqs or not PeriodClose.objects.for_organization(organization).filter(reopened_at__isnull=True).exists():
        return {}
    cursor.execute(
        _MATCHED_SQL + staged_closes_sql("staged", where="WHERE s.seq = ANY(%(seqs)s)"),
        {"org": organization.pk, "seqs": seqs},
    )
    found = [(seq, close_id) for seq, _, _, close_id in cursor.fetchall()]
    closes = (
        PeriodClose.objects.for_organization(organization)
        .select_related("closed_by", "unit", "organization")
        .in_bulk({close_id for _, close_id in found})
    )
    return {seq: closed_message(rows[seq].kpi, rows[seq].period, closes[close_id]) for seq, close_id in found}


def rows_check(
    *,
    organization: Organization,
    membership: Membership,
    raw_rows: list[RawRow],
    decimal_separator: str = ".",
    has_comment: bool = True,
) -> Checked:
    """Check every row; nothing is written. Rows without a value are skipped (an export leaves months
    without data empty), rows with any problem are listed with all their problems.

    The cells are read here (their messages are the data-entry page's); what the database knows is checked in SQL
    over the rows staged in a temporary table: the KPI codes, the periods against the KPIs' frequencies and the
    current month, closed periods, duplicates and the values the rows replace. The KPIs found are checked once each
    (archived, not manual, not the member's)."""
    checked = Checked(total=len(raw_rows))
    rows: list[_Row] = []
    staged: list[str] = []  # COPY lines of the rows with a code to look up
    for raw in raw_rows:
        value_cell = raw.value
        if _blank(value_cell):
            checked.skipped += 1
            continue
        code = raw.code.strip() if raw.code.__class__ is str else _text(raw.code)
        period_text = raw.period.strip() if raw.period.__class__ is str else _text(raw.period)
        value_text = value_cell.strip() if value_cell.__class__ is str else _text(value_cell)
        row = _Row(raw, code)
        if len(code) > MAX_CELL_CHARS or len(period_text) > MAX_CELL_CHARS or len(value_text) > MAX_CELL_CHARS:
            for name, text in (("kpi code", code), ("period", period_text), ("value", value_text)):
                if len(text) > MAX_CELL_CHARS:
                    row.head.append(f"The {name} cell is longer than {MAX_CELL_CHARS:,} characters.")
            if len(code) > MAX_CELL_CHARS:
                row.code = ""  # not looked up
        if not code:
            row.head.append("The KPI code is empty.")
        if len(period_text) <= MAX_CELL_CHARS:
            try:
                row.period = _period(raw.period)
            except ValidationError as error:
                row.cells.append(_message(error))
        if len(value_text) <= MAX_CELL_CHARS:
            try:
                row.value = value = _number(value_cell, decimal_separator)
            except ValidationError as error:
                row.cells.append(_message(error))
            else:
                if -value.as_tuple().exponent > MAX_DECIMALS:
                    row.cells.append(f"“{echo(value_text)}” has more than {MAX_DECIMALS} decimals.")
        if has_comment:
            row.comment = comment = formula_restored(_text(raw.comment))  # as the export wrote it
            if len(comment) > MAX_COMMENT:
                row.cells.append(causes.COMMENT_TOO_LONG)  # as the data-entry page and the API say it
        if row.code and "\x00" not in row.code:  # (no KPI code holds a NUL, which PostgreSQL text cannot)
            staged.append(
                f"{len(rows)}\t{raw.number}\t{_copy_text(row.code)}\t"
                f"{_NULL if row.period is None else row.period.isoformat()}\t"
                f"{_NULL if row.value is None else row.value}\t{_copy_text(row.comment)}\n"
            )
        rows.append(row)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_check")
        cursor.execute(
            "CREATE TEMPORARY TABLE import_check (seq integer PRIMARY KEY, number integer NOT NULL, code text NOT NULL, "
            "period date, value numeric, comment text) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY import_check (seq, number, code, period, value, comment) FROM STDIN") as copy:
            copy.write("".join(staged).replace("\x00", ""))  # a NUL of a comment: refused later with the batch
        cursor.execute(
            _CHECK_SQL,
            {"org": organization.pk, "latest": org_calendar.this_month(organization),
             "fiscal": organization.fiscal_year_start_month},
        )  # fmt: skip
        found = cursor.fetchall()
        kpis = Kpi.objects.for_organization(organization).select_related("unit").in_bulk({r[1] for r in found} - {None})
        for kpi in kpis.values():
            kpi.organization = organization
        repeated: dict[tuple[int, date], list[int]] = {}  # the row numbers of each KPI and period in several rows
        for seq, kpi_id, period_flagged, is_repeated, version, unchanged in found:
            if kpi_id is None:
                continue
            row = rows[seq]
            row.kpi = kpi = kpis[kpi_id]
            if period_flagged:
                try:
                    check_period(kpi, row.period, organization)
                except ValidationError as error:
                    row.period_problem = _message(error)
            if is_repeated:
                row.others = repeated.setdefault((kpi_id, row.period), [])
                row.others.append(row.raw.number)
            row.version, row.unchanged = version, unchanged
        refusals = {kpi.pk: _kpi_refusals(kpi) for kpi in kpis.values()}
        forbidden = {kpi.pk: _kpi_forbidden(kpi, membership) for kpi in kpis.values()}
        # A closed period is a problem of a row that would write (a row as the stored value is left alone).
        closable = [
            seq for seq, row in enumerate(rows)
            if row.kpi is not None and row.period is not None and not row.period_problem
            and (not row.unchanged or row.head or row.cells or refusals[row.kpi.pk] or forbidden[row.kpi.pk]
                 or row.others)
        ]  # fmt: skip
        closed = _closed_messages(cursor, organization, rows, closable)

    for seq, row in enumerate(rows):
        kpi = row.kpi
        if kpi is None:
            messages = row.head + ([f"Unknown KPI code “{echo(row.code)}”."] if row.code else []) + row.cells
        else:
            messages = row.head + row.cells + refusals[kpi.pk]
            if row.period_problem:
                messages.append(row.period_problem)
            if seq in closed:
                messages.append(closed[seq])
            messages += forbidden[kpi.pk]
            if row.others:
                others = ", ".join(str(n) for n in sorted(row.others) if n != row.raw.number)
                messages.append(
                    f"{kpi.code} {row.period:%Y-%m} is also in row {others}; keep one row per KPI and period."
                )
        if messages:
            raw = row.raw
            checked.problems.append(
                {"row": raw.number, "code": echo(_text(raw.code)), "period": echo(_text(raw.period)),
                 "value": echo(_text(raw.value)), "messages": messages}
            )  # fmt: skip
        elif row.unchanged:
            checked.unchanged += 1
        else:
            checked.changed += row.version is not None
            checked.rows.append([kpi.pk, row.period.isoformat(), f"{row.value:f}", row.comment, row.version])
    return checked


@contextmanager
def _collector_paused():
    """Checking 10,000 rows makes some 100,000 small objects that live until the preview is kept, none in a reference
    cycle; meanwhile Python's cyclic garbage collector would walk them (and the rest of the heap) again and again, for
    about half the CPU of the check. It is paused for the block and runs as usual after it. (Not around reading the
    file: a workbook's parser may leave cycles, and a hostile file must stay within its memory bound.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_batch_preview(
    *, organization: Organization, membership: Membership, data: bytes, filename: str, decimal_separator: str = "."
) -> ImportBatch:
    """Read and check an uploaded file and keep the outcome for the person's choice; writes no measurement."""
    raw_rows, has_comment = read_rows(data, filename)
    if not raw_rows:
        raise ValidationError("The file has a header row but no data rows.")
    with _collector_paused():
        checked = rows_check(
            organization=organization,
            membership=membership,
            raw_rows=raw_rows,
            decimal_separator=decimal_separator,
            has_comment=has_comment,
        )
    return ImportBatch.objects.for_organization(organization).create(
        organization=organization,
        created_by=membership.user,
        filename=filename[:255],
        rows=checked.rows,
        problems=checked.problems,
        total_rows=checked.total,
        unchanged_rows=checked.unchanged,
        changed_rows=checked.changed,
        skipped_rows=checked.skipped,
    )


# --- Choosing -------------------------------------------------------------------------------------


def _move(batch: ImportBatch, from_status: str, **changes) -> bool:
    """A conditional UPDATE: true when this call moved the batch (so a double click acts once)."""
    moved = (
        ImportBatch.objects.for_organization(batch.organization_id)
        .filter(pk=batch.pk, status=from_status)
        .update(**changes)
    )
    if moved:
        batch.refresh_from_db()
    return moved == 1


def import_batch_cancel(*, batch: ImportBatch) -> ImportBatch:
    """Import nothing."""
    if not _move(batch, ImportStatus.PREVIEWED, status=ImportStatus.CANCELLED, rows=[], finished_at=timezone.now()):
        raise ValidationError("This import was already imported or cancelled.")
    return batch


@dataclass
class Uncaused:
    """A row of a batch whose value scores red (amber too when the organization asks) without its cause."""

    index: int  # in batch.rows
    code: str
    name: str
    period: str  # YYYY-MM
    value: str
    status: str

    @property
    def light(self) -> Light:
        return light(self.status)


def import_batch_uncaused(*, batch: ImportBatch) -> list[Uncaused]:
    """The rows of a batch that lack the cause the data-entry page would ask for (kpis/causes.py; an import names no
    action item: its reds wait for one on the dashboard and the unit's next coaching session). Three queries."""
    organization = batch.organization
    kpis = Kpi.objects.for_organization(organization).in_bulk({row[0] for row in batch.rows})
    pairs = [(kpis[row[0]], date.fromisoformat(row[1])) for row in batch.rows if row[0] in kpis]
    stored = causes.stored_for(organization, pairs)
    found = []
    for index, (kpi_id, period, value, comment, _version) in enumerate(batch.rows):
        kpi = kpis.get(kpi_id)
        if kpi is None:
            continue
        now = stored[(kpi_id, date.fromisoformat(period))]
        problems = causes.explanation_problems(
            organization=organization, kpi=kpi, value=Decimal(value), stored=now, action=None, by=None,
            comment=comment if comment is not None else (now.comment or ""), with_action=False,
        )  # fmt: skip
        if "comment" in problems:
            _, status = causes.value_status(kpi, value=Decimal(value), target=now.target, organization=organization)
            found.append(Uncaused(index, kpi.code, kpi.name, period[:7], f"{Decimal(value).normalize():f}", status))
    return found


def _with_causes(batch: ImportBatch, given: dict[int, str], cause_missing: bool) -> list[list]:
    """The batch's rows with the causes given in the preview; refused when a cause is too long, or when a red value
    is left without one and the person did not choose to import it as "cause missing"."""
    rows = [list(row) for row in batch.rows]
    uncaused = import_batch_uncaused(batch=batch)
    left = []
    for row in uncaused:
        cause = (given.get(row.index) or "").strip()
        if len(cause) > causes.CAUSE_MAX:
            raise ValidationError(f"{row.code} {row.period}: {causes.COMMENT_TOO_LONG} Nothing was imported.")
        if cause:
            rows[row.index][3] = cause
        else:
            left.append(row)
    if left and not cause_missing:
        shown = ", ".join(f"{row.code} {row.period}" for row in left[:10]) + (" and more" if len(left) > 10 else "")
        raise ValidationError(
            f"{len(left)} red value{'s' if len(left) != 1 else ''} lack{'s' if len(left) == 1 else ''} a cause "
            f"({shown}): give the causes, or choose to import them as “{causes.CAUSE_MISSING}”. Nothing was imported."
        )
    return rows


def import_batch_confirm(
    *, batch: ImportBatch, causes_given: dict[int, str] | None = None, cause_missing: bool = False
) -> ImportBatch:
    """Import the valid rows: now when there are few, else in a Celery task (the page shows its progress). A red
    value needs its cause as on the data-entry page: `causes_given` (by row index) adds causes in the preview;
    `cause_missing` is the person's explicit choice to import the others without one."""
    rows = _with_causes(batch, causes_given or {}, cause_missing) if batch.status == ImportStatus.PREVIEWED else None
    if not _move(batch, ImportStatus.PREVIEWED, status=ImportStatus.QUEUED, **({"rows": rows} if rows else {})):
        raise ValidationError("This import was already imported or cancelled.")
    if len(batch.rows) <= TASK_THRESHOLD:
        return import_batch_run(batch_id=batch.pk, organization=batch.organization)
    from bsc.publish import task_publish_on_commit
    from kpis.tasks import measurement_import

    task_publish_on_commit(measurement_import, organization_id=batch.organization_id, batch_id=batch.pk)
    return batch


# --- Writing --------------------------------------------------------------------------------------


class ImportRefused(ValidationError):
    pass


class _Progress:
    """Progress counters written on a connection of their own, so the page sees them while the import's
    transaction is still open."""

    INTERVAL_S = 0.5  # the page polls every second

    def __init__(self, batch_id: int, enabled: bool):
        self.batch_id = batch_id
        self.enabled = enabled
        self.connection = None  # opened at the first report: an import done within INTERVAL_S needs none
        self.reported_at = time.monotonic()

    def report(self, done: int) -> None:
        if self.enabled and time.monotonic() - self.reported_at >= self.INTERVAL_S:
            self.reported_at = time.monotonic()
            if self.connection is None:
                self.connection = connections.create_connection("default")
            with self.connection.cursor() as cursor:
                cursor.execute("UPDATE kpis_importbatch SET progress = %s WHERE id = %s", [done, self.batch_id])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _recheck(batch: ImportBatch, organization: Organization) -> Membership:
    """The KPIs may have been archived, changed or taken from the person since the preview."""
    membership = (
        Membership.objects.for_organization(organization).filter(user_id=batch.created_by_id).select_related("user")
    ).first()
    if membership is None:
        raise ImportRefused("You are no longer a member of this organization; nothing was imported.")
    kpis = Kpi.objects.for_organization(organization).select_related("unit").in_bulk({row[0] for row in batch.rows})
    problems = []
    for kpi_id in sorted({row[0] for row in batch.rows}):  # archived, no longer manual, no longer yours
        kpi = kpis.get(kpi_id)
        problems += (
            ["A KPI of the file was deleted."] if kpi is None else kpi_problems(kpi, None, membership, organization)
        )
    for kpi_id, period, *_ in batch.rows:
        kpi = kpis.get(kpi_id)
        if kpi is not None and kpi.frequency != Frequency.MONTHLY:  # its frequency may have changed
            try:
                check_period(kpi, date.fromisoformat(period), organization)
            except ValidationError as error:
                problems.append(_message(error))
    if problems:
        raise ImportRefused(
            "Some KPIs changed since the preview, so nothing was imported: "
            + " ".join(list(dict.fromkeys(problems))[:5])
            + " Upload the file again to check it."
        )
    return membership


def _conflicts(cursor) -> list[str]:
    cursor.execute(
        "SELECT m.id FROM kpis_measurement m JOIN import_staging s ON m.kpi_id = s.kpi_id AND m.period = s.period "
        "ORDER BY m.id FOR UPDATE OF m"
    )
    cursor.execute(
        "SELECT k.code, s.period FROM import_staging s JOIN kpis_kpi k ON k.id = s.kpi_id "
        "LEFT JOIN kpis_measurement m ON m.kpi_id = s.kpi_id AND m.period = s.period "
        "WHERE m.version IS DISTINCT FROM s.expected_version ORDER BY s.seq"
    )
    return [f"{code} {period:%Y-%m}" for code, period in cursor.fetchall()]


def _refuse_future(cursor, organization: Organization) -> None:
    """The rule of `check_period` again, over the staged rows: no period after the organization's current
    month (the preview checked each row; this holds even if the clock or the time zone moved since)."""
    latest = org_calendar.this_month(organization)
    cursor.execute(
        "SELECT k.code, s.period FROM import_staging s JOIN kpis_kpi k ON k.id = s.kpi_id "
        "WHERE s.period > %s ORDER BY s.seq LIMIT 11",
        [latest],
    )
    future = [f"{code} {period:%Y-%m}" for code, period in cursor.fetchall()]
    if future:
        shown = ", ".join(future[:10]) + (" and more" if len(future) > 10 else "")
        raise ImportRefused(
            f"Some rows are for periods in the future ({shown}), so nothing was imported: values can be entered "
            f"up to {org_calendar.month_label(latest)}. Upload the file again to check it."
        )


def _refuse_conflicts(names: list[str]) -> None:
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise ImportRefused(
        f"{len(names)} value{'s' if len(names) != 1 else ''} changed since the preview ({shown}), so nothing "
        "was imported. Upload the file again to see the current values."
    )


AUDIT_TRIGGERS = ("kpis.Measurement:insert_insert", "kpis.Measurement:update_update")


def _record_history(cursor, history) -> None:
    """The audit events the row triggers would have written (one per imported row, labelled insert or update,
    attached to this import's context), as one INSERT ... SELECT instead of 10,000 trigger calls."""
    event = Measurement.pgh_event_model
    tracked = [f.column for f in Measurement._meta.concrete_fields]
    missing = set(tracked) - {f.column for f in event._meta.concrete_fields}
    if missing:  # the tracked fields changed: the triggers and this statement must agree
        raise RuntimeError(f"Measurement events lack the columns {sorted(missing)}")
    cursor.execute(
        f"INSERT INTO {Context._meta.db_table} (id, metadata, created_at, updated_at) VALUES (%s, %s, now(), now()) "
        "ON CONFLICT (id) DO UPDATE SET metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at",
        [history.id, json.dumps(history.metadata, cls=DjangoJSONEncoder)],
    )
    columns = ", ".join(f'"{c}"' for c in tracked)
    selected = ", ".join(f'm."{c}"' for c in tracked)
    cursor.execute(
        f"INSERT INTO {event._meta.db_table} ({columns}, pgh_obj_id, pgh_label, pgh_context_id, pgh_created_at) "
        f"SELECT {selected}, m.id, "
        "CASE WHEN s.expected_version IS NULL THEN 'insert' ELSE 'update' END, %s, now() "
        "FROM import_staging s JOIN kpis_measurement m ON m.kpi_id = s.kpi_id AND m.period = s.period ORDER BY s.seq",
        [history.id],
    )


def _write(batch: ImportBatch, organization: Organization, by: User, progress: _Progress) -> int:
    """All rows in one transaction: COPY into a staging table, lock and compare versions, then upsert in
    chunks guarded by the version (a row inserted meanwhile by someone else is not overwritten)."""
    rows = batch.rows
    with (
        transaction.atomic(),
        pghistory.context(user=by.pk, import_batch=batch.pk) as history,
        pgtrigger.ignore(*AUDIT_TRIGGERS),  # the audit rows are written below in one statement
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "CREATE TEMPORARY TABLE import_staging (seq integer PRIMARY KEY, kpi_id bigint NOT NULL, "
            "period date NOT NULL, value numeric(20, 6) NOT NULL, comment text, expected_version integer) "
            "ON COMMIT DROP"
        )
        with cursor.cursor.copy(
            "COPY import_staging (seq, kpi_id, period, value, comment, expected_version) FROM STDIN"
        ) as copy:
            for seq, (kpi_id, period, value, comment, version) in enumerate(rows):
                copy.write_row((seq, kpi_id, period, value, comment, version))
        cursor.execute("ANALYZE import_staging")
        _refuse_future(cursor, organization)
        if closed := closed_in_staging(cursor, organization):
            raise ImportRefused(closed)
        conflicts = _conflicts(cursor)
        if conflicts:
            _refuse_conflicts(conflicts)
        written = 0
        entered_at = timezone.now()  # the clock data entry uses, which the accountability figures compare
        approval = entry_approval(organization, by)  # submitted for approval, or approved: a new review starts
        for start in range(0, len(rows), CHUNK):
            cursor.execute(
                "INSERT INTO kpis_measurement (organization_id, kpi_id, period, value, comment, entered_by_id, "
                "entered_at, version, approval, reviewed_by_id, reviewed_at, return_comment) "
                "SELECT %s, s.kpi_id, s.period, s.value, COALESCE(s.comment, m.comment, ''), %s, %s, "
                "COALESCE(s.expected_version, 0) + 1, %s, NULL, NULL, '' "
                "FROM import_staging s LEFT JOIN kpis_measurement m ON m.kpi_id = s.kpi_id AND m.period = s.period "
                "WHERE s.seq >= %s AND s.seq < %s "
                "ON CONFLICT (kpi_id, period) DO UPDATE SET value = EXCLUDED.value, comment = EXCLUDED.comment, "
                "entered_by_id = EXCLUDED.entered_by_id, entered_at = EXCLUDED.entered_at, version = EXCLUDED.version, "
                "approval = EXCLUDED.approval, reviewed_by_id = NULL, reviewed_at = NULL, return_comment = '' "
                "WHERE kpis_measurement.version = EXCLUDED.version - 1",
                [organization.pk, by.pk, entered_at, approval, start, start + CHUNK],
            )
            written += cursor.rowcount
            progress.report(min(start + CHUNK, len(rows)))
        if written != len(rows):  # someone entered a value for a new period after the check above
            _refuse_conflicts([f"{len(rows) - written} new period(s)"])
        _record_history(cursor, history)
        ImportBatch.objects.for_organization(organization).filter(pk=batch.pk).update(
            status=ImportStatus.DONE, written_rows=written, progress=len(rows), finished_at=timezone.now()
        )
        # The recompute requests, set-based from the staged rows, in this transaction (kpis/outbox.py).
        scores_recompute_request_from(
            cursor, organization_id=organization.pk, select_sql="SELECT kpi_id, period FROM import_staging"
        )
    return written


def import_batch_run(*, batch_id: int, organization: Organization) -> ImportBatch | None:
    """Write a confirmed batch (idempotent: a batch that is not waiting is left alone). A refusal marks the
    batch failed with the reason; nothing is written then."""
    batches = ImportBatch.objects.for_organization(organization).filter(pk=batch_id)
    stale = timezone.now() - STALE_RUN  # a worker killed mid-import rolled back; its redelivery may take over
    claimed = batches.filter(
        Q(status=ImportStatus.QUEUED) | Q(status=ImportStatus.RUNNING, started_at__lt=stale)
    ).update(status=ImportStatus.RUNNING, started_at=timezone.now(), progress=0)
    batch = batches.first()
    if not claimed:
        return batch
    progress = _Progress(batch.pk, enabled=len(batch.rows) > CHUNK)
    try:
        membership = _recheck(batch, organization)
        _write(batch, organization, membership.user, progress)
    except ImportRefused as error:
        _move(
            batch, ImportStatus.RUNNING, status=ImportStatus.FAILED, error=_message(error), finished_at=timezone.now()
        )
    except Exception:
        _move(
            batch, ImportStatus.RUNNING, status=ImportStatus.FAILED, finished_at=timezone.now(),
            error="The import failed unexpectedly; nothing was written. Try again or tell an administrator.",
        )  # fmt: skip
        raise
    finally:
        progress.close()
    batch.refresh_from_db()
    return batch


def import_batch_rows(*, batch: ImportBatch, limit: int = 200) -> list[dict]:
    """The first rows a batch writes, with the KPI and the value each replaces (two queries)."""
    rows = batch.rows[:limit]
    if not rows:
        return []
    organization = batch.organization_id
    kpis = Kpi.objects.for_organization(organization).in_bulk({row[0] for row in rows})
    current = {
        (kpi_id, period.isoformat()): value
        for kpi_id, period, value in Measurement.objects.for_organization(organization)
        .filter(kpi_id__in=kpis, period__in={row[1] for row in rows})
        .values_list("kpi_id", "period", "value")
    }
    shown = []
    for kpi_id, period, value, comment, version in rows:
        kpi = kpis.get(kpi_id)
        before = current.get((kpi_id, period))
        shown.append(
            {"code": kpi.code if kpi else "?", "name": kpi.name if kpi else "", "period": period[:7],
             "value": value, "comment": comment, "before": "" if before is None else f"{before.normalize():f}",
             "replaces": version is not None}
        )  # fmt: skip
    return shown
