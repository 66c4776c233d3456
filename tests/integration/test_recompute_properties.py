"""Hypothesis: on random unit trees with manual and roll-up KPIs, aligned KPIs and objectives, any sequence
of measurement edits and deletions recomputed incrementally (the edited KPI, or its whole unit, and month),
interleaved with KPIs created, archived and restored, frequencies changed (on KPIs without data) and targets
added without values (each recomputed from what the services noted in the recompute outbox), ends in exactly
the stored scores a full recompute from scratch gives; formula KPIs refer to KPIs of any unit; scores and
coverage stay within [0, 1]; objective scores follow kpis.scoring with renormalised weights that sum to 1."""

from __future__ import annotations

import contextlib
import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bsc import services as bsc_services
from bsc import strategy
from bsc.models import Objective, Perspective
from bsc.tenancy import organization_scope
from kpis import outbox, scoring, services
from kpis.models import Kpi, KpiScore, Measurement, ObjectiveScore, PerspectiveScore, ScorecardScore, Target
from kpis.recompute import scores_recompute, scores_recompute_full
from tests import factories

MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
METHODS = ["sum", "average", "weighted_average", "min", "max"]
AGGREGATIONS = ["sum", "average", "last", "min", "max"]
SCORE_TABLES = (
    (KpiScore, "kpi_id"),
    (ObjectiveScore, "objective_id"),
    (PerspectiveScore, "perspective_id"),
    (ScorecardScore, "scorecard_id"),
)
_slugs = itertools.count(1)

values = st.integers(min_value=0, max_value=400).map(lambda n: Decimal(n) / 2)  # 0, 0.5, ... 200
pick = st.integers(0, 99)  # an index into a list of units or KPIs, modulo its length
changes_of_a_run = st.lists(
    st.one_of(
        # a measurement set (or deleted: None), recomputed for the KPI or for its whole unit
        st.tuples(st.just("edit"), pick, st.sampled_from(MONTHS), st.none() | values, st.booleans()),
        # a KPI on a unit (a roll-up where the unit has children), serving its objective or not, aligned to
        # one of the parent unit's KPIs or not
        st.tuples(
            st.just("create"), pick, st.none() | pick, st.booleans(), st.booleans(), st.sampled_from(AGGREGATIONS)
        ),
        st.tuples(st.just("archive or restore"), pick),
        st.tuples(st.just("frequency"), pick, st.sampled_from(["monthly", "quarterly", "annual"])),
        st.tuples(st.just("target"), pick, st.sampled_from(MONTHS), st.integers(1, 200)),
    ),
    min_size=1,
    max_size=7,
)


def stored_scores(organization) -> dict:
    rows = {}
    for model, owner in SCORE_TABLES:
        columns = [owner, "period_kind", "period", "score", "status", "coverage"]
        if model is KpiScore:
            columns.append("actual")
        for row in model.objects.for_organization(organization).values_list(*columns):
            rows[(model.__name__, *row[:3])] = row[3:]
    return rows


@dataclass
class World:
    units: list  # parents before children
    objective_of: dict  # unit id -> its objective
    kpis_of: dict  # unit id -> its KPIs, archived ones included
    manual: list  # the manual KPIs, archived ones included


