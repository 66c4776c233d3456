"""Reading the data-entry page's POST: the decimal separator and, per KPI row, the typed value (parsed with
`kpis.services.parse_number`), the comment (a red value's cause), the version the row was loaded with and the action
item a red value names (kpis/causes.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError

from bsc.models import DecimalSeparator
from bsc.validation import echo
from kpis.causes import ActionPlan, parse_due_date
from kpis.services import parse_number

SEPARATORS = dict(DecimalSeparator.choices)


@dataclass
class RowInput:
    """What the person sent for one KPI row; `value` is None when the cell was left empty or is not a
    number (then `errors` says why)."""

    kpi_id: int
    value_text: str
    comment: str
    version: int | None
    value: Decimal | None = None
    action: ActionPlan = field(default_factory=ActionPlan)
    action_shown: str = ""  # the status the page's action item fields were shown for ('' when none are shown)
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
    row.action = read_action(data, kpi_id, row.errors)
    row.action_shown = (data.get(f"action_shown-{kpi_id}") or "").strip()
    if value_text:
        try:
            row.value = parse_number(value_text, decimal_separator=separator)
        except ValidationError as error:
            row.errors.extend(error.messages)
    return row


def _id(text: str, noun: str, errors: list[str]) -> int | None:
    if not text:
        return None
    if text.isdigit():
        return int(text)
    errors.append(f"The page sent a broken {noun} (“{echo(text)}”); reload the page.")
    return None


def read_action(data, kpi_id: int, errors: list[str]) -> ActionPlan:
    """The action item a red row names: an open one to link (`action_item-<id>`), or a new one's title, owner and
    due date. An unreadable due date is refused here, naming the field; the rest is checked by kpis/causes.py."""
    due_text = (data.get(f"action_due-{kpi_id}") or "").strip()
    due = None
    if due_text:
        try:
            due = parse_due_date(due_text)
        except ValidationError as error:
            errors.extend(error.messages)
    return ActionPlan(
        title=(data.get(f"action_title-{kpi_id}") or "").strip(),
        owner_id=_id((data.get(f"action_owner-{kpi_id}") or "").strip(), "action item owner", errors),
        due_date=due,
        link_id=_id((data.get(f"action_item-{kpi_id}") or "").strip(), "action item", errors),
    )
