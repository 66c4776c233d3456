"""A small organization whose scores roll up three levels, for the recompute safety tests: the department's
KPIs feed the division's roll-up KPI, which feeds the company's; every unit has an objective (aligned up the
tree) so objective, perspective and scorecard scores exist at each level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import psycopg
from django.db import connection

from bsc import strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import Kpi, KpiScore, ObjectiveScore, PendingRecompute, PerspectiveScore, ScorecardScore
from kpis.recompute import scores_recompute_full

MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
SCORE_MODELS = [KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore]


@dataclass
class Rollups:
    speed: Kpi  # department, manual
    quality: Kpi  # department, manual
    division_total: Kpi  # division roll-up (sum) of speed and quality
    company_total: Kpi  # company roll-up (sum) of the division's
    people: Kpi  # division, manual, feeds the division's objective only


def make_rollups(world) -> Rollups:
    """KPIs, targets and three months of values; nothing recomputed yet (no task published either)."""
    admin = world.admin_a
    with organization_scope(world.org_a):

        def objective(unit, name, aligned_to=None):
            band = Perspective.objects.get(scorecard__unit=unit, name="Customer")
            return strategy.objective_create(perspective=band, name=name, aligned_to=aligned_to)

        top = objective(world.company_a, "Grow")
        middle = objective(world.division_a, "Deliver", aligned_to=top)
        bottom = objective(world.department_a, "Assemble well", aligned_to=middle)

        def kpi(unit, code, goal, **fields):
            fields.setdefault("baseline", Decimal(0))
            return services.kpi_create(unit=unit, name=code, code=code, objective=goal, **fields)

        company_total = kpi(world.company_a, "CO", top, source="rollup", rollup_method="sum")
        division_total = kpi(
            world.division_a, "DIV", middle, source="rollup", rollup_method="sum", aligned_to=company_total
        )
        speed = kpi(world.department_a, "SPD", bottom, aligned_to=division_total, weight=Decimal(2))
        quality = kpi(world.department_a, "QLT", bottom, aligned_to=division_total)
        people = kpi(world.division_a, "PPL", middle, direction="decrease", baseline=Decimal(50))
        for item, target in [(company_total, 200), (division_total, 150), (speed, 100), (quality, 60), (people, 10)]:
            services.target_set_year(kpi=item, fiscal_year=2026, mode="same", value=Decimal(target), by=admin)
        for month, (s, q, p) in zip(MONTHS, [(40, 30, 40), (70, 45, 25), (95, 20, 12)], strict=True):
            services.measurement_record(kpi=speed, period=month, value=Decimal(s), by=admin, schedule=False)
            services.measurement_record(kpi=quality, period=month, value=Decimal(q), by=admin, schedule=False)
            services.measurement_record(kpi=people, period=month, value=Decimal(p), by=admin, schedule=False)
        PendingRecompute.objects.all().delete()  # the targets above asked for recomputes: start clean
    return Rollups(speed, quality, division_total, company_total, people)


def stored_scores(organization) -> dict:
    """Every stored score row of the organization, all columns but the id and when it was computed."""
    rows = {}
    for model in SCORE_MODELS:
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in {"id", "computed_at"}]
        for values in model.objects.for_organization(organization).values_list(*columns):
            row = dict(zip(columns, values, strict=True))
            key = (model.__name__, *(row[c] for c in columns if c.endswith("_id") and c != "organization_id"))
            rows[(*key, row["period_kind"], row["period"])] = row
    return rows


def full_recompute_scores(organization) -> dict:
    """What a full recompute from the source rows stores (it runs here, in the test process)."""
    with organization_scope(organization):
        scores_recompute_full(organization=organization)
        return stored_scores(organization)


def pending_count(organization) -> int:
    return PendingRecompute.objects.for_organization(organization).count()


def other_connection() -> psycopg.Connection:
    """A second database connection of the test process, e.g. to hold a lock a worker must wait for."""
    return psycopg.connect(**connection.get_connection_params())


def backends_blocked_by(blocker: psycopg.Connection) -> list[tuple[int, str | None]]:
    """(pid, xid) of the database sessions waiting for a lock the blocker holds; an xid means the session
    has already written in its open transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_xid::text FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
            [blocker.info.backend_pid],
        )
        return cursor.fetchall()
