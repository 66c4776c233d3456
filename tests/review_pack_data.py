"""A unit worth a review pack, for the pack's tests and its benchmark: Acme's company unit with an objective in each
of its perspectives and `kpis` KPIs (green, amber and red in October 2026, the month now due on the pinned clock;
every fifth without a value), a comment on the red and amber ones (one that a spreadsheet would run as a formula),
the division and the department below with a KPI each, a held coaching session with notes and two open action
items. Stored scores rebuilt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from bsc import strategy
from bsc.models import Objective, OrgUnit, Perspective, User
from bsc.tenancy import organization_scope
from coaching import services as coaching_services
from coaching.models import SessionKind
from kpis import services
from kpis.models import Kpi, Measurement
from kpis.recompute import scores_recompute_full

OCTOBER = date(2026, 10, 1)
# Values against a target of 100 from a baseline of 0: green, amber, red, in turn; every fifth KPI has none.
VALUES = [Decimal(95), Decimal(75), Decimal(30)]
FORMULA_COMMENT = '=HYPERLINK("http://evil.example","click")'


@dataclass
class PackWorld:
    unit: OrgUnit
    kpis: list[Kpi]
    objectives: list[Objective]


def review_pack_world(*, organization, unit: OrgUnit, sub_units: list[OrgUnit], admin: User, kpis: int = 20):
    with organization_scope(organization):
        perspectives = list(Perspective.objects.filter(scorecard__unit=unit).order_by("order", "id"))
        objectives = [
            strategy.objective_create(perspective=p, name=f"{p.name} objective {i + 1}", x=40 + 260 * i, y=40)
            for p in perspectives
            for i in range(2)
        ]
        made = []
        for n in range(kpis):
            kpi = services.kpi_create(
                unit=unit, name=f"Measure number {n + 1}", code=f"K{n + 1:03d}", baseline=Decimal(0),
                objective=objectives[n % len(objectives)], owner=admin,
            )  # fmt: skip
            services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(100), by=admin)
            if n % 5 != 4:
                value = VALUES[n % 3]
                comment = "" if value == VALUES[0] else f"Behind plan on measure {n + 1}: supplier late."
                if n == 2:
                    comment = FORMULA_COMMENT
                services.measurement_record(
                    kpi=kpi, period=OCTOBER, value=value, by=admin, comment=comment, schedule=False
                )
            made.append(kpi)
        for i, sub in enumerate(sub_units):
            band = Perspective.objects.filter(scorecard__unit=sub).order_by("order", "id").first()
            objective = strategy.objective_create(perspective=band, name=f"{sub.name} goal")
            kpi = services.kpi_create(
                unit=sub, name=f"{sub.name} output", code=f"S{i + 1}", baseline=Decimal(0), objective=objective
            )
            services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(100), by=admin)
            services.measurement_record(kpi=kpi, period=OCTOBER, value=VALUES[(i + 1) % 3], by=admin, schedule=False)
        session = coaching_services.session_schedule(
            unit=unit, coach=admin, kind=SessionKind.MONTHLY_REVIEW,
            scheduled_at=timezone.now() + timedelta(hours=1),
        )  # fmt: skip
        coaching_services.session_update(
            session=session,
            notes="## October\n\nThe **red** measures come from one late supplier.\n\n- Call the supplier\n- Re-plan",
            wins="Two green months in a row on quality.",
            challenges="Supplier lead times.",
        )
        coaching_services.session_hold(session=session, kpis=[made[2]], confirm_early=True)  # it looked at K003
        for title, due in (("Call the supplier", 5), ("Re-plan the line", 20)):
            coaching_services.action_item_create(
                organization=organization, title=title, owner=admin, created_by=admin, unit=unit,
                due_date=timezone.localdate() + timedelta(days=due), kpi=made[2],
            )  # fmt: skip
        # The KPIs existed before October and most values came in by the data-entry day: accountability figures.
        Kpi.objects.filter(pk__in=[kpi.pk for kpi in made]).update(created_at=timezone.now() - timedelta(days=90))
        Measurement.objects.filter(kpi__in=made[:12]).update(entered_at=timezone.now() - timedelta(days=14))
        scores_recompute_full(organization=organization)
    return PackWorld(unit, made, objectives)


def acme_review_pack_world(world):
    """The review-pack tests' data: the test world's Acme company, its division and department below it."""
    return review_pack_world(
        organization=world.org_a, unit=world.company_a, sub_units=[world.division_a, world.department_a],
        admin=world.admin_a,
    )  # fmt: skip
