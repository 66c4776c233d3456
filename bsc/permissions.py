"""The permission matrix of DESIGN.md section 8, in one place.

`can(membership, action, unit=..., owner=..., coach=...)` answers for every page, API view and service.
Department heads are limited to their units and the units below them; coaches to their own sessions.
"""

from __future__ import annotations

import enum
import operator
from dataclasses import dataclass
from functools import reduce

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from bsc.models import Membership, OrgUnit, Role


class Action(enum.Enum):
    MANAGE_ORGANIZATION = "members, roles, invitations and organization settings"
    EDIT_STRATEGY = "units, strategy map, KPI definitions and targets"
    ENTER_MEASUREMENTS = "enter measurements"
    WRITE_COACHING = "write coaching sessions and notes"
    READ_COACHING = "read coaching sessions and notes"
    WRITE_ACTION_ITEMS = "create and edit action items"
    UPDATE_ACTION_ITEM_STATUS = "update the status of an action item"
    READ = "read dashboards and maps"


_EVERYONE = frozenset(Role)

# Roles allowed each action without conditions; conditional grants are in `can` below.
MATRIX: dict[Action, frozenset[Role]] = {
    Action.MANAGE_ORGANIZATION: frozenset({Role.ADMIN}),
    Action.EDIT_STRATEGY: frozenset({Role.ADMIN, Role.EXECUTIVE}),
    Action.ENTER_MEASUREMENTS: frozenset({Role.ADMIN, Role.EXECUTIVE}),
    Action.WRITE_COACHING: frozenset({Role.ADMIN}),
    Action.READ_COACHING: frozenset({Role.ADMIN, Role.EXECUTIVE}),
    Action.WRITE_ACTION_ITEMS: frozenset({Role.ADMIN, Role.EXECUTIVE, Role.COACH}),
    Action.UPDATE_ACTION_ITEM_STATUS: frozenset({Role.ADMIN, Role.EXECUTIVE, Role.COACH}),
    Action.READ: _EVERYONE,
}


def scoped_unit_ids(membership: Membership) -> set[int]:
    """Ids of the units a department head is scoped to, with every unit below them."""
    cached = getattr(membership, "_scoped_unit_ids", None)
    if cached is not None:
        return cached
    roots = list(membership.units.values_list("path", flat=True))
    ids: set[int] = set()
    if roots:
        query = Q()
        for path in roots:
            query |= Q(path__startswith=path)
        ids = set(
            OrgUnit.objects.for_organization(membership.organization_id).filter(query).values_list("id", flat=True)
        )
    membership._scoped_unit_ids = ids
    return ids


def can(
    membership: Membership | None,
    action: Action,
    *,
    unit: OrgUnit | int | None = None,
    owner_id: int | None = None,
    coach_id: int | None = None,
) -> bool:
    """Whether the member may do `action`; `unit`, `owner_id` and `coach_id` describe the object."""
    if membership is None:
        return False
    role = Role(membership.role)
    if role in MATRIX[action]:
        return True
    unit_id = unit.pk if isinstance(unit, OrgUnit) else unit
    in_own_units = unit_id is not None and unit_id in scoped_unit_ids(membership)
    owns_it = owner_id is not None and owner_id == membership.user_id
    if role == Role.DEPARTMENT_HEAD:
        if action is Action.ENTER_MEASUREMENTS:
            return in_own_units or owns_it
        if action in (Action.READ_COACHING, Action.WRITE_ACTION_ITEMS):
            return in_own_units
        if action is Action.UPDATE_ACTION_ITEM_STATUS:
            return in_own_units or owns_it
    if role == Role.COACH and action in (Action.WRITE_COACHING, Action.READ_COACHING):
        return coach_id is not None and coach_id == membership.user_id
    return False


def require(membership: Membership | None, action: Action, **obj) -> None:
    """Raise PermissionDenied (HTTP 403) unless `can(...)`."""
    if not can(membership, action, **obj):
        raise PermissionDenied(f"Your role may not {action.value}.")


