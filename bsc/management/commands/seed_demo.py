"""Seed the demo organization: a manufacturing company with divisions, departments, one user per persona,
and a strategy map cascaded to two units. Each part is added only when missing, so running it again
changes nothing."""

import random
from datetime import date
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from bsc import services, strategy
from bsc.demo import (
    DEMO_ALIGNED_UNITS,
    DEMO_COMPANY_LINKS,
    DEMO_COMPANY_OBJECTIVES,
    DEMO_INITIATIVES,
    DEMO_KPIS,
    DEMO_MONTHS,
    DEMO_PASSWORD,
    DEMO_RECALIBRATIONS,
    DEMO_SLUG,
    DEMO_TREE,
    DEMO_UNIT_OBJECTIVES,
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
            self.seed_kpis(organization)

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

    def seed_kpis(self, organization: Organization) -> None:
        from kpis import services as kpi_services
        from kpis.models import Kpi, Target
        from kpis.recompute import scores_recompute
        from kpis.selectors import month_shift

        if Kpi.objects.exists():
            self.stdout.write("Demo KPIs already present.")
            return
        rng = random.Random(2026)
        today = timezone.localdate()
        last = month_shift(date(today.year, today.month, 1), -1)
        months = [month_shift(last, -i) for i in range(DEMO_MONTHS - 1, -1, -1)]
        units = {u.name: u for u in OrgUnit.objects.all()}
        users = {u.email: u for u in User.objects.filter(memberships__organization=organization)}
        ceo, ops = users["ceo@northwind.example"], users["ops.head@northwind.example"]
        admin = users[DEMO_USERS[0][1]]
        ops_units = {u.pk for u in OrgUnit.objects.filter(path__startswith=units["Operations"].path)}
        unit_objectives = {}
        for unit_name, band, name, aligned_name in DEMO_UNIT_OBJECTIVES:
            unit = units[unit_name]
            aligned = Objective.objects.filter(scorecard__unit_id=unit.parent_id, name=aligned_name).first()
            unit_objectives[unit_name] = strategy.objective_create(
                perspective=Perspective.objects.get(scorecard__unit=unit, name=band), name=name, x=30, y=50,
                aligned_to=aligned,
            )  # fmt: skip
        for unit_name, objective_name, code, name, label, direction, baseline, year_end, performance in DEMO_KPIS:
            unit = units[unit_name]
            objective = (
                Objective.objects.filter(scorecard__unit=unit, name=objective_name).first()
                if objective_name
                else unit_objectives.get(unit_name)
            )
            kpi = kpi_services.kpi_create(
                unit=unit, name=name, code=code, measurement_unit=label, direction=direction,
                baseline=Decimal(str(baseline)), objective=objective,
                owner=ops if unit.pk in ops_units else ceo, time_aggregation="average",
            )  # fmt: skip
            b, end = Decimal(str(baseline)), Decimal(str(year_end))
            for fiscal_year, share in ((months[0].year, "0.3"), (months[0].year + 1, "0.7"), (months[0].year + 2, "1")):
                value = (b + (end - b) * Decimal(share)).quantize(Decimal("0.1"))
                kpi_services.target_set_year(kpi=kpi, fiscal_year=fiscal_year, mode="same", value=value, by=admin)
            targets = {t.period: t.value for t in Target.objects.filter(kpi=kpi)}
            for index, month in enumerate(months):
                drift = Decimal(str(performance + rng.uniform(-0.15, 0.12) + index * 0.004))
                actual = (b + (targets[month] - b) * drift).quantize(Decimal("0.1"))
                comment = "Below plan; recovery actions agreed in the monthly review." if drift < Decimal("0.6") else ""
                kpi_services.measurement_record(
                    kpi=kpi, period=month, value=actual, comment=comment, by=ops if unit.pk in ops_units else ceo,
                    schedule=False,
                )  # fmt: skip
        for code, offset, factor, reason in DEMO_RECALIBRATIONS:
            target = Target.objects.get(kpi__code=code, period=months[offset])
            kpi_services.target_recalibrate(
                target=target, value=(target.value * Decimal(factor)).quantize(Decimal("0.1")), reason=reason, by=admin
            )
        scores_recompute(organization=organization, unit_ids=set(units[n].pk for n in units), months=set(months))
        self.stdout.write(self.style.SUCCESS(f"Demo KPIs created: {len(DEMO_KPIS)} KPIs, {len(months)} months."))
