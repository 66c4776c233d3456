"""The recompute outbox: every change notes what it touched in its own transaction (KPI-periods, units whose
map changed, or the whole organization), and one task per organization, published on commit, recomputes
them. A task lost between commit and publish, or with a
worker killed under it, leaves its rows behind for the retry, the sweep (every minute) or the nightly full
recompute: no change goes unrecomputed. See docs/recompute.md."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

from django.db import connection, transaction

from bsc.models import Organization
from bsc.publish import BROKER_DOWN
from bsc.tenancy import dangerously_unscoped
from kpis.models import PendingRecompute
from kpis.recompute import LOCK_NAMESPACE, data_months, scores_recompute, scores_recompute_full

logger = logging.getLogger(__name__)
SWEEP_AFTER = timedelta(seconds=60)  # a request older than this has lost its task (or waits behind a long run)
TABLE = PendingRecompute._meta.db_table


def scores_recompute_request(*, organization_id: int, changes: Iterable[tuple[int, date]]) -> None:
    """Note that the scores of these (KPI id, month) pairs must be recomputed, in the caller's transaction,
    and publish the organization's recompute task when it commits."""
    pairs = sorted(set(changes))
    if not pairs:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (organization_id, kpi_id, period) "
            "SELECT %s, c.kpi_id, c.period FROM unnest(%s::bigint[], %s::date[]) AS c (kpi_id, period)",
            [organization_id, [kpi_id for kpi_id, _ in pairs], [period for _, period in pairs]],
        )
    _publish_on_commit(organization_id)


def scores_recompute_request_units(*, organization_id: int, unit_ids: Iterable[int]) -> None:
    """Note that these units (their map, or one of their KPIs' definitions, changed) and their ancestors must be
    recomputed in every month with data, in the caller's transaction, and publish the organization's recompute
    task when it commits."""
    units = sorted(set(unit_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (organization_id, unit_id) SELECT %s, u FROM unnest(%s::bigint[]) AS u",
            [organization_id, units],
        )
    _publish_on_commit(organization_id)


def scores_rebuild_request(*, organization_id: int) -> None:
    """Note that the organization's scores must be rebuilt (its thresholds or fiscal year changed), in the
    caller's transaction, and publish its recompute task when it commits."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (organization_id) VALUES (%s)", [organization_id])
    _publish_on_commit(organization_id)


def scores_recompute_request_from(cursor, *, organization_id: int, select_sql: str, params=()) -> int:
    """The set-based form for imports: `select_sql` yields (kpi_id, period) rows, e.g. from a staging
    table; they go into the outbox in one INSERT ... SELECT. Returns the number of rows noted."""
    cursor.execute(
        f"INSERT INTO {TABLE} (organization_id, kpi_id, period) "
        f"SELECT DISTINCT %s, c.kpi_id, c.period FROM ({select_sql}) AS c (kpi_id, period)",
        [organization_id, *params],
    )
    if cursor.rowcount:
        _publish_on_commit(organization_id)
    return cursor.rowcount


def _publish_on_commit(organization_id: int) -> None:
    """One `scores_recompute` task per organization when the transaction commits, however many changes it
    made (the task reads the outbox, so the message only says which organization to look at)."""
    conn = transaction.get_connection()
    batch = conn.__dict__.get("bsc_recompute_batch")
    # A batch left by a rolled-back transaction (or savepoint) has no callback registered any more.
    registered = batch is not None and any(entry[1] is batch["publish"] for entry in conn.run_on_commit)
    if not registered:

        def publish():
            from kpis.tasks import scores_recompute as task

            if conn.__dict__.get("bsc_recompute_batch") is new_batch:  # done: the next change starts a new one
                del conn.__dict__["bsc_recompute_batch"]
            for pending_id in sorted(new_batch["organizations"]):
                try:
                    task.delay(organization_id=pending_id)
                except BROKER_DOWN:  # the change has committed with its outbox row: the sweep publishes it later
                    logger.warning("Recompute of organization %s not published (broker unavailable)", pending_id)

        new_batch = {"organizations": set(), "publish": publish}
        conn.__dict__["bsc_recompute_batch"] = batch = new_batch
    batch["organizations"].add(organization_id)
    if not registered:
        transaction.on_commit(batch["publish"])


def scores_recompute_pending(*, organization: Organization) -> int:
    """Recompute what the organization's outbox asks for: take the organization's recompute lock, claim
    every row there now, recompute what depends on their KPIs in their months (kpis/recompute.py), and
    delete exactly the claimed rows, all in one transaction. Killed or failed, it leaves the rows for the
    next run; rows added meanwhile are not claimed, so their own task recomputes them. Returns the number of
    score rows written or changed (0 when another run already took everything)."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Lock before claiming: runs queued behind this one then find the outbox empty instead of repeating it.
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_NAMESPACE, organization.pk])
        cursor.execute(f"SELECT id, kpi_id, period, unit_id FROM {TABLE} WHERE organization_id = %s", [organization.pk])
        claimed = cursor.fetchall()
        if not claimed:
            return 0
        kpi_rows = [(kpi_id, period) for _, kpi_id, period, _ in claimed if kpi_id is not None]
        unit_ids = {unit_id for _, kpi_id, _, unit_id in claimed if kpi_id is None and unit_id is not None}
        if any(kpi_id is None and unit_id is None for _, kpi_id, _, unit_id in claimed):
            count = scores_recompute_full(organization=organization)  # covers every other request too
        else:
            count = 0
            if kpi_rows:
                count += scores_recompute(
                    organization=organization,
                    kpi_ids={kpi_id for kpi_id, _ in kpi_rows},
                    months={period for _, period in kpi_rows},
                )
            if unit_ids:
                count += scores_recompute(
                    organization=organization, unit_ids=unit_ids, months=data_months(organization)
                )
        cursor.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s)", [[row[0] for row in claimed]])
        return count


def scores_rebuild(*, organization: Organization, progress=None) -> int:
    """The full recompute (nightly and `manage.py recompute_scores`), clearing the outbox rows it covered:
    those present when it started, since it reads every source row after that."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TABLE} WHERE organization_id = %s", [organization.pk])
        covered = [pk for (pk,) in cursor.fetchall()]
    count = scores_recompute_full(organization=organization, progress=progress)
    if covered:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = ANY(%s)", [covered])
    return count


def organizations_to_sweep(*, older_than: timedelta = SWEEP_AFTER) -> list[int]:
    """Organizations with outbox rows older than `older_than` and no recompute running now: their task was
    lost (between commit and publish, or a failed run), so the sweep publishes another."""
    with dangerously_unscoped(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT p.organization_id FROM {TABLE} p WHERE p.created_at < now() - %s AND NOT EXISTS ("
            "SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = %s AND l.objid::bigint = p.organization_id) ORDER BY 1",
            [older_than, LOCK_NAMESPACE],  # the database's clock, which wrote created_at
        )
        return [organization_id for (organization_id,) in cursor.fetchall()]