def build_world(data, organization, admin) -> World:
    """A random tree (2–4 levels, 1–2 children per unit), each unit with an objective (aligned to the
    parent's, or not) and 1–2 KPIs (roll-ups where the unit has children), aligned to a parent KPI or not."""
    root = factories.root_unit(organization)
    levels = [[root]]
    for _ in range(data.draw(st.integers(1, 3), label="depth below the root")):
        below = []
        for parent in levels[-1]:
            for _ in range(data.draw(st.integers(1 if parent is root else 0, 2), label="children")):
                name = f"Unit {len(below)} of {parent.pk}"
                below.append(bsc_services.org_unit_create(organization=organization, name=name, parent=parent))
        if not below:
            break
        levels.append(below)
    has_children = {u.parent_id for level in levels for u in level}
    objective_of, kpis_of, manual = {}, {}, []
    for level in levels:
        for unit in level:
            perspective = Perspective.objects.get(
                scorecard__unit=unit, name=data.draw(st.sampled_from(["Financial", "Customer"]))
            )
            parent_objective = objective_of.get(unit.parent_id)
            aligned = parent_objective if parent_objective and data.draw(st.booleans(), label="align") else None
            objective_of[unit.pk] = strategy.objective_create(
                perspective=perspective, name=f"Objective {unit.pk}", aligned_to=aligned,
                weight=Decimal(data.draw(st.integers(1, 3), label="objective weight")),
            )  # fmt: skip
            kpis_of[unit.pk] = []
            for n in range(data.draw(st.integers(1, 2), label="KPIs")):
                is_rollup = unit.pk in has_children and data.draw(st.booleans(), label="roll-up")
                parents = kpis_of.get(unit.parent_id, [])
                aligned_kpi = data.draw(st.sampled_from([None, *parents]), label="aligned KPI") if parents else None
                kpi = services.kpi_create(
                    unit=unit, name=f"KPI {n}", code=f"K{unit.pk}_{n}", baseline=Decimal(0),
                    objective=objective_of[unit.pk] if data.draw(st.booleans(), label="serves") else None,
                    weight=Decimal(data.draw(st.integers(0, 3), label="KPI weight")),
                    aligned_to=aligned_kpi, source="rollup" if is_rollup else "manual",
                    rollup_method=data.draw(st.sampled_from(METHODS)) if is_rollup else "",
                    time_aggregation=data.draw(st.sampled_from(["sum", "average", "last", "min", "max"])),
                )  # fmt: skip
                kpis_of[unit.pk].append(kpi)
                if not is_rollup:
                    manual.append(kpi)
            earlier = [k for ks in kpis_of.values() for k in ks]
            if data.draw(st.booleans(), label="formula KPI"):  # refers to KPIs of any unit built so far
                left, right = data.draw(st.sampled_from(earlier)), data.draw(st.sampled_from(earlier))
                operator = data.draw(st.sampled_from(["+", "-", "*", "/"]), label="operator")
                kpis_of[unit.pk].append(
                    services.kpi_create(
                        unit=unit, name="Formula", code=f"F{unit.pk}", baseline=Decimal(0), source="formula",
                        formula=f"{left.code} {operator} {right.code} + 1", objective=objective_of[unit.pk],
                        weight=Decimal(1),
                    )
                )  # fmt: skip
                for month in MONTHS:
                    if data.draw(st.booleans(), label="has target"):
                        target = data.draw(st.integers(1, 200), label="target")
                        services.target_create(kpi=kpi, period=month, value=Decimal(target))
    for kpi in manual:  # some data before the edits start
        for month in MONTHS:
            value = data.draw(st.none() | values, label="initial value")
            if value is not None:
                services.measurement_record(kpi=kpi, period=month, value=value, by=admin, schedule=False)
    return World([u for level in levels for u in level], objective_of, kpis_of, manual)


def apply_edit(organization, admin, kpi, month, value, by_unit) -> None:
    current = Measurement.objects.for_organization(organization).filter(kpi=kpi, period=month).first()
    version = None if current is None else current.version
    try:
        if value is None:
            if current is None:
                return
            current.delete()  # no page or API deletes a value; the recompute must still drop its scores
        else:
            services.measurement_record(
                kpi=kpi, period=month, value=value, by=admin, expected_version=version, schedule=False
            )
    except ValidationError:  # archived, or the month does not start a period of the KPI's frequency
        return
    if by_unit:  # as after a change to the unit's structure
        scores_recompute(organization=organization, unit_ids={kpi.unit_id}, months={month})
    else:  # as the task does after a measurement changed
        scores_recompute(organization=organization, kpi_ids={kpi.pk}, months={month})


