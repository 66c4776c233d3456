"""The organization the roll-up cases share (built once per run): 1,000 units six levels below the root,
each with 20 manual KPIs measured for 36 months (720,000 measurements, loaded with COPY) and monthly targets;
every unit with children also has 20 roll-up KPIs ("sum"), and each child's manual and roll-up KPI of the
same slot is aligned to its parent's roll-up, so a roll-up holds the sum of its slot over the unit's subtree
below it. Four objectives per unit (one per perspective) are aligned to the parent's objective of the same
perspective, and the KPIs serve them."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import connection, transaction

from bsc import services
from bsc.models import Objective, Organization, OrgUnit, Perspective, User
from bsc.tenancy import organization_scope
from kpis.models import Kpi, Measurement, Target

SLUG = "bench-rollup"
LEVEL_SIZES = [1, 4, 12, 36, 108, 300, 539]  # 1,000 units, depths 0 to 6
SLOTS = 20
MONTHS = [date(2023 + m // 12, m % 12 + 1, 1) for m in range(36)]

_cache: dict = {}


def world() -> dict:
    """Build the organization once; returns organization, units by level, manual KPI ids and timings."""
    if _cache:
        return _cache
    started = time.perf_counter()
    admin = User.objects.create_user("bench-rollup@example.com", "bench-pass-phrase-1", full_name="Bench Rollup")
    organization = services.organization_create(slug=SLUG, name="Bench Rollup Inc.", admin=admin)
    with organization_scope(organization):
        levels = [[OrgUnit.objects.for_organization(organization).get(parent__isnull=True)]]
        for size in LEVEL_SIZES[1:]:
            parents = levels[-1]
            levels.append(
                [
                    services.org_unit_create(
                        organization=organization, name=f"Unit {len(levels)}.{i}", parent=parents[i % len(parents)]
                    )
                    for i in range(size)
                ]
            )
        objectives, rollups, manual = _definitions(organization, levels)
    _load_values(organization, manual, rollups)
    _cache.update(
        organization=organization,
        levels=levels,
        manual=manual,
        setup_s=round(time.perf_counter() - started, 1),
        kpis=len(manual) + len(rollups),
        objectives=objectives,
    )
    return _cache


def _definitions(organization: Organization, levels: list[list[OrgUnit]]):
    perspectives: dict[int, list[Perspective]] = {}
    for p in Perspective.objects.for_organization(organization).select_related("scorecard").order_by("order"):
        perspectives.setdefault(p.scorecard.unit_id, []).append(p)
    objective_of: dict[tuple[int, int], Objective] = {}
    rollup_of: dict[tuple[int, int], Kpi] = {}
    has_children = {u.parent_id for level in levels for u in level}
    parent_of = {u.pk: u.parent_id for level in levels for u in level}
    manual, rollups = [], []
    for level in levels:
        keys = [(u.pk, index) for u in level for index in range(len(perspectives[u.pk]))]
        created = Objective.objects.bulk_create(
            Objective(
                organization=organization, scorecard_id=perspectives[unit_id][index].scorecard_id,
                perspective=perspectives[unit_id][index], name=f"Objective {index} of {unit_id}",
                aligned_to=objective_of.get((parent_of[unit_id], index)),
            )
            for unit_id, index in keys
        )  # fmt: skip
        objective_of.update(zip(keys, created, strict=True))
        kpis = []
        for u in level:
            for slot in range(SLOTS):
                serves = objective_of[(u.pk, slot % len(perspectives[u.pk]))]
                parent_rollup = rollup_of.get((u.parent_id, slot))
                kpis.append(Kpi(organization=organization, unit=u, objective=serves, name=f"K{slot:02d}",
                                code=f"U{u.pk}K{slot:02d}", baseline=Decimal(0), aligned_to=parent_rollup,
                                time_aggregation="sum"))  # fmt: skip
                if u.pk in has_children:
                    kpis.append(Kpi(organization=organization, unit=u, objective=serves, name=f"R{slot:02d}",
                                    code=f"U{u.pk}R{slot:02d}", baseline=Decimal(0), aligned_to=parent_rollup,
                                    source="rollup", rollup_method="sum", time_aggregation="sum"))  # fmt: skip
        for kpi in Kpi.objects.bulk_create(kpis):
            if kpi.source == "rollup":
                rollup_of[(kpi.unit_id, int(kpi.name[1:]))] = kpi
                rollups.append(kpi.pk)
            else:
                manual.append(kpi.pk)
    return len(objective_of), rollups, manual


def _load_values(organization: Organization, manual: list[int], rollups: list[int]) -> None:
    """COPY the measurements and targets (setup only: triggers and FK checks are off while loading)."""
    entered = datetime(2026, 1, 1, tzinfo=UTC)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            columns = "organization_id, kpi_id, period, value, comment, entered_at, version"
            with cursor.cursor.copy(f"COPY {Measurement._meta.db_table} ({columns}) FROM STDIN") as copy:
                for n, kpi_id in enumerate(manual):
                    for m, month in enumerate(MONTHS):
                        copy.write_row(
                            (organization.pk, kpi_id, month, Decimal((n * 7 + m * 13) % 200) + 50, "", entered, 1)
                        )
            with cursor.cursor.copy(
                f"COPY {Target._meta.db_table} (organization_id, kpi_id, period, value) FROM STDIN"
            ) as copy:
                for kpi_id in manual:
                    for month in MONTHS:
                        copy.write_row((organization.pk, kpi_id, month, Decimal(200)))
                for kpi_id in rollups:
                    for month in MONTHS:
                        copy.write_row((organization.pk, kpi_id, month, Decimal(100_000)))
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute(
            f"ANALYZE {Measurement._meta.db_table}; ANALYZE {Target._meta.db_table}; ANALYZE {Kpi._meta.db_table}"
        )


# One raw statement: every unit's subtree sums per KPI slot and month over the measurement rows (a join of
# the measurements with the unit tree by materialized-path prefix, then GROUP BY ancestor, slot, period).
SUBTREE_SUMS = f"""
    WITH tree AS (
        SELECT u.id AS unit_id, a.id AS ancestor_id
        FROM {OrgUnit._meta.db_table} u JOIN {OrgUnit._meta.db_table} a
            ON a.organization_id = u.organization_id AND u.path LIKE a.path || '%%'
        WHERE u.organization_id = %(org)s
    )
    SELECT t.ancestor_id, k.name AS slot, m.period, sum(m.value) AS total
    FROM {Measurement._meta.db_table} m JOIN {Kpi._meta.db_table} k ON k.id = m.kpi_id
    JOIN tree t ON t.unit_id = k.unit_id
    WHERE m.organization_id = %(org)s
    GROUP BY t.ancestor_id, k.name, m.period
