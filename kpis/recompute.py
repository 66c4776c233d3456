"""Stored scores, computed with set-based SQL: a handful of statements per pass, never a Python loop over
measurements, targets or score rows.

A pass has a scope (KPIs, units) and a set of windows (a month, or the fiscal quarter or year containing it):

1. the windows and their months, the KPIs in scope with a *stratum* (manual KPIs 0; a roll-up one more than
   the deepest child aligned to it; a formula one more than the deepest KPI it refers to), the units and
   their objectives go into temporary tables;
2. one statement aggregates measurements and targets over each window's months by each KPI's time
   aggregation;
3. stratum by stratum, one statement writes the KPI scores of its manual KPIs or roll-ups (aggregating
   the children's actuals), and one statement per formula KPI (its expression compiled to SQL, a division
   by zero giving no value);
4. one statement sums each objective's own KPIs; then unit depth by unit depth, deepest first, one statement
   writes objective scores (adding the child-unit objectives aligned to them); then one statement each for
   perspectives and scorecards.

The incremental pass scopes the touched KPIs plus everything that depends on them (the roll-ups they are
aligned to, up to the root, and formulas that refer to any of these), the units of those KPIs and their
ancestors, and the windows of the touched months; it writes upserts that leave an unchanged row alone
(`IS DISTINCT FROM`). A window that has no stored rows yet is computed for the whole organization, and a
window left without any measurement or target is deleted, so incremental and full always agree (tests
prove it). The full pass takes every KPI, unit and window of the organization and works staged (`_Store`):
plain inserts into temporary tables, each stratum's values pushed once to their roll-ups as sums, and a
merge into the score tables at the end that deletes rows without a source, updates rows that differ and
inserts new ones, so a pass that finds nothing new writes nothing. Running a pass twice, or two at once
(they queue on an advisory lock per organization), ends in the same rows.

Rounding follows kpis/scoring.py: progress and scores half-even to 4 places (`kpis_round_half_even`, created
by migration), coverage rounded down. docs/scoring.md describes the contract.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date

from django.db import connection, transaction

from bsc import org_calendar
from bsc.models import Objective, Organization, OrgUnit, Perspective, Scorecard
from kpis import formula as formulas
from kpis import period_close
from kpis.models import (
    Kpi,
    KpiScore,
    Measurement,
    ObjectiveScore,
    PerspectiveScore,
    ScorecardScore,
    Source,
    Target,
)

PROGRESS_LIMIT = 99999999  # the progress column's range; larger progress means a target next to the baseline
ACTUAL_LIMIT = 10**14  # the actual column holds 20 digits with 6 places; a formula beyond it has no value
LOCK_NAMESPACE = 7301  # pg_advisory_xact_lock(namespace, organization id) for score recomputes

_KPI, _MEASUREMENT, _TARGET = Kpi._meta.db_table, Measurement._meta.db_table, Target._meta.db_table
_UNIT, _SCORECARD = OrgUnit._meta.db_table, Scorecard._meta.db_table
_OBJECTIVE, _PERSPECTIVE = Objective._meta.db_table, Perspective._meta.db_table
_SCORE_TABLES = {  # model -> (table, owner column)
    KpiScore: (KpiScore._meta.db_table, "kpi_id"),
    ObjectiveScore: (ObjectiveScore._meta.db_table, "objective_id"),
    PerspectiveScore: (PerspectiveScore._meta.db_table, "perspective_id"),
    ScorecardScore: (ScorecardScore._meta.db_table, "scorecard_id"),
}


@dataclass(frozen=True)
class _Store:
    """Where a pass reads and writes scores. The incremental pass works on the score tables themselves and
    upserts; the full pass writes plain inserts into temporary tables of the same columns (no index, no
    constraint, no WAL), reads the children's values back from them, and merges them into the score tables
    at the end (`_merge`), so that a rebuild from empty tables costs one ordered insert per row."""

    tables: tuple[tuple[type, str], ...]
    upsert: bool
    frozen: bool = False  # some windows of the pass are closed for some units (rc_frozen): leave their rows

    def __getitem__(self, model) -> str:
        return dict(self.tables)[model]

    def tail(self, model, columns: list[str]) -> str:
        return _upsert(model, columns, self.frozen) if self.upsert else ""


_STORED = _Store(tuple((model, table) for model, (table, _) in _SCORE_TABLES.items()), upsert=True)
_STAGED = _Store(tuple((model, f"rc_{table}") for model, (table, _) in _SCORE_TABLES.items()), upsert=False)


@dataclass(frozen=True)
class Window:
    """A period of a score: its kind, first month, and the months it spans."""

    kind: str
    start: date
    months: tuple[date, ...]


def windows_for(month: date, fiscal_start: int) -> list[Window]:
    """The month itself, and the fiscal quarter and fiscal year that contain it."""
    windows = []
    for kind in org_calendar.KINDS:
        months = org_calendar.window_months(kind, month, fiscal_start)
        windows.append(Window(kind, months[0], months))
    return windows


def _windows(months: Iterable[date], fiscal_start: int) -> list[Window]:
    return sorted({w for month in months for w in windows_for(month, fiscal_start)}, key=lambda w: (w.start, w.kind))


# --- SQL pieces ------------------------------------------------------------------------------------------
# Each statement fills or reads the temporary tables rc_win (kind, start), rc_win_month (kind, start, month),
# rc_kpi (id, source, stratum), rc_month and rc_agg (kpi_id, period or kind and start, actual, target), rc_unit
# (id, depth, scorecard_id) and rc_obj (id, depth).


# The month's actual (manual KPIs) and target side by side, for every month of the windows.
_MONTH_VALUES_SQL = f"""
CREATE TEMP TABLE rc_month ON COMMIT DROP AS
SELECT COALESCE(m.kpi_id, t.kpi_id) AS kpi_id, COALESCE(m.period, t.period) AS period,
    m.value AS actual, t.value AS target
