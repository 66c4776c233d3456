"""The health endpoint (`GET /healthz`, no log-in, no organization's data): is the database reachable, the
broker reachable, a worker alive (the heartbeat the beat schedules every minute), and how old is the oldest
recompute request and unsent mail; how many tasks and mails failed lately. JSON; HTTP 503 when a critical
check (database, broker, worker) fails, else 200. What each figure means and what to do: docs/operations.md.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

import redis
from celery import shared_task
from celery.signals import task_failure
from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bsc.tenancy import dangerously_unscoped
from coaching.models import Notification, NotificationChannel
from kpis.models import PendingRecompute

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "bsc:worker-heartbeat"
FAILURES_KEY = "bsc:task-failures:"  # + the UTC hour (YYYYmmddHH); each kept a little over a day
HEARTBEAT_MAX_AGE = 300  # s: five missed beats; the worker (or beat) is down or the queue is stuck
OUTBOX_MAX_AGE = 300  # s: the sweep repairs a lost recompute after 60 s; older means recomputes fail or lag
MAIL_MAX_AGE = 1800  # s: a due mail waits at most a minute for the sender, then retries back off
QUEUE = "celery"  # the default queue's list in Redis
TIMEOUT = 2  # s, for each connection the checks make


def _broker() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)


# --- Written by the worker ---------------------------------------------------------------------------


@shared_task(ignore_result=True)
def worker_heartbeat() -> None:
    """Note that a worker ran a task the beat scheduled (every minute; settings CELERY_BEAT_SCHEDULE)."""
    _broker().set(HEARTBEAT_KEY, repr(time.time()))


@task_failure.connect
def _count_task_failure(sender=None, **kwargs) -> None:
    """Count a failed task in its hour's counter (a retry is not a failure; giving up is)."""
    key = FAILURES_KEY + time.strftime("%Y%m%d%H", time.gmtime())
    with contextlib.suppress(redis.RedisError):
        _broker().pipeline().incr(key).expire(key, 25 * 3600).execute()


# --- The checks -----------------------------------------------------------------------------------------


def _failed(check: str, error: Exception) -> dict:
    logger.warning("health check %s failed: %r", check, error)
    return {"status": "error", "error": type(error).__name__}  # never the message: no addresses or paths


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 (any failure is the answer)
        return _failed("database", error)
    return {"status": "ok", "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def check_broker() -> tuple[dict, dict, dict]:
    """The broker, the worker's heartbeat and the failed-task counters, all read from Redis."""
    try:
        client = _broker()
        started = time.monotonic()
        client.ping()
        latency = round((time.monotonic() - started) * 1000, 1)
        queued = client.llen(QUEUE)
        beat = client.get(HEARTBEAT_KEY)
        hour = time.time()
        keys = [FAILURES_KEY + time.strftime("%Y%m%d%H", time.gmtime(hour - 3600 * h)) for h in range(24)]
        failures = sum(int(v) for v in client.mget(keys) if v)
    except Exception as error:  # noqa: BLE001
        failed = _failed("broker", error)
        unknown = {"status": "error", "error": "broker unreachable"}
        return failed, unknown, {"status": "unknown"}
    broker = {"status": "ok", "latency_ms": latency, "queue_length": queued}
    if beat is None:
        worker = {"status": "error", "error": "no heartbeat yet", "heartbeat_age_s": None}
    else:
        age = max(0.0, round(time.time() - float(beat), 1))
        worker = {"status": "ok" if age <= HEARTBEAT_MAX_AGE else "error", "heartbeat_age_s": age}
    tasks = {"status": "warn" if failures else "ok", "failed_24h": failures}
    return broker, worker, tasks


def check_outbox() -> dict:
    """The recompute outbox (kpis): requests waiting, and the age of the oldest (by the database's clock, which
    wrote it)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), extract(epoch FROM now() - min(created_at)) FROM {PendingRecompute._meta.db_table}"
            )
            waiting, age = cursor.fetchone()
    except Exception as error:  # noqa: BLE001
        return _failed("outbox", error)
    age = None if age is None else max(0.0, round(float(age), 1))
    status = "warn" if age is not None and age > OUTBOX_MAX_AGE else "ok"
    return {"status": status, "waiting": waiting, "oldest_age_s": age}


def check_mail() -> dict:
    """Email notifications not yet sent (nor given up), the age of the oldest, and those given up in 24 h."""
    now = timezone.now()
    try:
        with dangerously_unscoped():  # counts over every organization; nothing of any one is shown
            unsent = Notification.objects.filter(
                channel=NotificationChannel.EMAIL, sent_at__isnull=True, failed_at__isnull=True
            ).aggregate(waiting=Count("id"), oldest=Min("created_at"))
            failed = Notification.objects.filter(Q(failed_at__gte=now - timedelta(hours=24))).count()
    except Exception as error:  # noqa: BLE001
        return _failed("mail", error)
    age = None if unsent["oldest"] is None else max(0.0, round((now - unsent["oldest"]).total_seconds(), 1))
    late = age is not None and age > MAIL_MAX_AGE
    return {
        "status": "warn" if late or failed else "ok",
        "waiting": unsent["waiting"],
        "oldest_age_s": age,
        "failed_24h": failed,
    }


CRITICAL = ("database", "broker", "worker")


def health() -> tuple[dict, bool]:
    """Every check's answer, and whether the installation is healthy (no critical check failed)."""
    broker, worker, tasks = check_broker()
    checks = {
        "database": check_database(),
        "broker": broker,
        "worker": worker,
        "outbox": check_outbox(),
        "mail": check_mail(),
        "tasks": tasks,
    }
    healthy = all(checks[name]["status"] == "ok" for name in CRITICAL)
    worst = "ok" if all(c["status"] == "ok" for c in checks.values()) else "warn"
    return {"status": worst if healthy else "error", "checks": checks}, healthy


@never_cache
@require_GET
def healthz(request):
    body, healthy = health()
    return JsonResponse(body, status=200 if healthy else 503)