def apply_definition_change(organization, world, change) -> None:
    """A change other than a measurement, through the services (they note what to recompute in the outbox)."""
    kind, index, *rest = change
    every_kpi = [k for unit in world.units for k in world.kpis_of[unit.pk]]
    if kind == "create":
        unit = world.units[index % len(world.units)]
        parent_choice, serves, is_rollup, aggregation = rest
        parents = world.kpis_of.get(unit.parent_id, [])
        is_rollup = is_rollup and any(u.parent_id == unit.pk for u in world.units)
        kpi = services.kpi_create(
            unit=unit, name="New", code=f"N{len(every_kpi)}", baseline=Decimal(0),
            objective=world.objective_of[unit.pk] if serves else None,
            aligned_to=parents[parent_choice % len(parents)] if parents and parent_choice is not None else None,
            source="rollup" if is_rollup else "manual", rollup_method="sum" if is_rollup else "",
            time_aggregation=aggregation,
        )  # fmt: skip
        world.kpis_of[unit.pk].append(kpi)
        if not is_rollup:
            world.manual.append(kpi)
        return
    kpi = every_kpi[index % len(every_kpi)]
    kpi.refresh_from_db()
    if kind == "archive or restore":
        if kpi.archived_at is None:
            services.kpi_archive(kpi=kpi)
        else:
            services.kpi_restore(kpi=kpi)
    elif kind == "frequency":
        (frequency,) = rest
        held = [
            model.objects.for_organization(organization).filter(kpi=kpi).exists() for model in (Measurement, Target)
        ]
        if not any(held):
            services.kpi_update(kpi=kpi, frequency=frequency)  # refused while the KPI holds data
    elif kind == "target":  # a target where there may be no value (roll-ups and formulas never have one)
        month, target = rest
        if not Target.objects.for_organization(organization).filter(kpi=kpi, period=month).exists():
            with contextlib.suppress(ValidationError):  # the month does not start a period of the KPI's frequency
                services.target_create(kpi=kpi, period=month, value=Decimal(target))


@pytest.mark.django_db
# No shrinking: each example builds a database world, so shrinking a failure takes many minutes; the
# failing example's draws are printed in full anyway.
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=st.data(), changes=changes_of_a_run)
def test_incremental_recomputes_equal_a_full_recompute_from_scratch(db, data, changes):
    with transaction.atomic():
        organization = factories.make_organization(f"prop{next(_slugs)}")
        admin = organization_admin(organization)
        with organization_scope(organization):
            world = build_world(data, organization, admin)
            outbox.scores_rebuild(organization=organization)  # a consistent state, and the outbox emptied
            for change in changes:
                if change[0] == "edit":
                    _, index, month, value, by_unit = change
                    apply_edit(organization, admin, world.manual[index % len(world.manual)], month, value, by_unit)
                else:
                    apply_definition_change(organization, world, change)
                    outbox.scores_recompute_pending(organization=organization)  # what the task does
            incremental = stored_scores(organization)
            assert_objectives_follow_the_contract(organization)

            scores_recompute_full(organization=organization)  # over the stored rows: changes nothing
            assert stored_scores(organization) == incremental
            for model, _ in SCORE_TABLES:
                model.objects.for_organization(organization).delete()
            scores_recompute_full(organization=organization)
            full = stored_scores(organization)

            assert incremental == full
            for score, _status, coverage, *_ in full.values():
                assert score is None or 0 <= score <= 1
                assert 0 <= coverage <= 1
                if score is None:
                    assert coverage == 0
        transaction.set_rollback(True)  # each example starts from an empty organization list


def assert_objectives_follow_the_contract(organization) -> None:
    """Each stored objective score is kpis.scoring.weighted_score of its items' stored scores (its active KPIs
    and the child objectives aligned to it), and the renormalised weights of the items with data sum to 1."""
    kpi_scores = {(k, kind, p): s for k, kind, p, s in KpiScore.objects.for_organization(organization).values_list(
        "kpi_id", "period_kind", "period", "score")}  # fmt: skip
    objective_scores = {
        (o, kind, p): (s, c)
        for o, kind, p, s, c in ObjectiveScore.objects.for_organization(organization).values_list(
            "objective_id", "period_kind", "period", "score", "coverage"
        )
    }
    items = defaultdict(list)  # objective -> [(weight, kind of item, id)]
    for kpi in Kpi.objects.for_organization(organization).filter(archived_at__isnull=True, objective__isnull=False):
        items[kpi.objective_id].append((kpi.weight, kpi_scores, kpi.pk))
    for objective in Objective.objects.for_organization(organization).filter(aligned_to__isnull=False):
        items[objective.aligned_to_id].append((objective.weight, objective_scores, objective.pk))
    for (objective_id, kind, period), stored in objective_scores.items():
        pairs = []
        for weight, table, owner in items[objective_id]:
            score = table.get((owner, kind, period))
            pairs.append((weight, score[0] if isinstance(score, tuple) else score))
        assert stored == scoring.weighted_score(pairs)
        with_data = [Fraction(w) for w, s in pairs if s is not None]
        if stored[0] is not None:
            assert sum(w / sum(with_data) for w in with_data) == 1


def organization_admin(organization):
    from bsc.models import Membership

    return Membership.objects.for_organization(organization).get().user