FROM (
    SELECT m.kpi_id, m.period, m.value FROM {_MEASUREMENT} m JOIN rc_kpi r ON r.id = m.kpi_id AND r.source = 'manual'
    WHERE m.period = ANY(%(months)s) AND (m.approval = 'approved' OR NOT %(need_approval)s)
) m
FULL JOIN (
    SELECT t.kpi_id, t.period, t.value FROM {_TARGET} t JOIN rc_kpi r ON r.id = t.kpi_id
    WHERE t.period = ANY(%(months)s)
) t ON t.kpi_id = m.kpi_id AND t.period = m.period
"""


def _aggregate(column: str) -> str:
    """A KPI's values over a window's months by its time aggregation (months without data are skipped), for
    the KPIs that take a minimum, a maximum or the last value: each aggregate only takes the rows of the KPIs
    that use it (FILTER)."""
    value, method = f"s.{column}", "k.time_aggregation"
    return f"""CASE {method}
        WHEN 'min' THEN min({value}) FILTER (WHERE {method} = 'min')
        WHEN 'max' THEN max({value}) FILTER (WHERE {method} = 'max')
        ELSE (max(ARRAY[(s.period - DATE '2000-01-01')::numeric, {value}])
            FILTER (WHERE {method} = 'last' AND {value} IS NOT NULL))[2]
    END"""


def _sum_or_average(column: str) -> str:
    value = f"s.{column}"
    return f"CASE k.time_aggregation WHEN 'sum' THEN sum({value}) ELSE sum({value}) / NULLIF(count({value}), 0) END"


# Window values: a month window takes the month's row as it is; quarters and years aggregate their months,
# sums and averages (the common case, two small states per group) apart from the others.
_AGGREGATE_SQL = f"""
CREATE TEMP TABLE rc_agg ON COMMIT DROP AS
SELECT s.kpi_id, w.kind, w.start, s.actual, s.target
FROM rc_month s JOIN rc_win w ON w.kind = 'month' AND w.start = s.period
UNION ALL
SELECT s.kpi_id, w.kind, w.start, {_sum_or_average("actual")}, {_sum_or_average("target")}
FROM rc_month s JOIN rc_win_month w ON w.kind <> 'month' AND w.month = s.period JOIN {_KPI} k ON k.id = s.kpi_id
WHERE k.time_aggregation IN ('sum', 'average')
GROUP BY s.kpi_id, w.kind, w.start, k.time_aggregation
UNION ALL
SELECT s.kpi_id, w.kind, w.start, {_aggregate("actual")}, {_aggregate("target")}
FROM rc_month s JOIN rc_win_month w ON w.kind <> 'month' AND w.month = s.period JOIN {_KPI} k ON k.id = s.kpi_id
WHERE k.time_aggregation NOT IN ('sum', 'average')
GROUP BY s.kpi_id, w.kind, w.start, k.time_aggregation
"""


def _progress() -> str:
    """DESIGN.md section 5 in SQL (kpis.scoring.kpi_progress) over a row giving the KPI's direction, baseline
    and band, the window's actual and target, and the parts `distance` (band) and `ratio` (increase or
    decrease). Unclamped, rounded half-even to 4 places."""
    return """CASE
        WHEN direction = 'band' THEN CASE
            WHEN actual IS NULL OR band_low IS NULL OR band_high IS NULL THEN NULL
            WHEN distance = 0 THEN 1
            WHEN COALESCE(band_tolerance, 0) = 0 OR distance >= band_tolerance THEN 0
            ELSE kpis_round_half_even(1 - distance / band_tolerance, 4) END
        WHEN actual IS NULL OR baseline IS NULL OR target IS NULL THEN NULL
        WHEN target = baseline THEN CASE
            WHEN (direction = 'increase' AND actual >= target) OR (direction = 'decrease' AND actual <= target)
            THEN 1 ELSE 0 END
        ELSE kpis_round_half_even(ratio, 4)
    END"""


def _status(score: str, green: str, amber: str) -> str:
    return f"""CASE WHEN {score} IS NULL THEN 'grey' WHEN {score} >= {green} THEN 'green'
        WHEN {score} >= {amber} THEN 'amber' ELSE 'red' END"""


def _value_columns(model, columns: list[str]) -> list[str]:
    """The columns of a score row that a recompute compares (not its key, organization or timestamp)."""
    owner = _SCORE_TABLES[model][1]
    return [c for c in columns if c not in {owner, "period_kind", "period", "organization_id", "computed_at"}]


def _upsert(model, columns: list[str], frozen: bool = False) -> str:
    """INSERT ... ON CONFLICT that rewrites a row only when one of its values changed (and, with `frozen`, only
    when its window is not closed for its unit)."""
    table, owner = _SCORE_TABLES[model]
    values = _value_columns(model, columns)
    changed = ", ".join(f"{table}.{c}" for c in values), ", ".join(f"EXCLUDED.{c}" for c in values)
    keep = f"AND NOT {_is_frozen(model, table)}" if frozen else ""
    return f"""ON CONFLICT ({owner}, period_kind, period) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in values)}, computed_at = EXCLUDED.computed_at
        WHERE ({changed[0]}) IS DISTINCT FROM ({changed[1]}) {keep}"""


def _owner_unit(model, alias: str) -> str:
    """The unit of a score row's owner (`alias` names the row), as a scalar subquery."""
    owner = f"{alias}.{_SCORE_TABLES[model][1]}"
    if model is KpiScore:
        return f"(SELECT unit_id FROM {_KPI} WHERE id = {owner})"
    if model is ScorecardScore:
        return f"(SELECT unit_id FROM {_SCORECARD} WHERE id = {owner})"
    table = _OBJECTIVE if model is ObjectiveScore else _PERSPECTIVE
    return f"(SELECT c.unit_id FROM {table} x JOIN {_SCORECARD} c ON c.id = x.scorecard_id WHERE x.id = {owner})"


def _is_frozen(model, alias: str) -> str:
    """Whether the score row `alias` lies in a window closed for its unit (rc_frozen, kpis/period_close.py)."""
    return f"""EXISTS (SELECT 1 FROM rc_frozen f WHERE f.kind = {alias}.period_kind AND f.start = {alias}.period
        AND f.unit_id = {_owner_unit(model, alias)})"""


def _keep_frozen_sql(model) -> str:
    """Full pass: the staged rows of windows closed for their unit take back the stored rows' values, so that
    the merge leaves those alone and what is computed from them (roll-ups, objectives, perspectives and
    scorecards of open units) reads them as they are stored."""
    table, owner = _SCORE_TABLES[model]
    values = _value_columns(model, _merge_columns(model))
    return f"""UPDATE {_STAGED[model]} s SET {", ".join(f"{c} = t.{c}" for c in values)}, computed_at = t.computed_at
        FROM {table} t
        WHERE t.{owner} = s.{owner} AND t.period_kind = s.period_kind AND t.period = s.period
        AND {_is_frozen(model, "s")}"""


