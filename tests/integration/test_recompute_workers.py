"""Recompute safety with real Celery worker processes: a worker killed in the middle of a recompute (the
whole process group, or only the pool process running the task), two workers consuming overlapping
recomputes, and a change whose task was never published. Each ends with the stored scores equal to a full
recompute from the source rows."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.utils import timezone

from bsc.models import Scorecard
from bsc.tenancy import organization_scope
from kpis import outbox, services
from kpis.models import KpiScore, PendingRecompute
from kpis.recompute import scores_recompute_full
from kpis.tasks import scores_recompute, scores_recompute_sweep
from tests.conftest import wait_for
from tests.recompute_world import (
    MONTHS,
    backends_blocked_by,
    full_recompute_scores,
    make_rollups,
    other_connection,
    pending_count,
    stored_scores,
)

pytestmark = pytest.mark.worker
MARCH = MONTHS[-1]
VISIBILITY_TIMEOUT = 5  # seconds before Redis hands a task its worker never acknowledged to another worker
# (the workers' task limits are set below it: 3 s soft, 4 s hard)


@pytest.fixture
def rollups(world):
    """The three-level world with its scores computed once (so every score row exists) and an empty outbox."""
    items = make_rollups(world)
    with organization_scope(world.org_a):
        scores_recompute_full(organization=world.org_a)
    return items


def hold_company_scorecard_score(world):
    """Lock the company's scorecard score row for March in another connection: a recompute of March writes
    the department's and the division's scores (deepest first) and then waits here, mid-transaction."""
    blocker = other_connection()
    card = Scorecard.objects.for_organization(world.org_a).get(unit=world.company_a)
    blocker.execute(
        "SELECT id FROM kpis_scorecardscore WHERE scorecard_id = %s AND period_kind = 'month' AND period = %s "
        "FOR UPDATE",
        [card.pk, MARCH],
    ).fetchone()
    return blocker


def wait_for_blocked_recompute(blocker) -> int:
    """The pid of the worker's database session once it waits for the blocker, having written already."""
    waiting = wait_for(lambda: backends_blocked_by(blocker), timeout=20, message="the recompute to reach the lock")
    [(pid, xid)] = waiting
    assert xid is not None, "the recompute had not written anything yet when it blocked"
    return pid


def change_speed(world, rollups, value) -> None:
    """A department head's save: its own transaction, committed, its recompute task published on commit."""
    with organization_scope(world.org_a):
        current = KpiScore.objects.get(kpi=rollups.speed, period_kind="month", period=MARCH)
        measurement = rollups.speed.measurements.get(period=MARCH)
        services.measurement_record(
            kpi=rollups.speed,
            period=MARCH,
            value=Decimal(value),
            by=world.admin_a,
            expected_version=measurement.version,
        )
        assert current.actual != Decimal(value)


