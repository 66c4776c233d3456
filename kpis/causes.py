"""Explain the red (issue 17), one rule for the data-entry page, the bulk API and the import: an entered value that
scores red (amber too when the organization asks) needs its cause, kept in the measurement's comment, and, when the
value is new or changed, an action item: a new one (title, owner, due date) or an open one of the KPI, linked. Action
items are coaching's: kpis asks through kpis/events.py, inside the caller's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError

from bsc.models import Membership, Organization, OrgUnit, User
from bsc.permissions import may_own_action_item_of
from bsc.validation import echo
from kpis import events, scoring
from kpis.models import Kpi, Measurement, Target

CAUSE_MAX = 2000  # the comment, which holds a red value's cause
COMMENT_TOO_LONG = f"Keep the comment under {CAUSE_MAX} characters."
TITLE_MAX = 200  # coaching.ActionItem.title
ASKED = {"red": "red_requires_comment", "amber": "amber_requires_cause"}  # status → the organization's setting
CAUSE_MISSING = "cause missing"
_ISO_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
)  # how an import names the values it was told to take without a cause


@dataclass(frozen=True)
class ActionPlan:
    """The action item a red value names: a new one (title, owner, due date) or an open one linked (`link_id`)."""

    title: str = ""
    owner_id: int | None = None
    due_date: date | None = None
    link_id: int | None = None

    @property
    def given(self) -> bool:
        return self.link_id is not None or self.owner_id is not None or self.due_date is not None

    @property
    def is_link(self) -> bool:
        return self.link_id is not None


def parse_due_date(text: object) -> date:
    """An action item's due date as typed or sent: YYYY-MM-DD; anything else is refused, naming the field."""
    if isinstance(text, date):
        return text
    raw = str(text if text is not None else "").strip()
    try:
        if not _ISO_DATE.fullmatch(raw):  # fromisoformat also reads '20261201' and week dates
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(
            {"action_due_date": f"The action item's due date “{echo(raw)}” is not a date; write it as YYYY-MM-DD."}
        ) from None


def thresholds(kpi: Kpi, organization: Organization) -> tuple[Decimal, Decimal]:
    """The KPI's green and amber thresholds (its own, or the organization's)."""
    return (
        kpi.green_threshold if kpi.green_threshold is not None else organization.green_threshold,
        kpi.amber_threshold if kpi.amber_threshold is not None else organization.amber_threshold,
    )


def value_status(
    kpi: Kpi, *, value: Decimal | None, target: Decimal | None, organization: Organization
) -> tuple[Decimal | None, str]:
    """The score and status `value` gives against the period's `target` (section 5 of DESIGN.md)."""
    progress = scoring.kpi_progress(
        direction=kpi.direction, baseline=kpi.baseline, target=target, actual=value,
        band_low=kpi.band_low, band_high=kpi.band_high, band_tolerance=kpi.band_tolerance,
    )  # fmt: skip
    score = scoring.kpi_score(progress)
    green, amber = thresholds(kpi, organization)
    return score, scoring.status_of(score, green=green, amber=amber)


def cause_asked(organization: Organization, status: str) -> bool:
    """Whether a value of this status needs a cause and an action item in this organization."""
    setting = ASKED.get(status)
    return setting is not None and bool(getattr(organization, setting))


def cause_message(status: str) -> str:
    return f"Give the cause of the {status} value."


def action_message(status: str) -> str:
    return f"Name an action item for the {status} value (owner and due date) or link an open one."


def default_title(kpi: Kpi) -> str:
    return f"Bring {kpi.code} {kpi.name} back on target"[:TITLE_MAX]


@dataclass(frozen=True)
class Stored:
    """What a period holds before a save: the target and the current value and comment (None: no value)."""

    target: Decimal | None
    value: Decimal | None
    comment: str | None
    version: int | None = None


