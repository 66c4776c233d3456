"""The organization admin pages: members and roles, invitations, the unit tree, organization settings.

Every mutating endpoint gets the trio: it works; another organization's object gives 404; a role without
permission gets 403 and nothing changes.
"""

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bsc import services
from bsc.models import Invitation, Membership, Organization, OrgUnit, Role
from bsc.tenancy import organization_scope
from tests import factories

ADMIN_PAGES = ["admin_members", "admin_invitations", "admin_settings", "admin_units"]


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def flashes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def unit_list(obj) -> list[OrgUnit]:
    """The units of a membership or invitation."""
    with organization_scope(obj.organization):
        return list(obj.units.all())


def units_of(org) -> OrgUnit:
    return OrgUnit.objects.for_organization(org)


def memberships_of(org) -> Membership:
    return Membership.objects.for_organization(org)


def invitations_of(org) -> Invitation:
    return Invitation.objects.for_organization(org)


@pytest.fixture
def dana(world):
    """A coach of organization A with a real name."""
    user = factories.make_user("dana@acme.example.com", full_name="Dana Diaz")
    return factories.add_member(world.org_a, Role.COACH, user=user)


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin_a)
    return client


@pytest.fixture
def viewer_client(client, world):
    client.force_login(world.viewer_a)
    return client


def invite(org, email, *, by, role=Role.VIEWER):
    with organization_scope(org):
        invitation, _ = services.invitation_create(organization=org, email=email, role=role, invited_by=by)
    return invitation


# --- The pages and who may open them -----------------------------------------------------------------


def test_an_admin_sees_every_admin_page_with_the_tab_bar(admin_client, dana):
    for name in ADMIN_PAGES:
        response = admin_client.get(url(name))
        assert response.status_code == 200, name
        tabs = response.content.decode().split('<nav class="tabs"')[1].split("</nav>")[0]
        assert [label in tabs for label in ("Members", "Invitations", "Units", "Settings")] == [True] * 4
    members_page = admin_client.get(url("admin_members")).content.decode()
    assert "dana@acme.example.com" in members_page and "Dana Diaz" in members_page


@pytest.mark.parametrize("role", [Role.EXECUTIVE, Role.DEPARTMENT_HEAD, Role.COACH, Role.VIEWER])
@pytest.mark.parametrize("name", ["admin_members", "admin_invitations", "admin_settings"])
def test_only_admins_open_the_member_invitation_and_settings_pages(client, member_of_role, role, name):
    client.force_login(member_of_role(role))
    assert client.get(url(name)).status_code == 403


@pytest.mark.parametrize("role,status", [(Role.EXECUTIVE, 200), (Role.DEPARTMENT_HEAD, 403), (Role.COACH, 403)])
def test_admins_and_executives_open_the_units_page(client, member_of_role, role, status):
    client.force_login(member_of_role(role))
    response = client.get(url("admin_units"))
    assert response.status_code == status
    if status == 200:  # an executive sees only the tab they may use
        tabs = response.content.decode().split('<nav class="tabs"')[1].split("</nav>")[0]
        assert "Units" in tabs and "Members" not in tabs and "Settings" not in tabs


def test_a_member_of_another_organization_gets_404_on_its_admin_pages(client, world):
    client.force_login(world.member_b)
    for name in ADMIN_PAGES:
        assert client.get(url(name)).status_code == 404


def test_the_members_page_query_count_does_not_grow_with_members(admin_client, world):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url("admin_members")).status_code == 200
        return len(queries)

    factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a])
    before = count()
    for _ in range(3):
        factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.department_a])
    assert count() == before


# --- Members and roles -------------------------------------------------------------------------------


def test_an_admin_changes_a_members_role_and_units(admin_client, world, dana):
    response = admin_client.post(
        url("admin_member_edit", pk=dana.pk), {"role": Role.DEPARTMENT_HEAD, "units": [world.division_a.pk]}
    )
    assert response.status_code == 302
    assert response.url == url("admin_members")
    dana.refresh_from_db()
    assert dana.role == Role.DEPARTMENT_HEAD
    assert unit_list(dana) == [world.division_a]
    assert flashes(response) == ["Dana Diaz is now department head."]


def test_changing_a_role_away_from_department_head_drops_the_units(admin_client, world):
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a])
    response = admin_client.post(url("admin_member_edit", pk=head.pk), {"role": Role.EXECUTIVE})
    assert response.status_code == 302
    head.refresh_from_db()
    assert (head.role, unit_list(head)) == (Role.EXECUTIVE, [])


