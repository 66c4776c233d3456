"""Reads shared by pages and the API; each takes the organization (or the user, for cross-org lists)."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from bsc.models import Invitation, Membership, Organization, OrgUnit, User
from bsc.permissions import scoped_unit_ids
from bsc.tenancy import dangerously_unscoped


def membership_list_for_user(*, user: User) -> list[Membership]:
    """The user's memberships in every organization, with their units (the home page, the switcher)."""
    with dangerously_unscoped():  # filtered by the user: these rows are all the user's own
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .prefetch_related(Prefetch("units", queryset=OrgUnit.objects.order_by("path")))
            .order_by("organization__name")
        )
        headed: dict[int, list[OrgUnit]] = {}
        for unit in OrgUnit.objects.filter(head=user).order_by("path"):
            headed.setdefault(unit.organization_id, []).append(unit)
    for membership in memberships:
        membership.headed_units = headed.get(membership.organization_id, [])
    return memberships


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.for_organization(organization)
        .select_related("user")
        .prefetch_related(Prefetch("units", queryset=OrgUnit.objects.for_organization(organization)))
        .order_by("user__full_name", "user__email")
    )


def invitation_list_open(*, organization: Organization) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_organization(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .prefetch_related(Prefetch("units", queryset=OrgUnit.objects.for_organization(organization)))
    )


def org_unit_list(*, organization: Organization) -> QuerySet[OrgUnit]:
    """Every unit in tree order (depth-first by materialized path), with head and child count."""
    return (
        OrgUnit.objects.for_organization(organization)
        .select_related("head")
        .annotate(child_count=Count("children"))
        .order_by("path")
    )


def org_unit_tree(*, organization: Organization) -> list[OrgUnit]:
    """Units in depth-first order, siblings by name, each with `.indent` for display."""
    units = list(org_unit_list(organization=organization))
    by_parent: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        by_parent.setdefault(unit.parent_id, []).append(unit)
    ordered: list[OrgUnit] = []

    def walk(parent_id):
        for unit in sorted(by_parent.get(parent_id, []), key=lambda u: u.name.lower()):
            ordered.append(unit)
            walk(unit.pk)

    walk(None)
    return ordered


def units_visible_as_own(*, membership: Membership) -> set[int]:
    """The units a member calls their own (department heads' scope); other roles have none."""
    return scoped_unit_ids(membership)


def member_user_list(*, organization: Organization) -> QuerySet[User]:
    """The people who belong to the organization (choices for unit heads and owners)."""
    return User.objects.filter(memberships__organization=organization).order_by("full_name", "email")
