"""Reads shared by the coaching pages and the API, always for one organization, with related rows loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet
from django.utils import timezone

from bsc.models import Membership, Organization, Role, User
from bsc.permissions import scoped_unit_ids
from coaching.models import ActionItem, ActionItemStatus, CoachingSession, Notification, SessionStatus


def session_list(*, organization: Organization, membership: Membership) -> QuerySet[CoachingSession]:
    """The sessions this member may read: admins and executives all, department heads those of their
    units, coaches their own, viewers none."""
    sessions = (
        CoachingSession.objects.for_organization(organization)
        .select_related("unit", "coach")
        .prefetch_related("participants")
    )
    role = membership.role
    if role in (Role.ADMIN, Role.EXECUTIVE):
        return sessions
    if role == Role.DEPARTMENT_HEAD:
        return sessions.filter(unit__in=scoped_unit_ids(membership))
    if role == Role.COACH:
        return sessions.filter(coach=membership.user_id)
    return sessions.none()


def session_upcoming_and_recent(*, organization: Organization, membership: Membership, recent: int = 20):
    sessions = session_list(organization=organization, membership=membership)
    now = timezone.now()
    upcoming = sessions.filter(status=SessionStatus.SCHEDULED, scheduled_at__gte=now).order_by("scheduled_at")
    past = sessions.filter(Q(scheduled_at__lt=now) | ~Q(status=SessionStatus.SCHEDULED)).order_by("-scheduled_at")
    return list(upcoming), list(past[:recent])


def session_previous(*, session: CoachingSession) -> CoachingSession | None:
    """The unit's last session before this one that was not cancelled."""
    return (
        CoachingSession.objects.for_organization(session.organization_id)
        .filter(unit=session.unit_id, scheduled_at__lt=session.scheduled_at)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("-scheduled_at", "-id")
        .first()
    )


def action_item_list(*, organization: Organization) -> QuerySet[ActionItem]:
    return ActionItem.objects.for_organization(organization).select_related(
        "owner", "unit", "session", "kpi", "objective", "initiative"
    )


def action_item_open_for_user(*, organization: Organization, user: User) -> list[ActionItem]:
    """The user's open items by due date, each with `.overdue` (in the organization's time zone)."""
    today = timezone.localtime(timezone.now(), ZoneInfo(organization.time_zone)).date()
    items = list(action_item_list(organization=organization).filter(owner=user, status=ActionItemStatus.OPEN))
    for item in items:
        item.overdue = item.is_overdue(today)
    return items


@dataclass
class BoardGroup:
    label: str
    items: list[ActionItem] = field(default_factory=list)
    overdue: int = 0


def action_item_board(
    *,
    organization: Organization,
    group_by: str,
    today: date,
    show_closed: bool = False,
    only_units: set[int] | None = None,
    or_owner: User | None = None,
) -> list[BoardGroup]:
    """Action items grouped by owner or by unit (by due date), with overdue counts; `only_units` limits
    them to those units' items (and `or_owner`'s own) for department heads."""
    items = action_item_list(organization=organization)
    if only_units is not None:
        items = items.filter(Q(unit__in=only_units) | Q(owner=or_owner))
    if not show_closed:
        items = items.filter(status=ActionItemStatus.OPEN)
    groups: dict[object, BoardGroup] = {}
    for item in items.order_by("due_date", "id"):
        if group_by == "unit":
            key, label = item.unit_id, item.unit.name if item.unit else "No unit"
        else:
            key, label = item.owner_id, item.owner.display_name
        group = groups.setdefault(key, BoardGroup(label))
        item.overdue = item.is_overdue(today)
        group.items.append(item)
        group.overdue += item.overdue
    return sorted(groups.values(), key=lambda g: g.label.lower())


# --- Notifications ---------------------------------------------------------------------------------------


def notification_list(*, organization: Organization, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's inbox in one organization, newest first."""
    notifications = Notification.objects.for_organization(organization).filter(recipient=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def notification_unread_count(*, organization: Organization, user: User) -> int:
    return notification_list(organization=organization, user=user, unread_only=True).count()
