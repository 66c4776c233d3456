"""Organizations more than one bench case builds: a deep tree of units, and one unit with many KPIs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from bsc import services, strategy
from bsc.models import Organization, OrgUnit, Perspective, Scorecard, User
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from kpis.models import Kpi


def organization_with_admin(*, slug: str, name: str, email: str) -> tuple[Organization, User]:
    admin = User.objects.create_user(email, "bench-pass-phrase-1", full_name="Bench Admin")
    return services.organization_create(slug=slug, name=name, admin=admin), admin


def unit_tree(organization: Organization, admin: User, count: int) -> tuple[list[OrgUnit], dict[int, Scorecard]]:
    """`count` units in bulk inserts, three children per unit (ids from the table's sequence, so paths are known up
    front), every tenth headed by the admin; as org_unit_create does, each has its scorecard with the four classic
    perspectives. Returns the units (the root first) and their scorecards by unit id."""
    root = OrgUnit.objects.for_organization(organization).get(parent__isnull=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [OrgUnit._meta.db_table, count - 1],
        )
        ids = [row[0] for row in cursor.fetchall()]
    units = [root]
    for index, pk in enumerate(ids, start=1):
        parent = units[(index - 1) // 3]  # three children per unit: 1,000 units are depths 0 to 6
        units.append(
            OrgUnit(id=pk, organization=organization, parent=parent, name=f"Unit {index:04d}",
                    path=f"{parent.path}{pk}/", depth=parent.depth + 1, head=admin if index % 10 == 0 else None)
        )  # fmt: skip
    with organization_scope(organization):
        OrgUnit.objects.bulk_create(units[1:], batch_size=500)
        Scorecard.objects.bulk_create(
            [Scorecard(organization=organization, unit=unit) for unit in units[1:]], batch_size=500
        )
        scorecards = {s.unit_id: s for s in Scorecard.objects.for_organization(organization)}
        Perspective.objects.bulk_create(
            [
                Perspective(organization=organization, scorecard=scorecards[unit.pk], name=name, order=order)
                for unit in units[1:]
                for order, name in enumerate(Perspective.CLASSIC)
            ],
            batch_size=1000,
        )
    return units, scorecards


def unit_with_kpis(organization: Organization, count: int, months: int) -> tuple[OrgUnit, list[Kpi], list[date]]:
    """The top unit with 12 objectives over its four perspectives and `count` KPIs (in %, one decimal) serving
    them; returns the unit, the KPIs and the `months` months up to last month, the latest first."""
    with organization_scope(organization):
        unit = OrgUnit.objects.get(parent__isnull=True)
        bands = list(Perspective.objects.filter(scorecard__unit=unit))
        objectives = [
            strategy.objective_create(perspective=bands[i % 4], name=f"Objective {i}", x=(i // 4) * 260, y=40)
            for i in range(12)
        ]
        kpis = Kpi.objects.bulk_create(
            Kpi(organization=organization, unit=unit, objective=objectives[i % 12], name=f"KPI number {i}",
                code=f"K{i:03d}", baseline=Decimal(0), measurement_unit="%", decimals=1)
            for i in range(count)
        )  # fmt: skip
    today = timezone.localdate()
    last = month_shift(date(today.year, today.month, 1), -1)
    return unit, kpis, [month_shift(last, -i) for i in range(months)]