def require_on_some(membership: Membership | None, action: Action) -> None:
    """Raise PermissionDenied (HTTP 403) unless the member may do `action` on at least some objects: for pages
    that only make sense to such members (data entry, coaching)."""
    if not can_on_some(membership, action):
        raise PermissionDenied(f"Your role may not {action.value}.")


# What each role may do, in the words of the 403 page and the README (section 8 of DESIGN.md).
ROLE_ALLOWS: dict[Role, str] = {
    Role.ADMIN: "everything in this organization",
    Role.EXECUTIVE: (
        "read everything, edit units, the strategy map, KPIs and targets, enter KPI values, read coaching "
        "sessions and manage action items"
    ),
    Role.DEPARTMENT_HEAD: (
        "read the strategy map, scorecards and KPIs, enter KPI values and read coaching sessions of your units, "
        "and manage their action items"
    ),
    Role.COACH: "read the strategy map, scorecards and KPIs, run your own coaching sessions and manage action items",
    Role.VIEWER: (
        "read the strategy map, scorecards, KPIs and their exports; not coaching sessions, action items or data entry"
    ),
}


def role_allows(membership: Membership | None) -> str:
    """One sentence saying what the member's role allows (empty without a membership)."""
    if membership is None:
        return ""
    role = Role(membership.role)
    return f"As {'an' if role.label[0] in 'AEIOU' else 'a'} {role.label.lower()} you may {ROLE_ALLOWS[role]}."


def can_on_some(membership: Membership | None, action: Action) -> bool:
    """Whether the member may do `action` on at least some objects (a department head on their units' or
    own KPIs): for pages such as the import that then check each object with `can`."""
    if membership is None:
        return False
    return _role_on_some(Role(membership.role), action)


def _role_on_some(role: Role, action: Action) -> bool:
    if role in MATRIX[action]:
        return True
    if role == Role.DEPARTMENT_HEAD:
        return action in (
            Action.ENTER_MEASUREMENTS, Action.READ_COACHING, Action.WRITE_ACTION_ITEMS,
            Action.UPDATE_ACTION_ITEM_STATUS,
        )  # fmt: skip
    return role == Role.COACH and action in (Action.WRITE_COACHING, Action.READ_COACHING)


# --- List questions: which objects may a member act on? ---------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The objects of an action a member may act on: every one (`everything`), or those in `unit_ids`, those
    whose coach is `coach_id` and those whose owner is `owner_id`; with none of these, none."""

    everything: bool = False
    unit_ids: frozenset[int] = frozenset()
    coach_id: int | None = None
    owner_id: int | None = None

    @property
    def only_units(self) -> set[int] | None:
        """The unit ids, or None for every unit."""
        return None if self.everything else set(self.unit_ids)

    def covers(
        self, *, unit: OrgUnit | int | None = None, owner_id: int | None = None, coach_id: int | None = None
    ) -> bool:
        """Whether an object (described as for `can`) is in this scope."""
        unit_id = unit.pk if isinstance(unit, OrgUnit) else unit
        return (
            self.everything
            or (unit_id is not None and unit_id in self.unit_ids)
            or (owner_id is not None and owner_id == self.owner_id)
            or (coach_id is not None and coach_id == self.coach_id)
        )

    def apply(self, rows: QuerySet, *, unit: str = "unit", coach: str = "coach", owner: str = "owner") -> QuerySet:
        """`rows` limited to this scope; `unit`, `coach` and `owner` name the rows' fields."""
        if self.everything:
            return rows
        conditions = []
        if self.unit_ids:
            conditions.append(Q(**{f"{unit}__in": self.unit_ids}))
        if self.coach_id is not None:
            conditions.append(Q(**{coach: self.coach_id}))
        if self.owner_id is not None:
            conditions.append(Q(**{owner: self.owner_id}))
        if not conditions:
            return rows.none()
        return rows.filter(reduce(operator.or_, conditions))