_KPI_COLUMNS = [
    "organization_id", "kpi_id", "period_kind", "period", "actual", "target", "progress", "score", "status",
    "coverage", "computed_at",
]  # fmt: skip


def _kpi_score_sql(store: _Store, where: str, values_cte: str | None = None, targets: str = "rc_agg") -> str:
    """Write the KPI scores of the rc_kpi rows matching `where`, for every window. Actuals come from
    `values_cte` (a CTE named v giving kpi_id, kind, start, actual and the roll-up coverage `cov`), or for
    manual KPIs straight from the window aggregates in rc_agg; targets from `targets` (rc_agg, or its
    roll-up rows rc_agg_rollup).

    Each layer is a subquery kept apart by OFFSET 0, so that every value is computed once per row: flattened,
    PostgreSQL would copy the progress expression into each place that reads it (a dozen per row)."""
    if values_cte is None:
        actual, cov, with_values, join_values = "g.actual", "NULL::numeric", "", ""
    else:
        actual, cov, with_values = "v.actual", "v.cov", f"WITH {values_cte}"
        join_values = "LEFT JOIN v ON v.kpi_id = k.id AND v.kind = w.kind AND v.start = w.start"
    return f"""
{with_values}
INSERT INTO {store[KpiScore]} ({", ".join(_KPI_COLUMNS)})
SELECT %(org)s, kpi_id, kind, start, actual, target, progress, score, {_status("score", "green", "amber")},
    CASE WHEN score IS NULL THEN 0 WHEN source = 'rollup' THEN COALESCE(cov, 0) ELSE 1 END, now()
FROM (
    -- GREATEST and LEAST skip NULLs: the CASE keeps "no data" NULL
    SELECT kpi_id, kind, start, actual, target, source, cov, green, amber,
        CASE WHEN raw IS NOT NULL THEN GREATEST(LEAST(raw, {PROGRESS_LIMIT}), -{PROGRESS_LIMIT}) END AS progress,
        CASE WHEN raw IS NOT NULL THEN GREATEST(LEAST(raw, 1), 0) END AS score
    FROM (
        SELECT *, {_progress()} AS raw
        FROM (
            SELECT k.id AS kpi_id, w.kind, w.start, {actual} AS actual, g.target, k.source, {cov} AS cov,
                COALESCE(k.green_threshold, o.green_threshold) AS green,
                COALESCE(k.amber_threshold, o.amber_threshold) AS amber,
                k.direction, k.baseline, k.band_low, k.band_high, k.band_tolerance,
                CASE WHEN k.direction = 'band' THEN CASE WHEN {actual} < k.band_low THEN k.band_low - {actual}
                    WHEN {actual} > k.band_high THEN {actual} - k.band_high ELSE 0 END END AS distance,
                CASE WHEN k.direction <> 'band' AND g.target <> k.baseline
                    THEN ({actual} - k.baseline) / (g.target - k.baseline) END AS ratio
            FROM rc_kpi r JOIN {_KPI} k ON k.id = r.id JOIN bsc_organization o ON o.id = k.organization_id
            CROSS JOIN rc_win w
            {join_values}
            LEFT JOIN {targets} g ON g.kpi_id = k.id AND g.kind = w.kind AND g.start = w.start
            WHERE {where}
            OFFSET 0
        ) parts
        OFFSET 0
    ) scored
    OFFSET 0
) final
{store.tail(KpiScore, _KPI_COLUMNS)}
"""


# A roll-up aggregates the actuals of the active child-unit KPIs aligned to it (already computed, as they sit
# in a lower stratum or outside the scope). With no weight at all, every child counts the same. Coverage:
# weight of children with data over the weight of all of them, rounded down. The children's values come in
# as sums (`_PARTIALS`), so that they can be added up in one go (incremental pass) or in pieces (full pass).
_PARTIALS = "total, n, low, high, weighted, with_weight"


def _partials(actual: str, weight: str, method: str) -> str:
    """The sums a roll-up needs over some of its children (see `_rollup_actual`), in `_PARTIALS` order."""
    return f"""sum({actual}) AS total, count({actual}) AS n,
        min({actual}) FILTER (WHERE {method} = 'min') AS low, max({actual}) FILTER (WHERE {method} = 'max') AS high,
        sum({actual} * {weight}) FILTER (WHERE {method} = 'weighted_average') AS weighted,
        sum({weight}) FILTER (WHERE {actual} IS NOT NULL) AS with_weight"""


def _rollup_actual(children_sql: str) -> str:
    """The CTE v of roll-up values from `children_sql` rows: kpi_id, kind, start, the roll-up's method, the
    weight and number of all its children (`weight_all`, `children`) and the `_PARTIALS` of its children."""
    return f"""v AS (
    SELECT kpi_id, kind, start,
        CASE method
            WHEN 'sum' THEN total
            WHEN 'average' THEN total / NULLIF(n, 0)
            WHEN 'min' THEN low
            WHEN 'max' THEN high
            ELSE weighted / NULLIF(weight_with_data, 0)
        END AS actual,
        CASE WHEN weight_with_data > 0 THEN trunc(weight_with_data / weight_all, 4) ELSE 0 END AS cov
    FROM (
        SELECT kpi_id, kind, start, method, total, n, low, high,
            CASE WHEN weight_all = 0 THEN total ELSE weighted END AS weighted,
            CASE WHEN weight_all = 0 THEN n ELSE COALESCE(with_weight, 0) END AS weight_with_data,
            CASE WHEN weight_all = 0 THEN children ELSE weight_all END AS weight_all
        FROM ({children_sql}) children
    ) sums
)"""


# Each roll-up of the stratum with the weight and number of its children, whatever the window.
_ROLLUPS_OF_STRATUM = f"""
    SELECT p.id, p.rollup_method AS method, sum(c.weight) AS weight_all, count(*) AS children
    FROM rc_kpi r JOIN {_KPI} p ON p.id = r.id
    JOIN {_KPI} c ON c.aligned_to_id = p.id AND c.archived_at IS NULL
    WHERE r.source = 'rollup' AND r.stratum = %(stratum)s
    GROUP BY p.id, p.rollup_method"""


