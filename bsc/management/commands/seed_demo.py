"""Seed the demo organization: a manufacturing company with divisions, departments, one user per persona,
and a strategy map cascaded to two units. Each part is added only when missing, so running it again
changes nothing."""

from datetime import date

from django.core.management.base import BaseCommand
from django.db import transaction

from bsc import services, strategy
from bsc.demo import (
    DEMO_ALIGNED_UNITS,
    DEMO_COMPANY_LINKS,
    DEMO_COMPANY_OBJECTIVES,
    DEMO_INITIATIVES,
    DEMO_PASSWORD,
    DEMO_SLUG,
    DEMO_TREE,
    DEMO_USERS,
)
from bsc.models import Objective, Organization, OrgUnit, Perspective, Role, Scorecard, User
from bsc.tenancy import organization_scope


class Command(BaseCommand):
    help = "Create the demo organization, its unit tree and one user per persona (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is None:
            organization = self.seed_organization()
        else:
            self.stdout.write("Demo organization already present.")
        with organization_scope(organization):
            self.seed_strategy_maps(organization)

    def seed_organization(self) -> Organization:
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
        return organization

    def seed_strategy_maps(self, organization: Organization) -> None:
        company = OrgUnit.objects.get(parent__isnull=True)
        scorecard = Scorecard.objects.get(unit=company)
        if scorecard.objectives.exists():
            self.stdout.write("Demo strategy maps already present.")
            return
        bands = {p.name: p for p in Perspective.objects.filter(scorecard=scorecard)}
        users = {u.email: u for u in User.objects.filter(memberships__organization=organization)}
        objectives = {}
        for band, name, x, y in DEMO_COMPANY_OBJECTIVES:
            objectives[name] = strategy.objective_create(
                perspective=bands[band], name=name, x=x, y=y, owner=users["ceo@northwind.example"]
            )
        for source, target in DEMO_COMPANY_LINKS:
            strategy.link_create(source=objectives[source], target=objectives[target])
        for objective, name, owner, status, progress in DEMO_INITIATIVES:
            strategy.initiative_create(
                objective=objectives[objective],
                name=name,
                owner=users[owner],
                status=status,
                progress=progress,
                start=date(2026, 1, 1),
                end=date(2026, 12, 31),
            )
        for unit_name in DEMO_ALIGNED_UNITS:
            unit = OrgUnit.objects.get(name=unit_name)
            strategy.scorecard_copy_parent_structure(scorecard=Scorecard.objects.get(unit=unit))
        # The department keeps only what it serves: the operational objectives.
        assembly = Objective.objects.filter(scorecard__unit__name="Assembly")
        assembly.exclude(perspective__name__in=["Internal Process", "Learning & Growth"]).delete()
        self.stdout.write(self.style.SUCCESS("Demo strategy maps created."))
