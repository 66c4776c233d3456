"""Seed the demo organization: a manufacturing company with divisions, departments and one user per
persona. Running it again changes nothing (later issues extend the demo with maps, KPIs and sessions)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from bsc import services
from bsc.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_TREE, DEMO_USERS
from bsc.models import Organization, OrgUnit, Role, User
from bsc.tenancy import organization_scope


class Command(BaseCommand):
    help = "Create the demo organization, its unit tree and one user per persona (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        if Organization.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("Demo data already present; nothing to do.")
            return
        users = {}
        for _, email, full_name, _, _ in DEMO_USERS:
            users[email] = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
        admin = users[DEMO_USERS[0][1]]
        organization = services.organization_create(
            slug=DEMO_SLUG,
            name="Northwind Manufacturing",
            admin=admin,
            time_zone="Europe/Berlin",
        )
        with organization_scope(organization):
            company = OrgUnit.objects.get(parent__isnull=True)
            for _, email, *_ in DEMO_USERS[1:]:
                services.membership_add(organization=organization, user=users[email], role=Role.VIEWER)
            units = {}
            for division, departments in DEMO_TREE.items():
                units[division] = services.org_unit_create(organization=organization, name=division, parent=company)
                for department in departments:
                    units[department] = services.org_unit_create(
                        organization=organization, name=department, parent=units[division]
                    )
            services.org_unit_update(unit=company, head=users["ceo@northwind.example"])
            services.org_unit_update(unit=units["Operations"], head=users["ops.head@northwind.example"])
            for _, email, _, role, scoped in DEMO_USERS[1:]:
                membership = organization.memberships.get(user=users[email])
                services.membership_update(membership=membership, role=role, units=[units[n] for n in scoped])
        self.stdout.write(self.style.SUCCESS(f"Demo organization “{organization.name}” created."))
