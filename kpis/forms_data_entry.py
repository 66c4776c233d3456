"""Reading the data-entry page's POST: the decimal separator and, per KPI row, the typed value (parsed with
`kpis.services.parse_number`), the comment and the version the row was loaded with."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError

from bsc.models import DecimalSeparator
from kpis.services import parse_number

SEPARATORS = dict(DecimalSeparator.choices)
COMMENT_MAX = 2000


@dataclass
class RowInput:
    """What the person sent for one KPI row; `value` is None when the cell was left empty or is not a
    number (then `errors` says why)."""

    kpi_id: int
    value_text: str
    comment: str
    version: int | None
    value: Decimal | None = None
    errors: list[str] = field(default_factory=list)


def read_separator(data, default: str = ".") -> str:
    """The page's decimal separator toggle; anything unexpected falls back to `default`."""
    separator = data.get("decimal_separator", default)
    return separator if separator in SEPARATORS else default


def read_kpi_ids(data) -> list[int]:
    """The KPI ids of the rows the form carried, in page order; a tampered id is refused."""
    ids = []
    for text in data.getlist("kpi"):
        try:
            ids.append(int(text))
        except ValueError:
            raise ValidationError(f"“{text}” is not a KPI id.") from None
    return list(dict.fromkeys(ids))


def read_row(data, kpi_id: int, *, separator: str) -> RowInput:
    value_text = (data.get(f"value-{kpi_id}") or "").strip()
    comment = (data.get(f"comment-{kpi_id}") or "").strip()
    version_text = (data.get(f"version-{kpi_id}") or "").strip()
    row = RowInput(kpi_id=kpi_id, value_text=value_text, comment=comment, version=None)
    try:
        row.version = int(version_text) if version_text else None
    except ValueError:
        row.errors.append("The page sent a broken version; reload the page.")
    if len(comment) > COMMENT_MAX:
        row.errors.append(f"Keep the comment under {COMMENT_MAX} characters.")
    if value_text:
        try:
            row.value = parse_number(value_text, decimal_separator=separator)
        except ValidationError as error:
            row.errors.extend(error.messages)
    return row
