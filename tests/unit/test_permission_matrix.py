"""The permission matrix of DESIGN.md section 8, cell by cell, against bsc.permissions.

Each cell is its own test case: for every action of its row, the cell names the objects the role may act on
(another unit's, one of the department head's units, one the member owns, a coaching session the member
coaches), and the yes/no question (`can`), the "on some" question (`can_on_some`) and the list question
(`scope`) must all agree with it. `pytest -s` prints the matrix as the module answers it.
"""

from __future__ import annotations

import pytest

from bsc.models import Role
from bsc.permissions import (
    Action,
    can,
    can_on_some,
    may_review_packs,
    may_schedule,
    may_schedule_for_any_coach,
    roles_on_some,
    scope,
    sees_dashboard_first,
    sql_roles_on_some,
    visible_action_items,
)
from bsc.tenancy import organization_scope
from tests import factories

A, E, D, C, V = Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.COACH, Role.VIEWER
COLUMNS = (A, E, D, C, V)
COLUMN_TITLES = ("admin", "executive", "department head", "coach", "viewer")

# The objects a cell is checked on.
OTHER = "another unit's, owned and coached by someone else"
OWN_UNIT = "in the department head's units (or the unit below)"
OWNED = "another unit's, owned by the member"
OWN_SESSION = "another unit's, coached by the member"
OBJECTS = (OTHER, OWN_UNIT, OWNED, OWN_SESSION)
ALL, NONE = frozenset(OBJECTS), frozenset()

MO, ES, EM = Action.MANAGE_ORGANIZATION, Action.EDIT_STRATEGY, Action.ENTER_MEASUREMENTS
WC, RC = Action.WRITE_COACHING, Action.READ_COACHING
WA, US = Action.WRITE_ACTION_ITEMS, Action.UPDATE_ACTION_ITEM_STATUS
R = Action.READ


def yes(*actions):
    return ("yes", {action: ALL for action in actions})


def no(*actions):
    return ("no", {action: NONE for action in actions})


# row -> (its actions, {role: (the cell as DESIGN.md writes it, {action: the objects allowed})})
MATRIX = {
    "members, roles, org settings": {A: yes(MO), E: no(MO), D: no(MO), C: no(MO), V: no(MO)},
    "units, strategy map, KPI definitions, targets": {A: yes(ES), E: yes(ES), D: no(ES), C: no(ES), V: no(ES)},
    "enter measurements": {
        A: yes(EM),
        E: yes(EM),
        D: ("own units, or KPIs they own", {EM: {OWN_UNIT, OWNED}}),
        C: no(EM),
        V: no(EM),
    },
    "coaching sessions and notes": {
        A: yes(WC, RC),
        E: ("read", {WC: NONE, RC: ALL}),
        D: ("read own units", {WC: NONE, RC: {OWN_UNIT}}),
        C: ("own sessions", {WC: {OWN_SESSION}, RC: {OWN_SESSION}}),
        V: no(WC, RC),
    },
    "action items": {
        A: yes(WA, US),
        E: yes(WA, US),
        D: ("own units, status of own items", {WA: {OWN_UNIT}, US: {OWN_UNIT, OWNED}}),
        C: yes(WA, US),
        V: no(WA, US),
    },
    "read dashboards and maps": {role: yes(R) for role in COLUMNS},
}

DESIGN_TABLE = """\
| action | admin | executive | department head | coach | viewer |
|---|---|---|---|---|---|
| members, roles, org settings | yes | no | no | no | no |
| units, strategy map, KPI definitions, targets | yes | yes | no | no | no |
| enter measurements | yes | yes | own units, or KPIs they own | no | no |
| coaching sessions and notes | yes | read | read own units | own sessions | no |
| action items | yes | yes | own units, status of own items | yes | no |
| read dashboards and maps | yes | yes | yes | yes | yes |"""

CELLS = [(row, role) for row in MATRIX for role in COLUMNS]


def test_every_action_of_the_module_is_in_a_row_of_the_matrix():
    covered = {action for row in MATRIX.values() for _, allowed in row.values() for action in allowed}
    assert covered == set(Action)


def _objects(world, membership):
    """Each object kind as the keyword arguments of `can`."""
    stranger = factories.make_user()
    return {
        OTHER: {"unit": world.company_a, "owner_id": stranger.pk, "coach_id": stranger.pk},
        OWN_UNIT: {"unit": world.department_a, "owner_id": stranger.pk, "coach_id": stranger.pk},
        OWNED: {"unit": world.company_a, "owner_id": membership.user_id, "coach_id": stranger.pk},
        OWN_SESSION: {"unit": world.company_a, "owner_id": stranger.pk, "coach_id": membership.user_id},
    }


