"""The health endpoint /healthz: no log-in, no organization's data; 200 when the database, the broker and a
worker (its heartbeat) answer, 503 when one of them does not; the outbox's and the mail queue's backlog and
the failures of the last day are reported for monitoring."""

import socket
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db.models.functions import Now
from django.utils import timezone

from bsc.project import health
from bsc.project.celery import app
from bsc.tenancy import organization_scope
from coaching.models import Notification
from kpis.models import PendingRecompute
from tests.conftest import wait_for


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(health.HEARTBEAT_KEY, *client.keys(health.FAILURES_KEY + "*"))
    yield client
    client.delete(health.HEARTBEAT_KEY, *client.keys(health.FAILURES_KEY + "*"))


def healthz(client):
    response = client.get("/healthz")
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


@pytest.mark.worker
def test_it_answers_200_when_the_database_broker_and_a_worker_answer(client, world, broker, celery_worker_process):
    health.worker_heartbeat.delay()

    wait_for(lambda: broker.get(health.HEARTBEAT_KEY), message="the worker's heartbeat")
    status, body = healthz(client)

    assert status == 200
    assert body["status"] == "ok"
    checks = body["checks"]
    assert set(checks) == {"database", "broker", "worker", "outbox", "mail", "tasks"}
    assert all(check["status"] == "ok" for check in checks.values()), checks
    assert checks["worker"]["heartbeat_age_s"] < 60
    assert checks["broker"]["queue_length"] == 0
    assert checks["outbox"] == {"status": "ok", "waiting": 0, "oldest_age_s": None}
    assert checks["mail"] == {"status": "ok", "waiting": 0, "oldest_age_s": None, "failed_24h": 0}
    assert checks["tasks"] == {"status": "ok", "failed_24h": 0}

    # A task that fails in the worker is counted (the worker's failure signal), a warning that keeps it up.
    app.send_task("bsc.tasks.login_failures_prune", kwargs={"no_such_argument": 1})
    wait_for(lambda: healthz(client)[1]["checks"]["tasks"]["failed_24h"] == 1, message="the failure counted")
    status, body = healthz(client)
    assert (status, body["status"], body["checks"]["tasks"]) == (200, "warn", {"status": "warn", "failed_24h": 1})


def test_a_backlog_and_failures_are_warnings_that_keep_it_up(client, world, broker):
    broker.set(health.HEARTBEAT_KEY, repr(time.time() - 30))
    now = timezone.now()
    with organization_scope(world.org_a):
        stuck = PendingRecompute.objects.create(organization=world.org_a)
        # written by the database's clock (db_default=Now()), as the outbox's rows are
        PendingRecompute.objects.filter(pk=stuck.pk).update(created_at=Now() - timedelta(minutes=10))
        for key, created, failed in (("late", now - timedelta(hours=2), None), ("gave-up", now, now)):
            Notification.objects.create(
                organization=world.org_a, recipient=world.admin_a, kind="daily_digest", subject="Due", body="Due",
                dedupe_key=key, channel="email", created_at=created, failed_at=failed,
            )  # fmt: skip
    health._count_task_failure()

    status, body = healthz(client)

    assert status == 200
    assert body["status"] == "warn"
    checks = body["checks"]
    assert checks["outbox"]["status"] == "warn" and checks["outbox"]["waiting"] == 1
    assert 590 <= checks["outbox"]["oldest_age_s"] < 700
    assert checks["mail"]["status"] == "warn"
    assert (checks["mail"]["waiting"], checks["mail"]["failed_24h"]) == (1, 1)
    assert 7200 <= checks["mail"]["oldest_age_s"] < 7300
    assert checks["tasks"] == {"status": "warn", "failed_24h": 1}
    assert "acme" not in str(body).lower() and "Due" not in str(body)  # counts and ages, nothing of a tenant


def test_a_stale_heartbeat_answers_503(client, db, broker):
    broker.set(health.HEARTBEAT_KEY, repr(time.time() - health.HEARTBEAT_MAX_AGE - 60))

    status, body = healthz(client)

    assert status == 503
    assert body["status"] == "error"
    assert body["checks"]["worker"]["status"] == "error"
    assert body["checks"]["worker"]["heartbeat_age_s"] >= health.HEARTBEAT_MAX_AGE + 60
    assert body["checks"]["database"]["status"] == "ok"


def test_a_broker_that_does_not_answer_makes_it_503(client, db, settings):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{dead}/0"

    status, body = healthz(client)

    assert status == 503
    assert body["status"] == "error"
    checks = body["checks"]
    assert checks["broker"] == {"status": "error", "error": "ConnectionError"}
    assert checks["worker"] == {"status": "error", "error": "broker unreachable"}
    assert checks["tasks"] == {"status": "unknown"}
    assert checks["database"]["status"] == "ok"
    assert checks["outbox"]["status"] == "ok" and checks["mail"]["status"] == "ok"