def _rollup_values(store: _Store) -> str:
    """Roll-up values of a stratum: the incremental pass adds up the children's rows in the score table
    (read through its index: in or out of scope, they are there); the full pass adds up the sums pushed to
    rc_roll by the strata below (`_PUSH_SQL`), so no stratum reads the whole staged table again."""
    if store.upsert:
        children = f"""
            SELECT p.id AS kpi_id, w.kind, w.start, p.method, p.weight_all, p.children,
                {_partials("s.actual", "c.weight", "p.method")}
            FROM ({_ROLLUPS_OF_STRATUM}) p
            JOIN {_KPI} c ON c.aligned_to_id = p.id AND c.archived_at IS NULL
            CROSS JOIN rc_win w
            LEFT JOIN {store[KpiScore]} s ON s.kpi_id = c.id AND s.period_kind = w.kind AND s.period = w.start
            GROUP BY p.id, w.kind, w.start, p.method, p.weight_all, p.children"""
    else:
        children = f"""
            SELECT p.id AS kpi_id, w.kind, w.start, p.method, p.weight_all, p.children,
                x.total, x.n, x.low, x.high, x.weighted, x.with_weight
            FROM ({_ROLLUPS_OF_STRATUM}) p CROSS JOIN rc_win w
            LEFT JOIN (
                SELECT kpi_id, kind, start, sum(total) AS total, sum(n) AS n, min(low) AS low, max(high) AS high,
                    sum(weighted) AS weighted, sum(with_weight) AS with_weight
                FROM rc_roll WHERE kpi_id IN (SELECT id FROM rc_kpi WHERE stratum = %(stratum)s)
                GROUP BY kpi_id, kind, start
            ) x ON x.kpi_id = p.id AND x.kind = w.kind AND x.start = w.start"""
    return _rollup_actual(children)


# Full pass: once a stratum is staged, its KPIs' values go up to the roll-ups they are aligned to, as sums
# per roll-up and window (every KPI in scope has a staged row for every window, grey ones included).
_PUSH_SQL = f"""
INSERT INTO rc_roll (kpi_id, kind, start, {_PARTIALS})
SELECT p.id, s.period_kind, s.period, {_partials("s.actual", "c.weight", "p.rollup_method")}
FROM rc_kpi r JOIN {_KPI} c ON c.id = r.id AND c.archived_at IS NULL
JOIN rc_kpi pr ON pr.id = c.aligned_to_id AND pr.source = 'rollup' JOIN {_KPI} p ON p.id = pr.id
JOIN {_STAGED[KpiScore]} s ON s.kpi_id = c.id
WHERE r.stratum = %(stratum)s
GROUP BY p.id, s.period_kind, s.period
"""


def _formula_values(store: _Store, kpi_id: int, parsed: formulas.Formula, ref_ids: dict[str, int]) -> tuple[str, dict]:
    """A formula KPI's value per window, its expression compiled to SQL over the stored actuals of the KPIs
    it refers to (a code without an active KPI has no value; so has a division by zero)."""
    params: dict = {"formula_kpi": kpi_id}
    joins = []
    aliases: dict[str, str] = {}
    for index, code in enumerate(sorted(parsed.codes)):
        alias = aliases[code] = f"ref{index}"
        params[alias] = ref_ids.get(code, 0)  # id 0 matches nothing: no value
        joins.append(
            f"LEFT JOIN {store[KpiScore]} {alias} ON {alias}.kpi_id = %({alias})s "
            f"AND {alias}.period_kind = w.kind AND {alias}.period = w.start"
        )

    def compile_node(node) -> str:
        if isinstance(node, formulas.Number):
            key = f"n{len(params)}"
            params[key] = node.value
            return f"%({key})s::numeric"
        if isinstance(node, formulas.Code):
            return f"{aliases[node.name]}.actual"
        if isinstance(node, formulas.Unary):
            operand = compile_node(node.operand)
            return operand if node.op == "+" else f"(-{operand})"
        left, right = compile_node(node.left), compile_node(node.right)
        return f"({left} / NULLIF({right}, 0))" if node.op == "/" else f"({left} {node.op} {right})"

    expression = compile_node(parsed.tree)
    cte = f"""v AS (
        SELECT %(formula_kpi)s::bigint AS kpi_id, kind, start,
            CASE WHEN abs(value) < {ACTUAL_LIMIT} THEN value END AS actual, NULL::numeric AS cov
        FROM (SELECT w.kind, w.start, {expression} AS value FROM rc_win w {" ".join(joins)}) e
    )"""
    return cte, params


def _weighted(parts_sql: str, owner: str) -> str:
    """Weighted mean with coverage (kpis.scoring.weighted_score) over `parts_sql` rows (owner, kind, start,
    total, with_data, weighted: sums over some of the owner's items, see `_item`): items without data are left
    out and the weights renormalised."""
    return f"""SELECT {owner}, kind, start,
        CASE WHEN with_data > 0 THEN kpis_round_half_even(weighted / with_data, 4) END AS score,
        CASE WHEN with_data > 0 THEN trunc(with_data / total, 4) ELSE 0 END AS coverage
    FROM (
        SELECT {owner}, kind, start, sum(total) AS total, sum(with_data) AS with_data, sum(weighted) AS weighted
        FROM ({parts_sql}) parts GROUP BY {owner}, kind, start
    ) sums
    OFFSET 0"""


def _item(weight: str, score: str) -> str:
    """One item's part of a weighted mean: its weight, its weight again if it has data, and weight x score."""
    return (
        f"{weight} AS total, CASE WHEN {score} IS NOT NULL THEN {weight} ELSE 0 END AS with_data, "
        f"{weight} * {score} AS weighted"
    )


_SCORE_COLUMNS = ["organization_id", "period_kind", "period", "score", "status", "coverage", "computed_at"]


def _store_sql(store: _Store, model, owners_sql: str, weighted_sql: str) -> str:
    """Write a score row for every owner of `owners_sql` and every window (grey where there is no data)."""
    table, owner = store[model], _SCORE_TABLES[model][1]
    columns = [owner, *_SCORE_COLUMNS]
    return f"""
WITH scored AS ({weighted_sql})
INSERT INTO {table} ({", ".join(columns)})
SELECT x.id, %(org)s, w.kind, w.start, s.score, {_status("s.score", "%(green)s", "%(amber)s")},
    COALESCE(s.coverage, 0), now()
FROM ({owners_sql}) x CROSS JOIN rc_win w
LEFT JOIN scored s ON s.{owner} = x.id AND s.kind = w.kind AND s.start = w.start
{store.tail(model, columns)}
"""


