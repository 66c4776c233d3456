"""Small factory functions for tests; they go through the services like the product does."""

from __future__ import annotations

import itertools

from bsc import services
from bsc.models import Membership, Organization, OrgUnit, Role, User
from bsc.tenancy import organization_scope

PASSWORD = "correct-horse-battery-9"
_counter = itertools.count(1)


def make_user(email: str | None = None, *, full_name: str = "", password: str = PASSWORD) -> User:
    email = email or f"user{next(_counter)}@example.com"
    return User.objects.create_user(email, password, full_name=full_name)


def make_organization(slug: str, *, admin: User | None = None, name: str | None = None) -> Organization:
    admin = admin or make_user(f"admin@{slug}.example.com", full_name=f"Admin of {slug}")
    return services.organization_create(slug=slug, name=name or slug.upper(), admin=admin)


def root_unit(organization: Organization) -> OrgUnit:
    return OrgUnit.objects.for_organization(organization).get(parent__isnull=True)


def make_unit(organization: Organization, name: str, *, parent: OrgUnit | None = None) -> OrgUnit:
    with organization_scope(organization):
        return services.org_unit_create(organization=organization, name=name, parent=parent or root_unit(organization))


def add_member(organization: Organization, role: str, *, user: User | None = None, units=()) -> Membership:
    user = user or make_user(f"{role}{next(_counter)}@{organization.slug}.example.com", full_name=role.title())
    with organization_scope(organization):
        return services.membership_add(organization=organization, user=user, role=role, units=units)


def membership_of(user: User, organization: Organization) -> Membership:
    return Membership.objects.for_organization(organization).get(user=user)


ROLES = [role.value for role in Role]


def carla_coach(world) -> User:
    """Carla Coach, a coach of the test world's Acme (the coaching tests' coach)."""
    user = make_user("carla@acme.example.com", full_name="Carla Coach")
    return add_member(world.org_a, Role.COACH, user=user).user


def hugo_head(world) -> User:
    """Hugo Head, the head of Acme's division in the test world (the coaching tests' department head)."""
    user = make_user("hugo@acme.example.com", full_name="Hugo Head")
    return add_member(world.org_a, Role.DEPARTMENT_HEAD, user=user, units=[world.division_a]).user