"""


def raw_subtree_sums(organization) -> tuple[float, int]:
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM ({SUBTREE_SUMS}) sums", {"org": organization.pk})
        groups = cursor.fetchone()[0]
    return time.perf_counter() - start, groups


def insert_subtree_sums(organization) -> tuple[float, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_subtree_sums (ancestor_id bigint, slot text, period date, total numeric)"
        )
        cursor.execute("TRUNCATE bench_subtree_sums")
        start = time.perf_counter()
        cursor.execute(f"INSERT INTO bench_subtree_sums {SUBTREE_SUMS}", {"org": organization.pk})
        return time.perf_counter() - start, cursor.rowcount


def timings() -> dict:
    """Every roll-up figure, measured once and shared by the three roll-up cases (rounds interleaved)."""
    if "timings" in _cache:
        return _cache["timings"]
    import statistics

    from kpis.recompute import scores_recompute, scores_recompute_full

    data = world()
    organization = data["organization"]
    raw, persisted, full, rollup_phase = [], [], [], []
    with organization_scope(organization):
        for _ in range(ROUNDS):
            raw.append(raw_subtree_sums(organization)[0])
            persisted.append(insert_subtree_sums(organization)[0])
            _clear_scores(organization)
            steps: dict[int, float] = {}
            start = time.perf_counter()
            written = scores_recompute_full(
                organization=organization,
                progress=lambda done, _total, steps=steps: steps.setdefault(done, time.perf_counter()),
            )
            full.append(time.perf_counter() - start)
            # Steps 1 to STRATA end the KPI strata: from the end of the manual KPIs (stratum 0) to the end of
            # the last roll-up stratum, the pass computes and stages every roll-up KPI's scores.
            rollup_phase.append(steps[STRATA] - steps[1])
        write_floor = _write_floor(organization)
        start = time.perf_counter()
        rewritten = scores_recompute_full(organization=organization)
        repeat_s = time.perf_counter() - start
        incremental, touched = [], []
        leaf_kpi = data["manual"][-1]
        for n in range(ROUNDS):
            month = MONTHS[-1 - n]
            Measurement.objects.for_organization(organization).filter(kpi_id=leaf_kpi, period=month).update(
                value=Decimal(1000 + n)
            )
            start = time.perf_counter()
            touched.append(scores_recompute(organization=organization, kpi_ids={leaf_kpi}, months={month}))
            incremental.append(time.perf_counter() - start)
    _cache["timings"] = timings = {
        "raw_s": statistics.median(raw),
        "insert_select_s": statistics.median(persisted),
        "full_s": statistics.median(full),
        "rollup_phase_s": statistics.median(rollup_phase),
        "write_floor_s": write_floor,
        "repeat_full_s": repeat_s,
        "incremental_s": statistics.median(incremental),
        "score_rows": written,
        "repeat_rows_written": rewritten,
        "incremental_rows": max(touched),
        "measurements": len(data["manual"]) * len(MONTHS),
    }
    _clear_scores(organization)
    timings.update(_worker_memory(organization))
    return timings


ROUNDS = 3
STRATA = len(LEVEL_SIZES)  # manual KPIs, then one stratum of roll-ups per level above the leaves


def _write_floor(organization) -> float:
    """The time to write the rows a full recompute stores (copied aside from one) back into the emptied score
    tables with one INSERT ... SELECT per table: what storing them costs with no computing at all."""
    from kpis.models import KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore

    tables = [model._meta.db_table for model in (KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore)]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DROP TABLE IF EXISTS floor_{table}")
            cursor.execute(
                f"CREATE TEMP TABLE floor_{table} AS SELECT * FROM {table} WHERE organization_id = %s",
                [organization.pk],
            )
        _clear_scores(organization)
        start = time.perf_counter()
        with transaction.atomic():
            for table in tables:
                cursor.execute(f"INSERT INTO {table} SELECT * FROM floor_{table}")
        elapsed = time.perf_counter() - start
        cursor.execute("DROP TABLE " + ", ".join(f"floor_{table}" for table in tables))
        # As the rebuild does after filling emptied tables (kpis.recompute._Pass.merge), outside the timing: the
        # statistics of the cleared tables would otherwise make the incremental recomputes measured next plan for
        # tables without the organization's rows until autovacuum happens to analyze them.
        cursor.execute("ANALYZE " + ", ".join(tables))
    return elapsed


def _clear_scores(organization) -> None:
    from kpis.models import KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore

    with connection.cursor() as cursor:
        for model in (KpiScore, ObjectiveScore, PerspectiveScore, ScorecardScore):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE organization_id = %s", [organization.pk])
        cursor.execute("VACUUM ANALYZE " + ", ".join(m._meta.db_table for m in (KpiScore, ObjectiveScore)))


_MEMORY_PROBE = """
import os, resource, sys
import django
django.setup()
from bsc.models import Organization
from bsc.tenancy import organization_scope
from kpis.recompute import scores_recompute_full
organization = Organization.objects.get(slug=sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with organization_scope(organization):
    scores_recompute_full(organization=organization)
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _worker_memory(organization) -> dict:
    """Peak resident memory of a fresh process (as a worker runs it) through a full recompute from empty
    score tables, against the same process just before it starts."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "BSC_DATABASE_NAME": connection.settings_dict["NAME"]}
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, organization.slug], env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"The memory probe failed: {result.stderr.strip()[-2000:]}")
    before_kb, peak_kb = map(int, result.stdout.split()[-2:])
    return {"worker_idle_mb": round(before_kb / 1024), "worker_peak_mb": round(peak_kb / 1024)}