def _objective_kpis_sql(store: _Store) -> str:
    """The KPI part of every objective's weighted mean, per window, in one pass (the objectives' own KPIs do
    not depend on unit depth; only the child objectives aligned to them do). The full pass reads the staged
    rows straight through (every KPI in scope has one per window); the incremental pass looks up the KPI
    rows of the objectives in scope."""
    if store.upsert:
        items = f"""SELECT o.id AS objective_id, w.kind, w.start, {_item("k.weight", "s.score")}
            FROM rc_obj o JOIN {_KPI} k ON k.objective_id = o.id AND k.archived_at IS NULL CROSS JOIN rc_win w
            LEFT JOIN {store[KpiScore]} s ON s.kpi_id = k.id AND s.period_kind = w.kind AND s.period = w.start"""
    else:
        items = f"""SELECT o.id AS objective_id, s.period_kind AS kind, s.period AS start, {_item("k.weight", "s.score")}
            FROM {store[KpiScore]} s JOIN {_KPI} k ON k.id = s.kpi_id JOIN rc_obj o ON o.id = k.objective_id"""
    return f"""
CREATE TEMP TABLE rc_obj_kpi ON COMMIT DROP AS
SELECT objective_id, kind, start, sum(total) AS total, sum(with_data) AS with_data, sum(weighted) AS weighted
FROM ({items}) items
GROUP BY objective_id, kind, start
"""


def _objectives_sql(store: _Store) -> str:
    parts = f"""
        SELECT p.* FROM rc_obj_kpi p JOIN rc_obj o ON o.id = p.objective_id WHERE o.depth = %(depth)s
        UNION ALL
        SELECT o.id, w.kind, w.start, {_item("c.weight", "s.score")}
        FROM rc_obj o JOIN {_OBJECTIVE} c ON c.aligned_to_id = o.id CROSS JOIN rc_win w
        LEFT JOIN {store[ObjectiveScore]} s ON s.objective_id = c.id AND s.period_kind = w.kind AND s.period = w.start
        WHERE o.depth = %(depth)s"""
    return _store_sql(
        store, ObjectiveScore, "SELECT id FROM rc_obj WHERE depth = %(depth)s", _weighted(parts, "objective_id")
    )


def _perspectives_sql(store: _Store) -> str:
    parts = f"""SELECT o.perspective_id, w.kind, w.start, {_item("o.weight", "s.score")}
        FROM rc_unit u JOIN {_OBJECTIVE} o ON o.scorecard_id = u.scorecard_id CROSS JOIN rc_win w
        LEFT JOIN {store[ObjectiveScore]} s ON s.objective_id = o.id AND s.period_kind = w.kind AND s.period = w.start"""
    owners = f"SELECT p.id FROM {_PERSPECTIVE} p JOIN rc_unit u ON u.scorecard_id = p.scorecard_id"
    return _store_sql(store, PerspectiveScore, owners, _weighted(parts, "perspective_id"))


def _scorecards_sql(store: _Store) -> str:
    parts = f"""SELECT p.scorecard_id, w.kind, w.start, {_item("p.weight", "s.score")}
        FROM rc_unit u JOIN {_PERSPECTIVE} p ON p.scorecard_id = u.scorecard_id CROSS JOIN rc_win w
        LEFT JOIN {store[PerspectiveScore]} s
            ON s.perspective_id = p.id AND s.period_kind = w.kind AND s.period = w.start"""
    return _store_sql(store, ScorecardScore, "SELECT scorecard_id AS id FROM rc_unit", _weighted(parts, "scorecard_id"))


def _merge_columns(model) -> list[str]:
    owner = _SCORE_TABLES[model][1]
    return [owner, *(_KPI_COLUMNS[2:] if model is KpiScore else _SCORE_COLUMNS[1:]), "organization_id"]


def _merge_sql(model, frozen: bool = False) -> list[str]:
    """The full pass's staged rows into the score tables: rows without a staged row go (archived KPIs,
    windows without data), changed rows are updated, new rows inserted in key order; unchanged rows are left
    alone, so a rebuild that finds nothing new writes nothing.

    One full join of the stored rows with the staged ones finds what differs (rc_diff: `gone` stored rows
    without a staged row, `fresh` staged rows without a stored one, and changed pairs); the delete, update and
    insert then read that difference only (empty on a rerun), through the score table's unique index. Into a
    table without a row of the organization (the first rebuild), `_fill_sql` inserts the staged rows straight."""
    table, owner = _SCORE_TABLES[model]
    staged = _STAGED[model]
    columns = _merge_columns(model)
    values = _value_columns(model, columns)
    key = (owner, "period_kind", "period")
    same_key = " AND ".join(f"t.{c} = s.{c}" for c in key)
    diff_key = " AND ".join(f"s.{c} = d.{c}" for c in key)
    keep = f"AND NOT {_is_frozen(model, 's')}" if frozen else ""
    return [
        "DROP TABLE IF EXISTS rc_diff",
        f"""CREATE TEMP TABLE rc_diff ON COMMIT DROP AS
            SELECT s.{owner} IS NOT NULL AND t.{owner} IS NULL AS gone, s.{owner} IS NULL AS fresh,
                {", ".join(f"COALESCE(t.{c}, s.{c}) AS {c}" for c in key)},
                {", ".join(f"t.{c}" for c in columns if c not in key)}
            FROM (SELECT * FROM {table} WHERE organization_id = %(org)s) s FULL JOIN {staged} t ON {same_key}
            WHERE s.{owner} IS NULL OR t.{owner} IS NULL
                OR ({", ".join(f"s.{c}" for c in values)}) IS DISTINCT FROM ({", ".join(f"t.{c}" for c in values)})""",
        f"DELETE FROM {table} s USING rc_diff d WHERE d.gone AND {diff_key} {keep}",
        f"""UPDATE {table} s SET {", ".join(f"{c} = d.{c}" for c in values)}, computed_at = d.computed_at
            FROM rc_diff d WHERE NOT d.gone AND NOT d.fresh AND {diff_key}""",
        f"""INSERT INTO {table} ({", ".join(columns)}) SELECT {", ".join(f"d.{c}" for c in columns)} FROM rc_diff d
            WHERE d.fresh ORDER BY {", ".join(f"d.{c}" for c in key)}""",
    ]


def _fill_sql(model) -> str:
    """The staged rows into a score table that has none of the organization's, in key order."""
    table, owner = _SCORE_TABLES[model]
    columns = ", ".join(_merge_columns(model))
    return (
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {_STAGED[model]} ORDER BY {owner}, period_kind, period"
    )


# --- One pass --------------------------------------------------------------------------------------------


@dataclass
class _KpiNode:
    id: int
    code: str
    source: str
    aligned_to_id: int | None
    formula: formulas.Formula | None


