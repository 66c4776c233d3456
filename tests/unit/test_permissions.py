"""The permission matrix of DESIGN.md section 8, role by role, as bsc.permissions answers it."""

import pytest

from bsc.models import Role
from bsc.permissions import Action, can
from bsc.tenancy import organization_scope
from tests import factories

A, E, D, C, V = Role.ADMIN, Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.COACH, Role.VIEWER

# action -> roles allowed without conditions (DESIGN.md section 8, read row by row)
UNCONDITIONAL = {
    Action.MANAGE_ORGANIZATION: {A},
    Action.EDIT_STRATEGY: {A, E},
    Action.ENTER_MEASUREMENTS: {A, E},
    Action.WRITE_COACHING: {A},
    Action.READ_COACHING: {A, E},
    Action.WRITE_ACTION_ITEMS: {A, E, C},
    Action.UPDATE_ACTION_ITEM_STATUS: {A, E, C},
    Action.READ: {A, E, D, C, V},
}


@pytest.mark.parametrize("action", list(Action), ids=lambda a: a.name)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_gets_exactly_the_unconditional_grants_of_the_matrix(world, member_of_role, role, action):
    membership = world.membership(member_of_role(role))
    with organization_scope(world.org_a):
        assert can(membership, action) is (role in UNCONDITIONAL[action])


def test_a_department_head_enters_measurements_for_own_units_and_the_units_below(world, member_of_role):
    head = world.membership(member_of_role(D))  # scoped to the division
    with organization_scope(world.org_a):
        assert can(head, Action.ENTER_MEASUREMENTS, unit=world.division_a)
        assert can(head, Action.ENTER_MEASUREMENTS, unit=world.department_a)
        assert not can(head, Action.ENTER_MEASUREMENTS, unit=world.company_a)


def test_a_department_head_enters_measurements_for_kpis_they_own_elsewhere(world, member_of_role):
    head = world.membership(member_of_role(D))
    with organization_scope(world.org_a):
        assert can(head, Action.ENTER_MEASUREMENTS, unit=world.company_a, owner_id=head.user_id)
        assert not can(head, Action.ENTER_MEASUREMENTS, unit=world.company_a, owner_id=world.admin_a.pk)


def test_a_department_head_reads_coaching_and_writes_action_items_of_own_units_only(world, member_of_role):
    head = world.membership(member_of_role(D))
    with organization_scope(world.org_a):
        assert can(head, Action.READ_COACHING, unit=world.department_a)
        assert not can(head, Action.READ_COACHING, unit=world.company_a)
        assert can(head, Action.WRITE_ACTION_ITEMS, unit=world.department_a)
        assert not can(head, Action.WRITE_ACTION_ITEMS, unit=world.company_a)
        assert not can(head, Action.WRITE_COACHING, unit=world.department_a)


def test_a_department_head_updates_the_status_of_items_they_own(world, member_of_role):
    head = world.membership(member_of_role(D))
    with organization_scope(world.org_a):
        assert can(head, Action.UPDATE_ACTION_ITEM_STATUS, unit=world.company_a, owner_id=head.user_id)
        assert not can(head, Action.UPDATE_ACTION_ITEM_STATUS, unit=world.company_a, owner_id=world.admin_a.pk)


def test_a_coach_writes_and_reads_only_own_sessions(world, member_of_role):
    coach = world.membership(member_of_role(C))
    other_coach = world.membership(member_of_role(C))
    with organization_scope(world.org_a):
        assert can(coach, Action.WRITE_COACHING, coach_id=coach.user_id)
        assert can(coach, Action.READ_COACHING, coach_id=coach.user_id)
        assert not can(coach, Action.WRITE_COACHING, coach_id=other_coach.user_id)
        assert not can(coach, Action.READ_COACHING, coach_id=other_coach.user_id)


def test_a_viewer_gets_nothing_but_reading_whatever_the_object(world, member_of_role):
    viewer = world.membership(world.viewer_a)
    with organization_scope(world.org_a):
        for action in Action:
            allowed = can(viewer, action, unit=world.department_a, owner_id=viewer.user_id, coach_id=viewer.user_id)
            assert allowed is (action is Action.READ)


def test_no_membership_means_no_permission(world):
    assert not can(None, Action.READ)


def test_a_department_heads_scope_follows_a_unit_moved_under_it(world, member_of_role):
    head = world.membership(member_of_role(D))
    new_team = factories.make_unit(world.org_a, "Night shift", parent=world.company_a)
    with organization_scope(world.org_a):
        assert not can(head, Action.ENTER_MEASUREMENTS, unit=new_team)
        from bsc import services

        services.org_unit_move(unit=new_team, new_parent=world.department_a)
        head = world.membership(head.user)  # a fresh request
        assert can(head, Action.ENTER_MEASUREMENTS, unit=new_team)