def test_a_department_head_needs_at_least_one_unit(admin_client, dana):
    response = admin_client.post(url("admin_member_edit", pk=dana.pk), {"role": Role.DEPARTMENT_HEAD})
    assert response.status_code == 200
    assert response.context["form"].errors == {"units": ["A department head needs at least one unit."]}
    assert "A department head needs at least one unit." in response.content.decode()
    dana.refresh_from_db()
    assert dana.role == Role.COACH


def test_a_member_cannot_be_scoped_to_another_organizations_unit(admin_client, world, dana):
    response = admin_client.post(
        url("admin_member_edit", pk=dana.pk), {"role": Role.DEPARTMENT_HEAD, "units": [world.unit_b.pk]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["units"] == [
        f"Select a valid choice. {world.unit_b.pk} is not one of the available choices."
    ]
    dana.refresh_from_db()
    assert (dana.role, unit_list(dana)) == (Role.COACH, [])


def test_editing_another_organizations_member_gives_404(admin_client, world):
    other = memberships_of(world.org_b).get(user=world.member_b)
    response = admin_client.post(url("admin_member_edit", pk=other.pk), {"role": Role.VIEWER})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.role == Role.ADMIN


def test_a_viewer_cannot_change_roles(viewer_client, dana):
    assert viewer_client.get(url("admin_member_edit", pk=dana.pk)).status_code == 403
    response = viewer_client.post(url("admin_member_edit", pk=dana.pk), {"role": Role.ADMIN})
    assert response.status_code == 403
    dana.refresh_from_db()
    assert dana.role == Role.COACH


def test_the_last_admin_cannot_be_demoted(admin_client, world):
    own = world.membership(world.admin_a)
    response = admin_client.post(url("admin_member_edit", pk=own.pk), {"role": Role.VIEWER})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "role": ["The organization needs at least one admin; make someone else admin first."]
    }
    own.refresh_from_db()
    assert own.role == Role.ADMIN


def test_an_admin_who_demotes_themself_lands_on_the_overview(admin_client, world):
    factories.add_member(world.org_a, Role.ADMIN)
    own = world.membership(world.admin_a)
    response = admin_client.post(url("admin_member_edit", pk=own.pk), {"role": Role.EXECUTIVE})
    assert response.url == reverse("org_overview", args=["acme"])
    own.refresh_from_db()
    assert own.role == Role.EXECUTIVE
    assert admin_client.get(url("admin_members")).status_code == 403


def test_an_admin_removes_a_member(admin_client, world, dana):
    response = admin_client.post(url("admin_member_remove", pk=dana.pk))
    assert response.status_code == 302
    assert response.url == url("admin_members")
    assert not memberships_of(world.org_a).filter(pk=dana.pk).exists()
    assert flashes(response) == ["Dana Diaz was removed from Acme Manufacturing."]


def test_removing_needs_post(admin_client, world, dana):
    assert admin_client.get(url("admin_member_remove", pk=dana.pk)).status_code == 405
    assert memberships_of(world.org_a).filter(pk=dana.pk).exists()


def test_removing_another_organizations_member_gives_404(admin_client, world):
    other = memberships_of(world.org_b).get(user=world.member_b)
    assert admin_client.post(url("admin_member_remove", pk=other.pk)).status_code == 404
    assert memberships_of(world.org_b).filter(pk=other.pk).exists()


def test_a_viewer_cannot_remove_members(viewer_client, world, dana):
    assert viewer_client.post(url("admin_member_remove", pk=dana.pk)).status_code == 403
    assert memberships_of(world.org_a).filter(pk=dana.pk).exists()


def test_the_last_admin_cannot_be_removed(admin_client, world):
    own = world.membership(world.admin_a)
    response = admin_client.post(url("admin_member_remove", pk=own.pk))
    assert response.url == url("admin_member_edit", pk=own.pk)
    assert flashes(response) == ["The organization needs at least one admin; make someone else admin first."]
    assert memberships_of(world.org_a).filter(pk=own.pk, role=Role.ADMIN).exists()


# --- Invitations -------------------------------------------------------------------------------------


def test_an_admin_invites_a_department_head(admin_client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            url("admin_invitations"),
            {"email": "New.Person@Example.com", "role": Role.DEPARTMENT_HEAD, "units": [world.department_a.pk]},
        )
    assert response.status_code == 302
    assert response.url == url("admin_invitations")
    invitation = invitations_of(world.org_a).get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.person@example.com",
        Role.DEPARTMENT_HEAD,
        world.admin_a,
    )
    assert unit_list(invitation) == [world.department_a]
    assert len(callbacks) == 1  # the mail is queued for Celery once the transaction commits
    assert flashes(response) == ["Invitation sent to new.person@example.com."]
    page = admin_client.get(url("admin_invitations")).content.decode()
    assert "new.person@example.com" in page and "Assembly" in page