def _strata(nodes: dict[int, _KpiNode]) -> dict[int, int]:
    """Longest-path layering of the KPIs in scope: a KPI comes after the KPIs in scope it is computed from
    (a roll-up after its aligned children, a formula after the KPIs it refers to)."""
    by_code = {n.code: n.id for n in nodes.values()}
    inputs: dict[int, set[int]] = defaultdict(set)
    for node in nodes.values():
        if node.aligned_to_id in nodes and nodes[node.aligned_to_id].source == Source.ROLLUP:
            inputs[node.aligned_to_id].add(node.id)
        if node.formula is not None:
            inputs[node.id].update(by_code[c] for c in node.formula.codes if c in by_code and by_code[c] != node.id)
    stratum: dict[int, int] = {}
    remaining = set(nodes)
    level = 0
    while remaining:
        ready = {n for n in remaining if not (inputs[n] & remaining)}
        if not ready:  # a cycle through roll-ups and formulas (not refused at save): compute it in one layer
            ready = remaining
        for n in ready:
            stratum[n] = level
        remaining -= ready
        level += 1
    return stratum


class _Pass:
    """One recompute over a scope of KPIs and units and a set of windows, inside the caller's transaction."""

    def __init__(self, cursor, organization: Organization, store: _Store = _STORED):
        self.cursor = cursor
        self.organization = organization
        self.store = store
        self.rows = 0  # score rows inserted or changed

    def run(self, sql: str, params: dict | None = None) -> None:
        self.cursor.execute(sql, {"org": self.organization.pk, **(params or {})})
        self.rows += max(self.cursor.rowcount, 0)

    def prepare(self, windows: list[Window], nodes: dict[int, _KpiNode], unit_ids: set[int] | None) -> None:
        """Fill the temporary tables: windows, KPIs with their strata, units (None: all) and objectives."""
        cursor = self.cursor
        cursor.execute(
            "DROP TABLE IF EXISTS rc_win, rc_win_month, rc_kpi, rc_month, rc_agg, rc_agg_rollup, rc_unit, rc_obj, "
            "rc_obj_kpi, rc_frozen"
        )
        if not self.store.upsert:
            for model, staged in self.store.tables:
                columns = ", ".join(_merge_columns(model))
                cursor.execute(f"DROP TABLE IF EXISTS {staged}")
                cursor.execute(
                    f"CREATE TEMP TABLE {staged} ON COMMIT DROP AS SELECT {columns} FROM {_SCORE_TABLES[model][0]} "
                    "WITH NO DATA"
                )
            cursor.execute("DROP TABLE IF EXISTS rc_roll")
            cursor.execute(
                """CREATE TEMP TABLE rc_roll (kpi_id bigint, kind varchar(7), start date, total numeric, n bigint,
                low numeric, high numeric, weighted numeric, with_weight numeric) ON COMMIT DROP"""
            )
        cursor.execute(
            "CREATE TEMP TABLE rc_win (kind varchar(7), start date, PRIMARY KEY (kind, start)) ON COMMIT DROP"
        )
        cursor.execute("CREATE TEMP TABLE rc_win_month (kind varchar(7), start date, month date) ON COMMIT DROP")
        cursor.execute(
            "INSERT INTO rc_win SELECT * FROM unnest(%s::varchar[], %s::date[])",
            [[w.kind for w in windows], [w.start for w in windows]],
        )
        months = [(w.kind, w.start, m) for w in windows for m in w.months]
        cursor.execute(
            "INSERT INTO rc_win_month SELECT * FROM unnest(%s::varchar[], %s::date[], %s::date[])",
            [[k for k, _, _ in months], [s for _, s, _ in months], [m for _, _, m in months]],
        )
        strata = _strata(nodes)
        cursor.execute(
            "CREATE TEMP TABLE rc_kpi (id bigint PRIMARY KEY, source varchar(10), stratum int) ON COMMIT DROP"
        )
        cursor.execute(
            "INSERT INTO rc_kpi SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::int[])",
            [list(nodes), [n.source for n in nodes.values()], [strata[i] for i in nodes]],
        )
        unit_filter = "" if unit_ids is None else "AND u.id = ANY(%(units)s)"
        cursor.execute(
            f"""CREATE TEMP TABLE rc_unit ON COMMIT DROP AS
            SELECT u.id, u.depth, s.id AS scorecard_id FROM {_UNIT} u JOIN {_SCORECARD} s ON s.unit_id = u.id
            WHERE u.organization_id = %(org)s {unit_filter}""",
            {"org": self.organization.pk, "units": list(unit_ids or ())},
        )
        cursor.execute(
            f"""CREATE TEMP TABLE rc_obj ON COMMIT DROP AS
            SELECT o.id, u.depth FROM rc_unit u JOIN {_OBJECTIVE} o ON o.scorecard_id = u.scorecard_id"""
        )
        cursor.execute("ANALYZE rc_win; ANALYZE rc_win_month; ANALYZE rc_kpi; ANALYZE rc_unit; ANALYZE rc_obj")
        if period_close.frozen_windows(cursor, self.organization.pk):
            self.store = replace(self.store, frozen=True)
        self.strata = strata
        self.nodes = nodes
        self.whole = unit_ids is None
        self.months = sorted({m for _, _, m in months})

    def compute(self, progress: Callable[[int, int], None] | None = None) -> None:
        if not self.months:  # no data at all: a full pass still clears what is stored
            if not self.store.upsert:
                self.merge()
            return
        self.cursor.execute(
            _MONTH_VALUES_SQL, {"months": self.months, "need_approval": self.organization.values_need_approval}
        )
        self.cursor.execute("ANALYZE rc_month")
        self.cursor.execute(_AGGREGATE_SQL)
        self.cursor.execute("ANALYZE rc_agg")  # joined by hash: no index to build
        # The roll-ups' own rows apart: each roll-up stratum looks its targets up there, not among every KPI's.
        self.cursor.execute(
            """CREATE TEMP TABLE rc_agg_rollup ON COMMIT DROP AS
            SELECT g.* FROM rc_agg g JOIN rc_kpi r ON r.id = g.kpi_id AND r.source = 'rollup'"""
        )
        self.cursor.execute("ANALYZE rc_agg_rollup")
        self.cursor.execute("SELECT DISTINCT depth FROM rc_obj ORDER BY depth DESC")
        depths = [row[0] for row in self.cursor.fetchall()]
        levels = sorted(set(self.strata.values()))
        # One step per KPI stratum and objective depth, perspectives, scorecards, and the merge of a full pass.
        steps, step = len(levels) + len(depths) + 2 + (0 if self.store.upsert else 1), 0

        def advance():
            nonlocal step
            step += 1
            if progress is not None:
                progress(step, steps)

        ids_by_code = self.reference_ids()
        for level in levels:
            sources = defaultdict(list)
            for kpi_id, stratum in self.strata.items():
                if stratum == level:
                    sources[self.nodes[kpi_id].source].append(kpi_id)
            if sources[Source.MANUAL]:
                self.run(_kpi_score_sql(self.store, "r.source = 'manual'"))
            if sources[Source.ROLLUP]:
                where = "r.source = 'rollup' AND r.stratum = %(stratum)s"
                sql = _kpi_score_sql(self.store, where, _rollup_values(self.store), targets="rc_agg_rollup")
                self.run(sql, {"stratum": level})
            if level == levels[0]:
                self.analyze(KpiScore)
            if sources[Source.FORMULA] and not self.store.upsert:  # formulas look their references up by KPI
                self.cursor.execute(f"CREATE INDEX IF NOT EXISTS rc_staged_kpi ON {self.store[KpiScore]} (kpi_id)")
            for kpi_id in sorted(sources[Source.FORMULA]):
                parsed = self.nodes[kpi_id].formula
                cte, params = _formula_values(self.store, kpi_id, parsed, ids_by_code)
                self.run(_kpi_score_sql(self.store, "r.id = %(formula_kpi)s", cte), params)
            self.keep_frozen(KpiScore)
            if not self.store.upsert and level != levels[-1]:
                self.cursor.execute(_PUSH_SQL, {"stratum": level})
                if level == levels[0]:
                    self.cursor.execute("ANALYZE rc_roll")
            advance()
        thresholds = {"green": self.organization.green_threshold, "amber": self.organization.amber_threshold}
        self.cursor.execute(_objective_kpis_sql(self.store))
        self.cursor.execute("ANALYZE rc_obj_kpi")
        for depth in depths:
            self.run(_objectives_sql(self.store), {"depth": depth, **thresholds})
            self.keep_frozen(ObjectiveScore)
            if depth == depths[0]:
                self.analyze(ObjectiveScore)
            advance()
        self.run(_perspectives_sql(self.store), thresholds)
        self.keep_frozen(PerspectiveScore)
        self.analyze(PerspectiveScore)
        advance()
        self.run(_scorecards_sql(self.store), thresholds)
        self.keep_frozen(ScorecardScore)
        self.analyze(ScorecardScore)
        advance()
        if not self.store.upsert:
            self.merge()
            advance()

    def merge(self) -> None:
        """Move the staged rows of a full pass into the score tables (only what differs)."""
        self.rows = 0
        # Fresh statistics of the staged tables: the full join sizes its hash table by them.
        self.cursor.execute("ANALYZE " + ", ".join(table for _, table in self.store.tables))
        for model, (table, _) in _SCORE_TABLES.items():
            # Stops at the organization's first row (the score tables have no organization index).
            self.cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE organization_id = %s)", [self.organization.pk]
            )
            if not self.cursor.fetchone()[0]:
                self.run(_fill_sql(model))
                # From none of the organization's rows to all of them: without fresh statistics the next saves'
                # incremental recomputes plan for the table as it was (350 ms instead of 45 ms after a rebuild).
                self.cursor.execute(f"ANALYZE {table}")
                continue
            drop, diff, *writes = _merge_sql(model, self.store.frozen)
            self.cursor.execute(drop)
            self.cursor.execute(diff, {"org": self.organization.pk})
            for sql in writes:
                self.run(sql)

    def keep_frozen(self, model) -> None:
        """Full pass: put the stored rows of closed windows back into the staged table (the incremental pass
        leaves them through its upsert's condition)."""
        if self.store.frozen and not self.store.upsert:
            self.cursor.execute(_keep_frozen_sql(model))

    def analyze(self, model) -> None:
        """After the first large write of a whole-organization pass, refresh the table's statistics: the
        next statements read it back, and a plan made for an empty table would look rows up one by one."""
        if self.whole:
            self.cursor.execute(f"ANALYZE {self.store[model]}")

    def reference_ids(self) -> dict[str, int]:
        """Active KPIs by code for every code the formulas in scope refer to (in scope or not): one query."""
        ids = {n.code: n.id for n in self.nodes.values()}
        missing = {c for n in self.nodes.values() if n.formula is not None for c in n.formula.codes} - ids.keys()
        if missing:
            self.cursor.execute(
                f"SELECT code, id FROM {_KPI} WHERE organization_id = %s AND code = ANY(%s) AND archived_at IS NULL",
                [self.organization.pk, sorted(missing)],
            )
            ids.update(dict(self.cursor.fetchall()))
        return ids


