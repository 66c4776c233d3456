"""Beat tasks that concern every organization only list them and publish one task per organization (so no
run grows with the number of organizations past the broker's visibility timeout), and each of those tasks
runs under the soft and hard time limits from settings."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time

import pytest
from django.conf import settings

from bsc import org_calendar
from bsc.models import Role
from bsc.tenancy import dangerously_unscoped, organization_scope
from coaching import services as coaching
from coaching.cadences import cadence_create
from coaching.models import CoachingSession, Notification
from coaching.tasks import (
    cadences_generate_ahead,
    cadences_generate_organization,
    reminders_tick,
    reminders_tick_organization,
)
from kpis.models import KpiScore
from kpis.recompute import scores_recompute_full
from kpis.tasks import measurement_import, scores_rebuild, scores_recompute, scores_recompute_nightly
from tests import factories
from tests.conftest import wait_for
from tests.recompute_world import make_rollups, stored_scores

PROJECT_DIR = settings.BASE_DIR


def succeeded(worker, task_name: str) -> int:
    """How many runs of the task the worker's log reports as succeeded."""
    log = worker.log_path.read_text(errors="replace")
    return sum(1 for line in log.splitlines() if f"Task {task_name}[" in line and " succeeded " in line)


def test_the_tasks_that_work_on_one_organization_carry_the_time_limits_from_settings():
    assert (settings.TASK_SOFT_TIME_LIMIT, settings.TASK_TIME_LIMIT) == (1500, 1800)
    per_organization = (
        scores_recompute, scores_rebuild, measurement_import, reminders_tick_organization, cadences_generate_organization,
    )  # fmt: skip
    for task in per_organization:
        assert (task.name, task.soft_time_limit, task.time_limit) == (task.name, 1500, 1800)
    for task in (scores_recompute_nightly, reminders_tick, cadences_generate_ahead):  # they only publish
        assert (task.name, task.soft_time_limit, task.time_limit) == (task.name, None, None)


@pytest.mark.parametrize(
    ("env", "values"),
    [
        ({"TASK_TIME_LIMIT": "3600"}, "1500, 3600 and 3600"),
        ({"CELERY_VISIBILITY_TIMEOUT": "1000"}, "1500, 1800 and 1000"),
        ({"TASK_SOFT_TIME_LIMIT": "1800"}, "1800, 1800 and 3600"),
    ],
)
def test_settings_refuse_a_hard_limit_that_the_visibility_timeout_does_not_exceed(env, values):
    keep = {k: v for k, v in os.environ.items() if k not in {"TASK_TIME_LIMIT", "TASK_SOFT_TIME_LIMIT"}}
    keep.pop("CELERY_VISIBILITY_TIMEOUT", None)
    result = subprocess.run(
        [sys.executable, "-c", "import bsc.project.settings"],
        cwd=PROJECT_DIR, env={**keep, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: TASK_SOFT_TIME_LIMIT must be above 0 and below "
        "TASK_TIME_LIMIT, and TASK_TIME_LIMIT below CELERY_VISIBILITY_TIMEOUT (now " + values + ")"
    )


@pytest.mark.worker
def test_the_nightly_task_rebuilds_each_organization_in_a_task_of_its_own(world, celery_worker_process):
    make_rollups(world)
    with organization_scope(world.org_a):
        scores_recompute_full(organization=world.org_a)
    expected = stored_scores(world.org_a)
    KpiScore.objects.for_organization(world.org_a).delete()
    assert stored_scores(world.org_a) != expected

    assert scores_recompute_nightly.delay().get(timeout=30) == 2  # Acme and Globex
    wait_for(lambda: succeeded(celery_worker_process, "kpis.tasks.scores_rebuild") == 2, message="two rebuilds")
    assert stored_scores(world.org_a) == expected


@pytest.mark.worker
def test_the_reminder_tick_decides_each_organization_in_a_task_of_its_own(world, celery_worker_process):
    for organization in (world.org_a, world.org_b):
        organization.reminder_hour = 0  # everything due whatever the hour
        organization.save()
    people = {
        world.org_a: factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user,
        world.org_b: world.member_b,
    }
    for organization, person in people.items():
        with organization_scope(organization):
            coaching.action_item_create(
                organization=organization, title="Call back", owner=person, due_date=org_calendar.today(organization),
                created_by=None,
            )  # fmt: skip

    assert reminders_tick.delay().get(timeout=30) == 2
    task = "coaching.tasks.reminders_tick_organization"
    wait_for(lambda: succeeded(celery_worker_process, task) == 2, message="two decisions")
    reminders_tick.delay().get(timeout=30)  # a second tick finds every key taken
    wait_for(lambda: succeeded(celery_worker_process, task) == 4, message="two more decisions")
    with dangerously_unscoped():
        rows = sorted((n.organization_id, n.recipient_id, n.kind) for n in Notification.objects.all())
    assert rows == sorted((org.pk, person.pk, "daily_digest") for org, person in people.items())


@pytest.mark.worker
def test_the_daily_cadence_top_up_generates_each_organization_in_a_task_of_its_own(world, celery_worker_process):
    starts = {org: org_calendar.today(org) for org in (world.org_a, world.org_b)}
    made = []
    for organization, unit, coach in (
        (world.org_a, world.division_a, world.admin_a),
        (world.org_b, world.unit_b, world.member_b),
    ):
        with organization_scope(organization):
            made.append(
                cadence_create(
                    unit=unit,
                    coach=coach,
                    kind="check_in",
                    frequency="weekly",
                    weekday=starts[organization].weekday(),
                    time_of_day=time(9, 0),
                    starts_on=starts[organization],
                )  # fmt: skip
            )
    with dangerously_unscoped():
        generated = {c.pk: CoachingSession.objects.filter(cadence=c).count() for c in made}
        CoachingSession.objects.filter(cadence__in=made).delete()
    assert all(generated.values())

    assert cadences_generate_ahead.delay().get(timeout=30) == 2  # Acme and Globex
    task = "coaching.tasks.cadences_generate_organization"
    wait_for(lambda: succeeded(celery_worker_process, task) == 2, message="two top-ups")
    with dangerously_unscoped():
        assert {c.pk: CoachingSession.objects.filter(cadence=c).count() for c in made} == generated