def test_inviting_into_another_organization_gives_404(admin_client, world):
    response = admin_client.post(url("admin_invitations", org="globex"), {"email": "x@example.com", "role": "viewer"})
    assert response.status_code == 404
    assert not invitations_of(world.org_b).exists()


def test_an_invitation_cannot_name_another_organizations_unit(admin_client, world):
    response = admin_client.post(
        url("admin_invitations"), {"email": "x@example.com", "role": Role.DEPARTMENT_HEAD, "units": [world.unit_b.pk]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["units"] == [
        f"Select a valid choice. {world.unit_b.pk} is not one of the available choices."
    ]
    assert not invitations_of(world.org_a).exists()


def test_a_viewer_cannot_invite(viewer_client, world):
    response = viewer_client.post(url("admin_invitations"), {"email": "x@example.com", "role": Role.ADMIN})
    assert response.status_code == 403
    assert not invitations_of(world.org_a).exists()


def test_inviting_an_existing_member_is_refused_on_the_email_field(admin_client, world, dana):
    response = admin_client.post(url("admin_invitations"), {"email": "DANA@acme.example.com", "role": Role.VIEWER})
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": ["This person is already a member of the organization."]}
    assert not invitations_of(world.org_a).exists()


def test_a_second_open_invitation_for_the_same_email_is_refused(admin_client, world):
    invite(world.org_a, "x@example.com", by=world.admin_a)
    response = admin_client.post(url("admin_invitations"), {"email": "x@example.com", "role": Role.COACH})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["An open invitation for this email already exists."]
    assert invitations_of(world.org_a).count() == 1


def test_someone_whose_invitation_expired_can_be_invited_again(admin_client, world):
    old = invite(world.org_a, "x@example.com", by=world.admin_a)
    invitations_of(world.org_a).filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert "expired" in admin_client.get(url("admin_invitations")).content.decode()
    response = admin_client.post(url("admin_invitations"), {"email": "x@example.com", "role": Role.COACH})
    assert response.status_code == 302
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert invitations_of(world.org_a).filter(revoked_at__isnull=True).get().role == Role.COACH


def test_an_admin_revokes_an_invitation(admin_client, world):
    invitation = invite(world.org_a, "x@example.com", by=world.admin_a)
    response = admin_client.post(url("admin_invitation_revoke", pk=invitation.pk))
    assert response.url == url("admin_invitations")
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert flashes(response) == ["The invitation of x@example.com was revoked."]
    assert list(admin_client.get(url("admin_invitations")).context["invitations"]) == []


def test_revoking_another_organizations_invitation_gives_404(admin_client, world):
    invitation = invite(world.org_b, "x@example.com", by=world.member_b)
    assert admin_client.post(url("admin_invitation_revoke", pk=invitation.pk)).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_a_viewer_cannot_revoke_invitations(viewer_client, world):
    invitation = invite(world.org_a, "x@example.com", by=world.admin_a)
    assert viewer_client.post(url("admin_invitation_revoke", pk=invitation.pk)).status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


# --- Units -------------------------------------------------------------------------------------------


def test_an_admin_adds_a_unit(admin_client, world):
    response = admin_client.post(
        url("admin_units"), {"name": " Quality ", "parent": world.division_a.pk, "head": world.admin_a.pk}
    )
    assert response.status_code == 302
    assert response.url == url("admin_units")
    unit = units_of(world.org_a).get(name="Quality")
    assert (unit.parent, unit.head, unit.depth, unit.path) == (
        world.division_a,
        world.admin_a,
        2,
        f"{world.division_a.path}{unit.pk}/",
    )
    assert flashes(response) == ["Unit “Quality” added under “Operations”."]


def test_an_executive_adds_a_unit(client, world, member_of_role):
    client.force_login(member_of_role(Role.EXECUTIVE))
    response = client.post(url("admin_units"), {"name": "Quality", "parent": world.company_a.pk})
    assert response.status_code == 302
    assert units_of(world.org_a).filter(name="Quality", parent=world.company_a, head=None).exists()


def test_a_unit_cannot_be_added_under_another_organizations_unit(admin_client, world):
    response = admin_client.post(url("admin_units"), {"name": "Quality", "parent": world.unit_b.pk})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "parent": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert not OrgUnit.objects.for_organization(world.org_b).filter(name="Quality").exists()
    assert not units_of(world.org_a).filter(name="Quality").exists()


def test_adding_a_unit_in_another_organization_gives_404(admin_client, world):
    response = admin_client.post(url("admin_units", org="globex"), {"name": "Quality", "parent": world.unit_b.pk})
    assert response.status_code == 404
    assert not units_of(world.org_b).filter(name="Quality").exists()


def test_a_viewer_cannot_add_units(viewer_client, world):
    response = viewer_client.post(url("admin_units"), {"name": "Quality", "parent": world.company_a.pk})
    assert response.status_code == 403
    assert units_of(world.org_a).count() == 3


def test_a_sibling_with_the_same_name_is_refused(admin_client, world):
    response = admin_client.post(url("admin_units"), {"name": "Assembly", "parent": world.division_a.pk})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "A unit with this name already exists under the same parent."
    ]
    assert units_of(world.org_a).filter(name="Assembly").count() == 1


def test_an_admin_renames_a_unit_and_sets_its_head(admin_client, world, dana):
    response = admin_client.post(
        url("admin_unit_edit", pk=world.department_a.pk), {"name": "Final assembly", "head": dana.user.pk}
    )
    assert response.url == url("admin_units")
    world.department_a.refresh_from_db()
    assert (world.department_a.name, world.department_a.head) == ("Final assembly", dana.user)
    assert flashes(response) == ["Unit “Final assembly” saved."]


def test_a_unit_head_must_belong_to_the_organization(admin_client, world):
    response = admin_client.post(
        url("admin_unit_edit", pk=world.department_a.pk), {"name": "Assembly", "head": world.member_b.pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "head": ["Select a valid choice. That choice is not one of the available choices."]
    }
    world.department_a.refresh_from_db()
    assert world.department_a.head is None


def test_editing_another_organizations_unit_gives_404(admin_client, world):
    response = admin_client.post(url("admin_unit_edit", pk=world.unit_b.pk), {"name": "Mine now"})
    assert response.status_code == 404
    world.unit_b.refresh_from_db()
    assert world.unit_b.name == "Globex Sales"


def test_a_viewer_cannot_edit_units(viewer_client, world):
    assert viewer_client.get(url("admin_unit_edit", pk=world.department_a.pk)).status_code == 403
    response = viewer_client.post(url("admin_unit_edit", pk=world.department_a.pk), {"name": "Renamed"})
    assert response.status_code == 403
    world.department_a.refresh_from_db()
    assert world.department_a.name == "Assembly"


def test_an_admin_moves_a_unit_with_its_subtree(admin_client, world):
    team = factories.make_unit(world.org_a, "Line 1", parent=world.department_a)
    response = admin_client.post(url("admin_unit_move", pk=world.department_a.pk), {"parent": world.company_a.pk})
    assert response.url == url("admin_units")
    world.department_a.refresh_from_db()
    team.refresh_from_db()
    assert world.department_a.parent == world.company_a
    assert (world.department_a.path, world.department_a.depth) == (
        f"/{world.company_a.pk}/{world.department_a.pk}/",
        1,
    )
    assert (team.path, team.depth) == (f"{world.department_a.path}{team.pk}/", 2)
    assert flashes(response) == ["Unit “Assembly” moved under “Acme Manufacturing”."]


def test_a_moved_unit_stops_cascading_into_its_old_parent(
    admin_client, world, django_capture_on_commit_callbacks, as_committed
):
    from bsc import strategy
    from bsc.models import Objective, Perspective
    from kpis import services as kpi_services
    from kpis.models import Kpi, PendingRecompute

    with organization_scope(world.org_a), as_committed():
        band = Perspective.objects.get(scorecard__unit=world.division_a, name="Customer")
        division_goal = strategy.objective_create(perspective=band, name="Ship on time")
        goal = strategy.objective_create(
            perspective=Perspective.objects.get(scorecard__unit=world.department_a, name="Customer"),
            name="Assemble on time",
            aligned_to=division_goal,
        )
        total = kpi_services.kpi_create(
            unit=world.division_a, name="Output", code="OUT", source="rollup", rollup_method="sum", baseline=0
        )
        part = kpi_services.kpi_create(
            unit=world.department_a, name="Output", code="ASM-OUT", baseline=0, aligned_to=total
        )
    with (
        mock.patch("kpis.tasks.scores_recompute.delay") as rescore,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(url("admin_unit_move", pk=world.department_a.pk), {"parent": world.company_a.pk})
    assert flashes(response) == [
        "Unit “Assembly” moved under “Acme Manufacturing”.",
        "Its 2 aligned objective(s) and KPI(s) no longer cascade into “Operations”: align them to "
        "“Acme Manufacturing” on its strategy map and KPI pages.",
    ]
    assert Objective.objects.for_organization(world.org_a).get(pk=goal.pk).aligned_to is None
    assert Kpi.objects.for_organization(world.org_a).get(pk=part.pk).aligned_to is None
    # the old branch is rescored: the division and the moved unit, and their ancestors, in every month
    assert rescore.call_args_list == [mock.call(organization_id=world.org_a.pk)]
    with organization_scope(world.org_a):
        requested = set(PendingRecompute.objects.values_list("unit_id", flat=True))
    assert requested == {world.division_a.pk, world.department_a.pk}


def test_a_unit_cannot_move_under_its_own_descendant(admin_client, world):
    response = admin_client.post(url("admin_unit_move", pk=world.division_a.pk), {"parent": world.department_a.pk})
    assert response.status_code == 200
    assert response.context["move_form"].errors == {
        "parent": ["A unit cannot be moved under itself or one of its own sub-units."]
    }
    assert "A unit cannot be moved under itself or one of its own sub-units." in response.content.decode()
    world.division_a.refresh_from_db()
    assert (world.division_a.parent, world.division_a.path) == (
        world.company_a,
        f"/{world.company_a.pk}/{world.division_a.pk}/",
    )


def test_the_move_form_lists_the_unit_and_its_sub_units_as_disabled(admin_client, world):
    page = admin_client.get(url("admin_unit_edit", pk=world.division_a.pk)).content.decode()
    for unit, disabled in ((world.company_a, False), (world.division_a, True), (world.department_a, True)):
        option = page.split(f'<option value="{unit.pk}"')[-1].split(">")[0]
        assert ("disabled" in option) is disabled, unit.name


def test_moving_another_organizations_unit_gives_404(admin_client, world):
    response = admin_client.post(url("admin_unit_move", pk=world.unit_b.pk), {"parent": world.company_a.pk})
    assert response.status_code == 404
    world.unit_b.refresh_from_db()
    assert world.unit_b.parent_id == factories.root_unit(world.org_b).pk


def test_a_unit_cannot_move_under_another_organizations_unit(admin_client, world):
    response = admin_client.post(url("admin_unit_move", pk=world.department_a.pk), {"parent": world.unit_b.pk})
    assert response.status_code == 200
    assert response.context["move_form"].errors == {
        "parent": ["Select a valid choice. That choice is not one of the available choices."]
    }
    world.department_a.refresh_from_db()
    assert world.department_a.parent == world.division_a


def test_a_viewer_cannot_move_units(viewer_client, world):
    response = viewer_client.post(url("admin_unit_move", pk=world.department_a.pk), {"parent": world.company_a.pk})
    assert response.status_code == 403
    world.department_a.refresh_from_db()
    assert world.department_a.parent == world.division_a


def test_an_admin_deletes_an_empty_unit(admin_client, world):
    response = admin_client.post(url("admin_unit_delete", pk=world.department_a.pk))
    assert response.url == url("admin_units")
    assert not units_of(world.org_a).filter(pk=world.department_a.pk).exists()
    assert flashes(response) == ["Unit “Assembly” deleted."]


def test_a_unit_with_sub_units_is_not_deleted(admin_client, world):
    response = admin_client.post(url("admin_unit_delete", pk=world.division_a.pk))
    assert response.url == url("admin_unit_edit", pk=world.division_a.pk)
    assert flashes(response) == ["“Operations” cannot be deleted: it has 1 sub-unit; move or delete them first."]
    assert units_of(world.org_a).count() == 3


def test_a_unit_a_department_head_is_scoped_to_is_not_deleted(admin_client, world):
    factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.department_a])
    response = admin_client.post(url("admin_unit_delete", pk=world.department_a.pk))
    assert flashes(response) == [
        "“Assembly” cannot be deleted: 1 department head is scoped to it; change their units first."
    ]
    assert units_of(world.org_a).filter(pk=world.department_a.pk).exists()


def test_deleting_another_organizations_unit_gives_404(admin_client, world):
    assert admin_client.post(url("admin_unit_delete", pk=world.unit_b.pk)).status_code == 404
    assert units_of(world.org_b).filter(pk=world.unit_b.pk).exists()


def test_a_viewer_cannot_delete_units(viewer_client, world):
    assert viewer_client.post(url("admin_unit_delete", pk=world.department_a.pk)).status_code == 403
    assert units_of(world.org_a).filter(pk=world.department_a.pk).exists()


# --- Settings ----------------------------------------------------------------------------------------

SETTINGS = {
    "name": "Acme Group",
    "time_zone": "Europe/Berlin",
    "fiscal_year_start_month": "4",
    "green_threshold": "85",
    "amber_threshold": "62.5",
    "red_requires_comment": "",
    "amber_requires_cause": "on",
    "reminder_hour": "7",
    "data_entry_day": "12",
}


def test_the_settings_form_shows_thresholds_as_percentages(admin_client):
    form = admin_client.get(url("admin_settings")).context["form"]
    assert (form["green_threshold"].value(), form["amber_threshold"].value()) == (90, 60)


def test_an_admin_changes_the_organization_settings(admin_client, world, django_capture_on_commit_callbacks):
    with (
        mock.patch("kpis.tasks.scores_recompute.delay") as rebuild,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(url("admin_settings"), SETTINGS)
    assert response.url == url("admin_settings")
    world.org_a.refresh_from_db()
    assert (
        world.org_a.name,
        world.org_a.time_zone,
        world.org_a.fiscal_year_start_month,
        world.org_a.green_threshold,
        world.org_a.amber_threshold,
        world.org_a.red_requires_comment,
        world.org_a.amber_requires_cause,
        world.org_a.reminder_hour,
        world.org_a.data_entry_day,
    ) == ("Acme Group", "Europe/Berlin", 4, Decimal("0.850"), Decimal("0.625"), False, True, 7, 12)
    assert flashes(response) == [
        "Organization settings saved.",
        "Scores are being recomputed with the new thresholds and fiscal year.",
    ]
    # every stored status depends on the thresholds: one rebuild of the organization, once it committed
    assert rebuild.call_args_list == [mock.call(organization_id=world.org_a.pk)]


def test_settings_that_scores_do_not_depend_on_rebuild_nothing(admin_client, world, django_capture_on_commit_callbacks):
    unchanged = {**SETTINGS, "fiscal_year_start_month": "1", "green_threshold": "90", "amber_threshold": "60"}
    with (
        mock.patch("kpis.tasks.scores_recompute.delay") as rebuild,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(url("admin_settings"), unchanged)
    assert flashes(response) == ["Organization settings saved."]
    world.org_a.refresh_from_db()
    assert (world.org_a.name, world.org_a.reminder_hour) == ("Acme Group", 7)
    assert rebuild.call_count == 0


def test_amber_must_be_below_green(admin_client, world):
    response = admin_client.post(url("admin_settings"), {**SETTINGS, "green_threshold": "70", "amber_threshold": "70"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "amber_threshold": ["The amber threshold must be below the green threshold (70%)."]
    }
    world.org_a.refresh_from_db()
    assert (world.org_a.name, world.org_a.green_threshold, world.org_a.amber_threshold) == (
        "Acme Manufacturing",
        Decimal("0.900"),
        Decimal("0.600"),
    )


def test_an_unknown_time_zone_is_refused(admin_client, world):
    response = admin_client.post(url("admin_settings"), {**SETTINGS, "time_zone": "Mars/Olympus"})
    assert response.context["form"].errors == {
        "time_zone": ["Select a valid choice. Mars/Olympus is not one of the available choices."]
    }
    world.org_a.refresh_from_db()
    assert world.org_a.time_zone == "UTC"


def test_changing_another_organizations_settings_gives_404(admin_client, world):
    assert admin_client.post(url("admin_settings", org="globex"), SETTINGS).status_code == 404
    assert Organization.objects.get(pk=world.org_b.pk).name == "Globex"


def test_a_viewer_cannot_change_settings(viewer_client, world):
    assert viewer_client.post(url("admin_settings"), SETTINGS).status_code == 403
    world.org_a.refresh_from_db()
    assert (world.org_a.name, world.org_a.time_zone) == ("Acme Manufacturing", "UTC")