def _kpi_nodes(cursor, organization_id: int, ids: Iterable[int] | None) -> dict[int, _KpiNode]:
    """Active KPIs (all of the organization's, or those ids) with what the strata need."""
    where = "" if ids is None else "AND id = ANY(%(ids)s)"
    cursor.execute(
        f"""SELECT id, code, source, aligned_to_id, formula FROM {_KPI}
        WHERE organization_id = %(org)s AND archived_at IS NULL {where}""",
        {"org": organization_id, "ids": list(ids or ())},
    )
    return {
        row[0]: _KpiNode(row[0], row[1], row[2], row[3], formulas.parse(row[4]) if row[2] == Source.FORMULA else None)
        for row in cursor.fetchall()
    }


def _dependents(cursor, organization_id: int, kpi_ids: set[int]) -> set[int]:
    """The KPIs whose values depend on these (archived ones included): the roll-ups they are aligned to,
    up to the root, and the formulas referring to any of them, closed over both."""
    cursor.execute(
        f"SELECT id, code, formula FROM {_KPI} WHERE organization_id = %s AND source = 'formula'", [organization_id]
    )
    formula_codes = {row[0]: (row[1], formulas.parse(row[2]).codes) for row in cursor.fetchall()}
    found: set[int] = set()
    frontier = set(kpi_ids)
    while frontier:
        cursor.execute(
            f"""WITH RECURSIVE up AS (
                SELECT id, aligned_to_id, code FROM {_KPI} WHERE organization_id = %s AND id = ANY(%s)
                UNION SELECT k.id, k.aligned_to_id, k.code FROM {_KPI} k JOIN up ON k.id = up.aligned_to_id
            ) SELECT id, code FROM up""",
            [organization_id, list(frontier)],
        )
        rows = cursor.fetchall()
        found.update(i for i, _ in rows)
        codes = {code for _, code in rows}
        frontier = {i for i, (_, refs) in formula_codes.items() if i not in found and refs & codes}
    return found