def scope(membership: Membership | None, action: Action) -> Scope:
    """Which objects the member may do `action` on: every one for the roles allowed it without conditions,
    a department head's units (and, for values and item status, what they own), a coach's own sessions."""
    if membership is None:
        return Scope()
    role = Role(membership.role)
    if role in MATRIX[action]:
        return Scope(everything=True)
    if role == Role.DEPARTMENT_HEAD:
        units = frozenset(scoped_unit_ids(membership))
        if action in (Action.ENTER_MEASUREMENTS, Action.UPDATE_ACTION_ITEM_STATUS):
            return Scope(unit_ids=units, owner_id=membership.user_id)
        if action in (Action.READ_COACHING, Action.WRITE_ACTION_ITEMS):
            return Scope(unit_ids=units)
    if role == Role.COACH and action in (Action.WRITE_COACHING, Action.READ_COACHING):
        return Scope(coach_id=membership.user_id)
    return Scope()


def visible_action_items(membership: Membership | None) -> Scope:
    """The action items the member sees: those they may edit, and everyone their own."""
    editable = scope(membership, Action.WRITE_ACTION_ITEMS)
    if editable.everything or membership is None:
        return editable
    return Scope(unit_ids=frozenset(scoped_unit_ids(membership)), owner_id=membership.user_id)


def roles_on_some(action: Action) -> tuple[Role, ...]:
    """The roles that may do `action` on at least some objects, in the order of `Role` (for SQL that selects
    members by role, such as the reminders of values to enter)."""
    return tuple(role for role in Role if _role_on_some(role, action))


def sql_roles_on_some(action: Action) -> str:
    """`roles_on_some(action)` as an SQL list of literals: `('admin', 'executive')`."""
    return "(" + ", ".join(f"'{role.value}'" for role in roles_on_some(action)) + ")"


def action_item_owner_roles() -> tuple[Role, ...]:
    """The roles whose members may own an action item: those who may mark at least their own items done (a
    viewer changes nothing, so an item owned by one could never be closed)."""
    return roles_on_some(Action.UPDATE_ACTION_ITEM_STATUS)


def may_own_action_items(membership: Membership | None) -> bool:
    """Whether this member may be named the owner of an action item."""
    return membership is not None and Role(membership.role) in action_item_owner_roles()


def may_own_action_item_of(membership: Membership | None, unit: OrgUnit | None) -> bool:
    """Whether this member may own an action item of `unit` (a red value's action): one of the roles that may own
    action items, and a department head only for their units and those below them (read from `membership.units`, so
    a list of memberships with their units prefetched is answered without a query each)."""
    if not may_own_action_items(membership):
        return False
    if Role(membership.role) != Role.DEPARTMENT_HEAD or unit is None:
        return True
    return any(unit.path.startswith(root.path) for root in membership.units.all())


def may_approve_values_of(membership: Membership | None, unit: OrgUnit | None) -> bool:
    """Whether this member may be named the approver of a KPI of `unit` (issue 17): someone who may enter that unit's
    values themselves (an admin, an executive, or a department head of the unit or a unit above it), so that accepting
    a value never gives more say over the scores than entering it. Read from `membership.units`, like
    `may_own_action_item_of`, so a list of memberships with their units prefetched needs no query each."""
    if membership is None or Role(membership.role) not in roles_on_some(Action.ENTER_MEASUREMENTS):
        return False
    if Role(membership.role) in MATRIX[Action.ENTER_MEASUREMENTS]:
        return True
    return unit is not None and any(unit.path.startswith(root.path) for root in membership.units.all())


# Approval of values (issue 17): while an organization asks for it, a department head's values wait for review; an
# admin reviews any value, anyone else only the values of the KPIs they approve, while they may enter that unit's.
VALUES_REVIEWED_ROLES: frozenset[Role] = frozenset({Role.DEPARTMENT_HEAD})
REVIEW_ANY_VALUE_ROLES: frozenset[Role] = frozenset({Role.ADMIN})


def values_wait_for_review(role: str | None) -> bool:
    """Whether values entered by a member of this role (None: not a member) wait for review, when the organization
    asks for approval."""
    return role is not None and Role(role) in VALUES_REVIEWED_ROLES


def may_review_any_value(membership: Membership | None) -> bool:
    """Whether the member accepts or returns any submitted value of the organization."""
    return membership is not None and Role(membership.role) in REVIEW_ANY_VALUE_ROLES


