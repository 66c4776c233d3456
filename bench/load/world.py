"""The load scenario's world: the demo organization (`seed_demo`) plus enough people for 50 concurrent sessions,
each working on rows nobody else touches, so a save is refused only when the product is at fault.

- executives: read the dashboard, scorecards and strategy maps of the demo's units;
- department heads: each heads a team of its own (under the demo's divisions) with HEAD_KPIS monthly KPIs,
  targets and a year of values, and enters the month now due;
- coaches: each coaches an upcoming session of a demo unit and writes its notes;
- API clients: department heads of a data-feed unit with FEED_KPIS KPIs, sending bulk upserts with a personal token.

`python -m bench.load.world OUTPUT.json` builds it in the database of the current settings and writes what the
scenario needs (logins, tokens, unit ids, the month due) to OUTPUT.json.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

EXECUTIVES = 20
HEADS = 25
COACHES = 12
FEEDS = 10
HEAD_KPIS = 8
FEED_KPIS = 20
MONTHS = 12  # of history per load KPI
DOMAIN = "load.northwind.example"


def _people(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{index:02d}@{DOMAIN}" for index in range(1, count + 1)]


def build() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from bsc import services
    from bsc.models import Organization, OrgUnit, Role, User
    from bsc.org_calendar import due_month, month_shift
    from bsc.project.demo import DEMO_PASSWORD, DEMO_SLUG, DEMO_TREE
    from bsc.tenancy import organization_scope
    from coaching import services as coaching_services
    from kpis import services as kpi_services
    from kpis.outbox import scores_rebuild

    call_command("seed_demo", verbosity=0)
    organization = Organization.objects.get(slug=DEMO_SLUG)
    password = make_password(DEMO_PASSWORD)  # hashed once: every load login costs one check, not the seeding
    world: dict = {"organization": DEMO_SLUG, "password": DEMO_PASSWORD}
    with organization_scope(organization), transaction.atomic():
        month = due_month(organization)
        months = [month_shift(month, -i) for i in range(MONTHS, 0, -1)]  # the history before the month due
        divisions = list(OrgUnit.objects.filter(name__in=list(DEMO_TREE)).order_by("name"))
        demo_units = list(OrgUnit.objects.order_by("path").values_list("pk", flat=True))
        admin = User.objects.get(email="admin@northwind.example")

        def member(email: str, role: str, units=()) -> User:
            user = User.objects.create(email=email, full_name=email.split("@")[0].title(), password=password)
            services.membership_add(organization=organization, user=user, role=role, units=units)
            return user

        def team(name: str, parent: OrgUnit, head: User, kpis: int, prefix: str) -> tuple[int, list[int]]:
            unit = services.org_unit_create(organization=organization, name=name, parent=parent, head=head)
            services.membership_update(membership=head.memberships.get(), role=Role.DEPARTMENT_HEAD, units=[unit])
            ids = []
            for index in range(kpis):
                kpi = kpi_services.kpi_create(
                    unit=unit, name=f"{name} measure {index + 1}", code=f"{prefix}-{index + 1:02d}",
                    measurement_unit="%", direction="increase", baseline=Decimal(50), decimals=1, owner=head,
                )  # fmt: skip
                for fiscal_year in sorted({m.year for m in [*months, month]}):
                    kpi_services.target_set_year(kpi=kpi, fiscal_year=fiscal_year, mode="same", value=Decimal(90),
                                                 by=admin)  # fmt: skip
                kpi_services.measurements_record(
                    # a history of reds, ambers and greens, taken as an import may take them: without causes
                    items=[kpi_services.MeasurementInput(kpi=kpi, period=m, value=Decimal(60 + (index * 7 + i) % 35),
                                                         cause_missing=True)
                           for i, m in enumerate(months)],
                    by=head, organization=organization,
                )  # fmt: skip
                ids.append(kpi.pk)
            return unit.pk, ids

        world["executives"] = _people("executive", EXECUTIVES)
        for email in world["executives"]:
            member(email, Role.EXECUTIVE)
        world["heads"] = []
        for index, email in enumerate(_people("head", HEADS)):
            head = member(email, Role.VIEWER)  # made department head of the team below
            unit, _ = team(f"Load team {index + 1:02d}", divisions[index % len(divisions)], head, HEAD_KPIS,
                           f"LT{index + 1:02d}")  # fmt: skip
            world["heads"].append({"email": email, "unit": unit})
        world["feeds"] = []
        for index, email in enumerate(_people("feed", FEEDS)):
            client = member(email, Role.VIEWER)
            unit, kpis = team(f"Data feed {index + 1:02d}", divisions[index % len(divisions)], client, FEED_KPIS,
                        f"DF{index + 1:02d}")  # fmt: skip
            _, key = services.personal_token_create(user=client, name="load test feed")
            world["feeds"].append({"email": email, "token": key, "unit": unit, "kpis": kpis})
        world["coaches"] = []
        start = timezone.now() + timedelta(days=7)
        for index, email in enumerate(_people("coach", COACHES)):
            coach = member(email, Role.COACH)
            unit = OrgUnit.objects.get(pk=demo_units[index % len(demo_units)])
            session = coaching_services.session_schedule(
                unit=unit, coach=coach, kind="check_in", scheduled_at=start + timedelta(hours=index),
                participants=[admin], agenda="Progress on the red KPIs.",
            )  # fmt: skip
            world["coaches"].append({"email": email, "session": session.pk})
        scores_rebuild(organization=organization)  # every score stored: no page waits for a worker
    world["units"] = demo_units
    world["month"] = f"{month:%Y-%m}"
    return world


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.load.settings")
    import django

    django.setup()
    world = build()
    Path(argv[0]).write_text(json.dumps(world, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
