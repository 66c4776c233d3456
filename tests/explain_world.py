"""A small organization that uses every scoring rule, for the score explainer's tests: three units whose roll-ups
(sum and weighted average) reach the top, a formula, a band with a tolerance, a zero-target KPI, each time
aggregation, months without values and a KPI without any, objectives aligned up the tree; stored scores rebuilt."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bsc import strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import Kpi, PendingRecompute
from kpis.recompute import scores_recompute_full
from tests.recompute_world import MONTHS, Rollups, make_rollups

D = Decimal


@dataclass
class ExplainWorld:
    rollups: Rollups
    band: Kpi
    total: Kpi
    zero: Kpi
    weighted: Kpi
    formula: Kpi
    empty: Kpi


def make_explain_world(world) -> ExplainWorld:
    rollups = make_rollups(world)
    admin = world.admin_a
    with organization_scope(world.org_a):
        assemble = rollups.speed.objective
        deliver = rollups.people.objective
        grow = rollups.company_total.objective

        def kpi(unit, code, goal, values, target=None, **fields):
            made = services.kpi_create(unit=unit, name=f"{code} name", code=code, objective=goal, **fields)
            if target is not None:
                services.target_set_year(kpi=made, fiscal_year=2026, mode="same", value=D(target), by=admin)
            for month, value in zip(MONTHS, values, strict=False):
                if value is not None:
                    services.measurement_record(kpi=made, period=month, value=D(value), by=admin, schedule=False)
            return made

        band = kpi(world.department_a, "BND", assemble, [5, 7, 9], direction="band", band_low=D(4), band_high=D(6),
                   band_tolerance=D(2), time_aggregation="last")  # fmt: skip
        total = kpi(world.department_a, "SUMK", assemble, [30, None, 45], target=40, baseline=D(0),
                    time_aggregation="sum", weight=D("1.5"))  # fmt: skip
        zero = kpi(world.department_a, "ZLT", assemble, [0, 1, 0], target=0, direction="decrease", baseline=D(0),
                   time_aggregation="max", green_threshold=D("0.95"), amber_threshold=D("0.5"))  # fmt: skip
        weighted = kpi(world.division_a, "WAV", deliver, [], target=80, baseline=D(50), source="rollup",
                       rollup_method="weighted_average", time_aggregation="min")  # fmt: skip
        kpi(
            world.department_a,
            "MN",
            None,
            [70, 75, 90],
            target=80,
            baseline=D(50),
            weight=D(3),
            aligned_to=weighted,
            time_aggregation="min",
        )
        kpi(
            world.department_a,
            "MX",
            None,
            [60, 65, None],
            target=80,
            baseline=D(50),
            weight=D(1),
            aligned_to=weighted,
            time_aggregation="max",
        )
        formula = kpi(world.company_a, "FRM", grow, [], target=300, baseline=D(100), source="formula",
                      formula="CO + DIV / 3")  # fmt: skip
        empty = kpi(world.company_a, "NONE", grow, [], target=10, baseline=D(0))
        # a second perspective with an objective of its own, and one without any KPI
        learning = Perspective.objects.get(scorecard__unit=world.company_a, name="Learning & Growth")
        strategy.objective_create(perspective=learning, name="Nothing measured yet")
        scores_recompute_full(organization=world.org_a)
        PendingRecompute.objects.for_organization(world.org_a).delete()  # the rebuild covered them: nothing waits
    return ExplainWorld(rollups, band, total, zero, weighted, formula, empty)