def may_review_values_of(membership: Membership | None, unit: OrgUnit | None, *, approver_id: int | None) -> bool:
    """Whether the member accepts or returns the submitted values of a KPI of `unit` whose approver is
    `approver_id`: an admin, or that approver while they may enter the unit's values (an owner who became a viewer,
    or a head moved to other units, no longer does)."""
    if may_review_any_value(membership):
        return True
    return membership is not None and membership.user_id == approver_id and may_approve_values_of(membership, unit)


def may_schedule(membership: Membership | None) -> bool:
    """Whether the member may schedule sessions and set up cadences (for themselves as coach at least)."""
    return can_on_some(membership, Action.WRITE_COACHING)


def may_schedule_for_any_coach(membership: Membership | None) -> bool:
    """Whether the member may schedule sessions and cadences for any coach, not only themselves."""
    return can(membership, Action.WRITE_COACHING)


def two_factor_satisfied(membership: Membership, *, verified: bool) -> bool:
    """Whether a member may reach the organization: one that requires two-factor authentication admits a
    session only once it passed a second factor (`verified`). Callers pass verified=True for personal API
    tokens: scripts cannot answer a second factor, and a token is a long random secret of its own."""
    return verified or not membership.organization.require_two_factor


# Roles whose organization home is the executive dashboard (issue 16); department heads keep their data entry and
# action items first, viewers the unit list. Everyone may read the dashboard (Action.READ).
DASHBOARD_FIRST: frozenset[Role] = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.COACH})


def sees_dashboard_first(membership: Membership | None) -> bool:
    """Whether the member's organization home is the executive dashboard."""
    return membership is not None and Role(membership.role) in DASHBOARD_FIRST


# Roles that prepare the monthly review and may ask for and download its review packs (issue 16): a pack carries
# the unit's coaching notes and action items, so not department heads (their own units' notes only) nor viewers.
REVIEW_PACK_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.COACH})
REVIEW_PACKS = "request and download review packs"


def may_review_packs(membership: Membership | None) -> bool:
    """Whether the member may ask for review packs and download them."""
    return membership is not None and Role(membership.role) in REVIEW_PACK_ROLES


def require_review_packs(membership: Membership | None) -> None:
    """Raise PermissionDenied (HTTP 403) unless `may_review_packs`."""
    if not may_review_packs(membership):
        raise PermissionDenied(f"Your role may not {REVIEW_PACKS}.")


# Who closes a month for a unit and its sub-units (after the close checklist) and who may reopen it (issue 17):
# a closed month locks its values, targets and scores, so reopening is the admin's alone.
PERIOD_CLOSE_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.EXECUTIVE})
PERIOD_REOPEN_ROLES: frozenset[Role] = frozenset({Role.ADMIN})


def may_close_periods(membership: Membership | None) -> bool:
    """Whether the member may close a month for a unit and its sub-units, or for the whole organization."""
    return membership is not None and Role(membership.role) in PERIOD_CLOSE_ROLES


def may_reopen_periods(membership: Membership | None) -> bool:
    """Whether the member may reopen a closed month (with a reason)."""
    return membership is not None and Role(membership.role) in PERIOD_REOPEN_ROLES


# Comments (issue 18): every role but viewers may comment on what it may read; an author edits and deletes their own
# comments, an admin may delete anyone's (a viewer "changes nothing", so not even a comment).
COMMENT_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.COACH})
COMMENT = "write comments"


def may_comment(membership: Membership | None) -> bool:
    """Whether the member may post comments (on the items they may read)."""
    return membership is not None and Role(membership.role) in COMMENT_ROLES


def may_edit_comment(membership: Membership | None, *, author_id: int | None) -> bool:
    """Whether the member may change a comment's text: their own only."""
    return may_comment(membership) and author_id is not None and author_id == membership.user_id


def may_delete_comment(membership: Membership | None, *, author_id: int | None) -> bool:
    """Whether the member may delete a comment: their own, or anyone's as an admin."""
    return may_edit_comment(membership, author_id=author_id) or can(membership, Action.MANAGE_ORGANIZATION)