def stored_for(organization: Organization, pairs: Iterable[tuple[Kpi, date]]) -> dict[tuple[int, date], Stored]:
    """The targets and current values of (KPI, period) pairs, in two queries whatever their number."""
    pairs = list(pairs)
    ids, periods = {kpi.pk for kpi, _ in pairs}, {period for _, period in pairs}
    if not pairs:
        return {}
    targets = {
        (kpi_id, period): value
        for kpi_id, period, value in Target.objects.for_organization(organization)
        .filter(kpi_id__in=ids, period__in=periods)
        .values_list("kpi_id", "period", "value")
    }
    values = {
        (kpi_id, period): (value, comment, version)
        for kpi_id, period, value, comment, version in Measurement.objects.for_organization(organization)
        .filter(kpi_id__in=ids, period__in=periods)
        .values_list("kpi_id", "period", "value", "comment", "version")
    }
    return {
        (kpi.pk, period): Stored(targets.get((kpi.pk, period)), *values.get((kpi.pk, period), (None, None, None)))
        for kpi, period in pairs
    }


def explanation_problems(
    *,
    organization: Organization,
    kpi: Kpi,
    value: Decimal,
    comment: str,
    stored: Stored,
    action: ActionPlan | None,
    by: User | None,
    cause_missing: bool = False,
    with_action: bool = True,
) -> dict[str, list[str]]:
    """What the value still needs before it may be saved, by field (`comment`, `action_item`, `action_owner`,
    `action_due_date`, `action_title`); empty when nothing. The one decision the page, the bulk API and the import
    share. A value the period already holds with the same comment asks nothing (nothing is written); a changed
    comment must keep a cause; a new or changed value needs an action item too. `cause_missing` (the import's explicit
    choice) takes the value without a cause or an action item; an import asks no action item (`with_action`)."""
    comment = (comment or "").strip()
    errors: dict[str, list[str]] = {}
    if len(comment) > CAUSE_MAX:  # refused as the API's serializer and the import refuse it, alone
        return {"comment": [COMMENT_TOO_LONG]}
    _, status = value_status(kpi, value=value, target=stored.target, organization=organization)
    value_changed = stored.value is None or stored.value != value
    if not cause_asked(organization, status) or cause_missing:
        return errors
    if not value_changed and comment == (stored.comment or ""):
        return errors
    if not comment:
        errors["comment"] = [cause_message(status)]
    if not value_changed or not with_action:
        return errors
    if action is None or not action.given:
        errors["action_item"] = [action_message(status)]
        return errors
    for answer in events.red_action_problems.send(organization=organization, kpi=kpi, action=action, by=by):
        for field, messages in answer.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def needs_action(*, organization: Organization, kpi: Kpi, value: Decimal, stored: Stored, cause_missing: bool) -> bool:
    """Whether saving `value` creates or links an action item (the rule of `explanation_problems`)."""
    _, status = value_status(kpi, value=value, target=stored.target, organization=organization)
    value_changed = stored.value is None or stored.value != value
    return cause_asked(organization, status) and value_changed and not cause_missing


def action_record(*, organization: Organization, kpi: Kpi, action: ActionPlan, by: User) -> None:
    """Create or link the value's action item, in the caller's transaction (a refusal raises ValidationError)."""
    events.red_action_record.send(organization=organization, kpi=kpi, action=action, by=by)


def open_action_items(*, organization: Organization, kpis: list[Kpi]) -> dict[int, list]:
    """The open action items of each KPI, by KPI id (what a red value may be linked to)."""
    found: dict[int, list] = {}
    for answer in events.open_action_items.send(organization=organization, kpis=kpis):
        for kpi_id, items in answer.items():
            found.setdefault(kpi_id, []).extend(items)
    return found


def kpis_with_open_action(*, organization: Organization, kpi_ids: Iterable[int]) -> set[int]:
    kpi_ids = set(kpi_ids)
    if not kpi_ids:
        return set()
    return set().union(*events.kpis_with_open_action.send(organization=organization, kpi_ids=kpi_ids))


def owner_choices(*, organization: Organization, units: Iterable[OrgUnit]) -> dict[int, list[User]]:
    """The members who may own an action item of each unit, by unit id, by name (two queries, whatever the number
    of members and units)."""
    memberships = list(
        Membership.objects.for_organization(organization)
        .select_related("user")
        .prefetch_related("units")
        .order_by("user__full_name", "user__email")
    )
    return {
        unit.pk: [m.user for m in memberships if may_own_action_item_of(m, unit)]
        for unit in {u.pk: u for u in units}.values()
    }