def _answers(membership, action, objects) -> frozenset[str]:
    """The objects the module lets the member do `action` on, checking that its questions agree."""
    allowed = frozenset(kind for kind, obj in objects.items() if can(membership, action, **obj))
    listed = scope(membership, action)
    assert frozenset(kind for kind, obj in objects.items() if listed.covers(**obj)) == allowed, "scope vs can"
    assert listed.everything is (allowed == ALL), "scope(...).everything vs can"
    assert can(membership, action) is (allowed == ALL), "can without an object vs on each object"
    assert can_on_some(membership, action) is bool(allowed), "can_on_some vs can"
    return allowed


@pytest.mark.parametrize(("row", "role"), CELLS, ids=[f"{row} / {role.value}" for row, role in CELLS])
def test_cell(world, member_of_role, row, role):
    text, expected = MATRIX[row][role]
    membership = world.membership(member_of_role(role))
    with organization_scope(world.org_a):
        objects = _objects(world, membership)
        answers = {action: _answers(membership, action, objects) for action in expected}
    print(f"\n{row} × {role.label}: {text}")
    for action, allowed in answers.items():
        print(f"  {action.name}: {', '.join(sorted(allowed)) or 'nothing'}")
    assert answers == {action: frozenset(kinds) for action, kinds in expected.items()}


def test_the_matrix_as_the_module_answers_it(world, member_of_role):
    """Names each cell by the DESIGN.md text whose objects the module allows, and prints the table."""
    memberships = {role: world.membership(member_of_role(role)) for role in COLUMNS}
    lines = [
        "| action | " + " | ".join(COLUMN_TITLES) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    with organization_scope(world.org_a):
        for row, cells in MATRIX.items():
            texts = []
            for role in COLUMNS:
                objects = _objects(world, memberships[role])
                answers = {action: _answers(memberships[role], action, objects) for action in cells[role][1]}
                named = [text for text, expected in cells.values() if answers == _frozen(expected)]
                texts.append(named[0] if named else f"?? {answers}")
            lines.append(f"| {row} | " + " | ".join(texts) + " |")
    table = "\n".join(lines)
    print("\n" + table)
    assert table == DESIGN_TABLE


def _frozen(expected):
    return {action: frozenset(kinds) for action, kinds in expected.items()}


# --- The named questions built on the matrix ---------------------------------------------------------------


@pytest.mark.parametrize("role", COLUMNS, ids=lambda r: r.value)
def test_scheduling_sessions_and_choosing_their_coach(world, member_of_role, role):
    membership = world.membership(member_of_role(role))
    assert may_schedule(membership) is (role in (A, C))  # a coach for their own sessions
    assert may_schedule_for_any_coach(membership) is (role == A)


@pytest.mark.parametrize("role", COLUMNS, ids=lambda r: r.value)
def test_everyone_sees_the_action_items_they_own(world, member_of_role, role):
    membership = world.membership(member_of_role(role))
    with organization_scope(world.org_a):
        objects = _objects(world, membership)
        visible = visible_action_items(membership)
        seen = {kind for kind, obj in objects.items() if visible.covers(unit=obj["unit"], owner_id=obj["owner_id"])}
    expected = {A: ALL, E: ALL, C: ALL, D: {OWN_UNIT, OWNED}, V: {OWNED}}[role]
    assert seen == expected


@pytest.mark.parametrize("role", COLUMNS, ids=lambda r: r.value)
def test_the_dashboard_is_the_home_of_admins_executives_and_coaches(world, member_of_role, role):
    membership = world.membership(member_of_role(role))
    assert sees_dashboard_first(membership) is (role in (A, E, C))
    assert can(membership, Action.READ)  # everyone may open it


@pytest.mark.parametrize("role", COLUMNS, ids=lambda r: r.value)
def test_admins_executives_and_coaches_may_ask_for_review_packs(world, member_of_role, role):
    assert may_review_packs(world.membership(member_of_role(role))) is (role in (A, E, C))
    assert not may_review_packs(None)


def test_the_roles_that_may_enter_values_for_sql():
    assert roles_on_some(Action.ENTER_MEASUREMENTS) == (A, E, D)
    assert sql_roles_on_some(Action.ENTER_MEASUREMENTS) == "('admin', 'executive', 'department_head')"
