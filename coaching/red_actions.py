"""coaching's answers to kpis' questions about the action item a red value names (kpis/events.py, issue 17): check
it, create it or link an open one, inside the caller's transaction, and say which KPIs have an open item. Subscribed
in CoachingConfig.ready()."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q

from bsc.models import Membership, Organization, User
from bsc.permissions import may_own_action_item_of, may_own_action_items
from bsc.validation import echo
from coaching import services
from coaching.models import ActionItem, ActionItemStatus
from kpis.causes import TITLE_MAX, ActionPlan, default_title
from kpis.models import Kpi

# The fields of action_item_create's refusals as the red value's form and API name them.
FIELDS = {"owner": "action_owner", "due_date": "action_due_date", "title": "action_title"}


def _open_items(organization: Organization):
    return ActionItem.objects.for_organization(organization).filter(status=ActionItemStatus.OPEN)


def _linkable(organization: Organization, kpi: Kpi, link_id: int, *, lock: bool = False) -> ActionItem | None:
    """An open item of the KPI, or of its unit without a KPI yet (locked while it is linked)."""
    items = _open_items(organization).filter(Q(kpi=kpi) | Q(kpi__isnull=True, unit_id=kpi.unit_id), pk=link_id)
    return (items.select_for_update(of=("self",)) if lock else items).first()


def owner_problem(organization: Organization, kpi: Kpi, owner_id: int) -> str | None:
    """Why this member may not own an action item of the KPI's unit, or None (the red value's rule, also the KPI
    page's panel's)."""
    membership = (
        Membership.objects.for_organization(organization).filter(user_id=owner_id).select_related("user").first()
    )
    if membership is None:
        return f"No member of this organization has the id {echo(owner_id)}; choose the owner among its members."
    name = membership.user.display_name
    if not may_own_action_items(membership):
        return (
            f"{name} is a {membership.get_role_display().lower()} here and cannot own an action item; choose a member "
            "who may mark it done."
        )
    if not may_own_action_item_of(membership, kpi.unit):
        return f"{name} is not a member of {kpi.unit.name}; choose an owner from {kpi.unit.name} or an organization-wide role."
    return None


def red_action_problems(*, organization: Organization, kpi: Kpi, action: ActionPlan, by: User) -> dict[str, list[str]]:
    """What is wrong with the action item a red value names (kpis.events.red_action_problems); writes nothing."""
    if action.is_link:
        if _linkable(organization, kpi, action.link_id) is None:
            return {
                "action_item": [
                    f"Action item {echo(action.link_id)} is not an open action item of {kpi.code} or its unit; link "
                    "an open one or name a new one."
                ]
            }
        return {}
    errors: dict[str, list[str]] = {}
    if len(action.title or "") > TITLE_MAX:
        errors["action_title"] = [f"Keep the action item's title under {TITLE_MAX} characters."]
    if action.owner_id is None:
        errors["action_owner"] = ["Choose the owner of the action item."]
    elif problem := owner_problem(organization, kpi, action.owner_id):
        errors["action_owner"] = [problem]
    if action.due_date is None:
        errors["action_due_date"] = ["Give the action item's due date (YYYY-MM-DD)."]
    elif problem := services.due_date_problem(organization, action.due_date):
        errors["action_due_date"] = [problem]
    return errors


def red_action_record(*, organization: Organization, kpi: Kpi, action: ActionPlan, by: User) -> ActionItem:
    """Create the red value's action item, or link the open one to the KPI (kpis.events.red_action_record)."""
    problems = red_action_problems(organization=organization, kpi=kpi, action=action, by=by)
    if problems:
        raise ValidationError(problems)
    if action.is_link:
        item = _linkable(organization, kpi, action.link_id, lock=True)
        if item is None:  # closed meanwhile
            raise ValidationError(
                {"action_item": [f"Action item {action.link_id} was closed meanwhile; link another."]}
            )
        if item.kpi_id is None:
            item.kpi = kpi
            item.save(update_fields=["kpi"])
        return item
    owner = User.objects.get(pk=action.owner_id)
    try:
        return services.action_item_create(
            organization=organization, title=(action.title or "").strip() or default_title(kpi), owner=owner,
            due_date=action.due_date, created_by=by, unit=kpi.unit, kpi=kpi,
        )  # fmt: skip
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            raise
        raise ValidationError({FIELDS.get(f, f): messages for f, messages in error.message_dict.items()}) from None


def open_action_items(*, organization: Organization, kpis: list[Kpi]) -> dict[int, list[ActionItem]]:
    """The open items each KPI may be linked to: its own, and its unit's without a KPI (kpis.events.open_action_items).
    One query."""
    ids, units = {kpi.pk for kpi in kpis}, {kpi.unit_id for kpi in kpis}
    if not ids:
        return {}
    items = list(
        _open_items(organization)
        .filter(Q(kpi_id__in=ids) | Q(kpi__isnull=True, unit_id__in=units))
        .select_related("owner")
        .order_by("due_date", "id")
    )
    return {
        kpi.pk: [
            item for item in items if item.kpi_id == kpi.pk or (item.kpi_id is None and item.unit_id == kpi.unit_id)
        ]
        for kpi in kpis
    }


def kpis_with_open_action(*, organization: Organization, kpi_ids: set[int]) -> set[int]:
    """Which of these KPIs have an open action item (kpis.events.kpis_with_open_action). One query."""
    return set(_open_items(organization).filter(kpi_id__in=kpi_ids).values_list("kpi_id", flat=True))