def _units_with_ancestors(cursor, organization_id: int, unit_ids: set[int]) -> set[int]:
    cursor.execute(
        f"""SELECT DISTINCT a.id FROM {_UNIT} u JOIN {_UNIT} a
            ON a.organization_id = u.organization_id AND u.path LIKE a.path || '%%'
        WHERE u.organization_id = %s AND u.id = ANY(%s)""",
        [organization_id, list(unit_ids)],
    )
    return {row[0] for row in cursor.fetchall()}


def _data_months(cursor, organization_id: int, months: Iterable[date] | None = None) -> set[date]:
    """The months (of those given, or all) in which the organization has any measurement or target. Given
    months are probed one by one through the (organization, period) indexes: one row found is enough."""
    if months is None:
        cursor.execute(
            f"""SELECT DISTINCT period FROM {_MEASUREMENT} WHERE organization_id = %(org)s
            UNION SELECT DISTINCT period FROM {_TARGET} WHERE organization_id = %(org)s""",
            {"org": organization_id},
        )
    else:
        cursor.execute(
            f"""SELECT month FROM unnest(%(months)s::date[]) AS month
            WHERE EXISTS (SELECT 1 FROM {_MEASUREMENT} WHERE organization_id = %(org)s AND period = month)
                OR EXISTS (SELECT 1 FROM {_TARGET} WHERE organization_id = %(org)s AND period = month)""",
            {"org": organization_id, "months": sorted(set(months))},
        )
    return {row[0] for row in cursor.fetchall()}


def data_months(organization: Organization) -> set[date]:
    """Every month in which the organization has a measurement or a target."""
    with connection.cursor() as cursor:
        return _data_months(cursor, organization.pk)


def _delete_windows(cursor, organization_id: int, windows: list[Window]) -> None:
    for table, _ in _SCORE_TABLES.values():
        cursor.execute(
            f"""DELETE FROM {table} s USING unnest(%s::varchar[], %s::date[]) AS w(kind, start)
            WHERE s.organization_id = %s AND s.period_kind = w.kind AND s.period = w.start""",
            [[w.kind for w in windows], [w.start for w in windows], organization_id],
        )


def _lock(cursor, organization: Organization) -> None:
    # One recompute per organization at a time: concurrent runs queue here instead of racing upserts.
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, organization.pk])
    # For this transaction only: room for the pass's hash joins and aggregates in memory, no merge joins (on
    # the temporary tables the planner would merge on the KPI alone and filter window pairs afterwards), and no
    # JIT compilation (each large statement would spend longer compiling its expressions than it saves).
    cursor.execute("SET LOCAL work_mem = '64MB'; SET LOCAL enable_mergejoin = off; SET LOCAL jit = off")


# --- Entry points ----------------------------------------------------------------------------------------


def scores_recompute_full(*, organization: Organization, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every stored score of the organization from the source rows (also the nightly repair path for
    a recompute lost between commit and publish), and delete score rows that no longer have a source.
    `progress(done, total)` is told as stages finish. Returns the number of score rows written or changed."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, organization)
        windows = _windows(_data_months(cursor, organization.pk), organization.fiscal_year_start_month)
        run = _Pass(cursor, organization, _STAGED)
        run.prepare(windows, _kpi_nodes(cursor, organization.pk, None), unit_ids=None)
        run.compute(progress)
    return run.rows


def scores_recompute(
    *,
    organization: Organization,
    months: Iterable[date],
    kpi_ids: Iterable[int] = (),
    unit_ids: Iterable[int] = (),
) -> int:
    """Recompute what depends on changes to these KPIs (or to any KPI, objective or weight of these units)
    in these months: the windows containing them, for the dependent KPIs, their units and the ancestors.
    Returns the number of score rows written or changed."""
    months = set(months)
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor, organization)
        windows = _windows(months, organization.fiscal_year_start_month)
        if not windows:
            return 0
        with_data = _data_months(cursor, organization.pk, {m for w in windows for m in w.months})
        gone = [w for w in windows if not with_data.intersection(w.months)]
        _delete_windows(cursor, organization.pk, gone)
        live = [w for w in windows if w not in gone]
        cursor.execute(
            f"""SELECT DISTINCT s.period_kind, s.period FROM {_SCORE_TABLES[ScorecardScore][0]} s
            JOIN unnest(%s::varchar[], %s::date[]) AS w(kind, start) ON s.period_kind = w.kind AND s.period = w.start
            WHERE s.organization_id = %s""",
            [[w.kind for w in live], [w.start for w in live], organization.pk],
        )
        stored = set(cursor.fetchall())
        new = [w for w in live if (w.kind, w.start) not in stored]  # first rows of a window: for every unit
        known = [w for w in live if (w.kind, w.start) in stored]
        rows = 0
        if new:
            run = _Pass(cursor, organization)
            run.prepare(new, _kpi_nodes(cursor, organization.pk, None), unit_ids=None)
            run.compute()
            rows += run.rows
        if known:
            unit_ids = set(unit_ids)
            touched = set(kpi_ids)
            if unit_ids:
                cursor.execute(f"SELECT id FROM {_KPI} WHERE unit_id = ANY(%s)", [list(unit_ids)])
                touched.update(row[0] for row in cursor.fetchall())
            dependent = _dependents(cursor, organization.pk, touched) if touched else set()
            cursor.execute(f"SELECT DISTINCT unit_id FROM {_KPI} WHERE id = ANY(%s)", [list(dependent)])
            scope_units = _units_with_ancestors(
                cursor, organization.pk, unit_ids | {row[0] for row in cursor.fetchall()}
            )
            run = _Pass(cursor, organization)
            run.prepare(known, _kpi_nodes(cursor, organization.pk, dependent), unit_ids=scope_units)
            cursor.execute(
                f"""DELETE FROM {_SCORE_TABLES[KpiScore][0]} s USING {_KPI} k
                WHERE k.id = s.kpi_id AND k.id = ANY(%s) AND k.archived_at IS NOT NULL
                AND NOT {_is_frozen(KpiScore, "s")}""",
                [list(dependent)],
            )
            rows += max(cursor.rowcount, 0)
            run.compute()
            rows += run.rows
    return rows