def pool_children(pid: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def test_a_worker_killed_mid_recompute_leaves_the_work_for_the_next_worker(world, rollups, celery_workers):
    """The worker's whole process group (main and pool process, the production prefork pool) is SIGKILLed
    while its recompute has written scores in an open transaction. Postgres rolls that transaction back;
    the task was never acknowledged (late acknowledgement), so Redis hands it to the next worker once the
    visibility timeout has passed; the outbox rows, deleted only in the recompute's own transaction, are
    still there for it.

    Without `acks_late` the main process would have acknowledged the message when the pool process took
    it: nothing brings it back (no sweep runs in this test), the outbox never empties and the wait below
    times out (checked by turning it off). Reject-on-worker-lost plays no part here: no worker process
    survives to reject anything; the next test covers it. (The solo pool would not show the difference:
    its early acknowledgement waits in the event loop until the task ends.)"""
    worker = celery_workers.start(pool="prefork", visibility_timeout=VISIBILITY_TIMEOUT)
    blocker = hold_company_scorecard_score(world)
    try:
        change_speed(world, rollups, 20)
        started = time.monotonic()
        wait_for_blocked_recompute(blocker)
        celery_workers.kill(worker)
    finally:
        blocker.close()  # the killed worker's session gets the lock, finds its client gone and rolls back
    assert pending_count(world.org_a) == 1  # the killed recompute committed nothing
    # The task comes back once it has been unacknowledged for longer than the visibility timeout: a worker
    # starting after that restores it at once.
    time.sleep(max(0.0, started + VISIBILITY_TIMEOUT + 0.5 - time.monotonic()))
    celery_workers.start(pool="prefork", visibility_timeout=VISIBILITY_TIMEOUT)
    wait_for(lambda: pending_count(world.org_a) == 0, timeout=25, message="the redelivered recompute")
    incremental = stored_scores(world.org_a)
    assert incremental[("KpiScore", rollups.company_total.pk, "month", MARCH)]["actual"] == Decimal(20 + 20)
    assert incremental == full_recompute_scores(world.org_a)


def test_a_pool_process_killed_mid_recompute_gives_the_task_back_at_once(world, rollups, celery_workers):
    """Only the prefork pool process running the recompute is SIGKILLed; the worker's main process sees
    it die and, with reject-on-worker-lost, puts the unacknowledged task back on the queue, where a new pool
    process takes it (no visibility timeout to wait for: the default one of an hour applies here).

    Without `task_reject_on_worker_lost` the main process would acknowledge the lost task as failed
    (WorkerLostError) and the outbox would never empty: the wait below would time out (checked by turning
    it off)."""
    worker = celery_workers.start(pool="prefork", concurrency=1)
    blocker = hold_company_scorecard_score(world)
    try:
        change_speed(world, rollups, 25)
        wait_for_blocked_recompute(blocker)
        [child] = pool_children(worker.pid)
        os.kill(child, signal.SIGKILL)
        wait_for(lambda: child not in pool_children(worker.pid), timeout=10, message="the pool process to go")
    finally:
        blocker.close()
    wait_for(lambda: pending_count(world.org_a) == 0, timeout=25, message="the requeued recompute")
    assert worker.poll() is None  # the main process lived on
    incremental = stored_scores(world.org_a)
    assert incremental[("KpiScore", rollups.company_total.pk, "month", MARCH)]["actual"] == Decimal(25 + 20)
    assert incremental == full_recompute_scores(world.org_a)


def test_two_workers_consuming_overlapping_recomputes_end_as_one_full_recompute(world, rollups, celery_workers):
    """Thirty saves in quick succession, each its own transaction and task, over both department KPIs and
    the division's own KPI in three months, consumed by two workers at once: the recomputes overlap (the
    same units and months) and queue on the organization's lock; the end state is the full recompute's.
    Then the same task runs twice more: nothing changes."""
    from bsc.project.celery import app

    first = celery_workers.start(name="a")
    second = celery_workers.start(name="b")
    last = {}
    with organization_scope(world.org_a):
        for step in range(30):
            kpi = [rollups.speed, rollups.quality, rollups.people][step % 3]
            month = MONTHS[(step // 3) % len(MONTHS)]
            measurement = kpi.measurements.get(period=month)
            services.measurement_record(
                kpi=kpi, period=month, value=Decimal(10 + step), by=world.admin_a, expected_version=measurement.version
            )
            last[kpi.pk, month] = Decimal(10 + step)
    wait_for(lambda: pending_count(world.org_a) == 0, timeout=25, message="the recomputes to drain")
    stats = app.control.inspect(destination=[first.hostname, second.hostname], timeout=2).stats()
    ran = {host: stats[host]["total"].get("kpis.tasks.scores_recompute", 0) for host in stats}
    assert all(ran.values()) and len(ran) == 2, f"both workers should have run recomputes: {ran}"
    incremental = stored_scores(world.org_a)
    assert {key: incremental[("KpiScore", *key[:1], "month", key[1])]["actual"] for key in last} == last
    full = full_recompute_scores(world.org_a)
    assert incremental == full

    # The same task twice (a redelivery, a duplicate publish): each finds the outbox empty; same rows.
    for _ in range(2):
        scores_recompute.apply_async(kwargs={"organization_id": world.org_a.pk}, ignore_result=False).get(timeout=20)
    assert stored_scores(world.org_a) == full


def test_a_change_whose_task_was_never_published_is_repaired_by_the_sweep(world, rollups, celery_worker_process):
    """The commit happened but the publish did not (the process died in between, Redis was away): the
    outbox row stays. Once it is older than a minute, the sweep (beat, every minute) publishes the task."""
    with mock.patch("kpis.tasks.scores_recompute.delay") as lost:
        change_speed(world, rollups, 33)
    assert lost.call_count == 1
    assert pending_count(world.org_a) == 1
    with organization_scope(world.org_a):
        # A sweep now leaves it alone: its task may still be on its way.
        assert scores_recompute_sweep.delay().get(timeout=20) == 0
        PendingRecompute.objects.update(created_at=timezone.now() - outbox.SWEEP_AFTER - timedelta(seconds=1))
        assert scores_recompute_sweep.delay().get(timeout=20) == 1
    wait_for(lambda: pending_count(world.org_a) == 0, timeout=20, message="the swept recompute")
    incremental = stored_scores(world.org_a)
    assert incremental[("KpiScore", rollups.company_total.pk, "month", MARCH)]["actual"] == Decimal(33 + 20)
    assert incremental == full_recompute_scores(world.org_a)
