"""Publishing Celery tasks from pages and from the beat, surviving the broker (Redis) being down.

A page that saves something and starts a task for it commits the row first, then publishes when the transaction
commits. With Redis down (refusing, or dropping packets: CELERY_BROKER_TRANSPORT_OPTIONS' timeouts and
CELERY_TASK_PUBLISH_RETRY_POLICY bound the wait to a few seconds) that publish fails after the commit: the row
is saved and waits, the page answers as usual, and the beat's `queued_tasks_republish` (every minute) publishes
again the work left queued for longer than REPUBLISH_AFTER, which each app names through
bsc.events.queued_tasks. Every such task must be safe to run twice (it claims its row with one conditional
UPDATE): a republish may meet a message that was only slow, not lost.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import NamedTuple

from celery import Task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis import exceptions as redis_errors

from bsc import events
from bsc.tenancy import dangerously_unscoped

logger = logging.getLogger(__name__)

# Redis down: publishing raises kombu's OperationalError, subscribing to the task's result redis' own errors.
BROKER_DOWN = (BrokerError, redis_errors.ConnectionError, redis_errors.TimeoutError)
# Work queued for longer than this has probably lost its task (a publish that failed, a process killed between
# commit and publish); a message that is only waiting behind others meets a claimed row and does nothing.
REPUBLISH_AFTER = timedelta(minutes=2)
# After a republish, the same work is not republished again before this (a worker busy for an hour must not
# find sixty copies of each waiting task in its queue).
REPUBLISH_EVERY = timedelta(minutes=10)


def task_publish(task, **kwargs) -> bool:
    """Publish `task(**kwargs)` now; False, logged, when the broker is unreachable (the caller's row stays queued
    for `queued_tasks_republish`). Nobody waits for the result of a task published this way: not subscribing
    to it spares the page the result store's 20 s of reconnecting with Redis down."""
    try:
        task.apply_async(kwargs=kwargs, ignore_result=True)
    except BROKER_DOWN as error:
        logger.warning("Task %s%s not published (broker unavailable: %s)", task.name, kwargs, error)
        return False
    return True


def task_publish_after_commit(task, **kwargs) -> bool | None:
    """Publish `task(**kwargs)` now when no transaction is open, saying whether it went (as `task_publish`), or when
    the caller's transaction commits (None: not known yet). For a page that tells the person when it failed."""
    if transaction.get_connection().in_atomic_block:
        task_publish_on_commit(task, **kwargs)
        return None
    return task_publish(task, **kwargs)


def task_publish_on_commit(task, **kwargs) -> None:
    """Publish `task(**kwargs)` when the caller's transaction commits (at once outside one), as `task_publish`:
    with the broker down the committed work waits for the republish, and the page still answers."""
    transaction.on_commit(lambda: task_publish(task, **kwargs))


class Queued(NamedTuple):
    """One piece of work waiting for its task (an answer to bsc.events.queued_tasks)."""

    task: Task
    kwargs: dict
    since: datetime  # when it was queued (or earlier, never later)

    @property
    def memo_key(self) -> str:
        arguments = ",".join(f"{name}={value}" for name, value in sorted(self.kwargs.items()))
        return f"bsc:republished:{self.task.name}:{arguments}:{self.since.timestamp()}"


def queued_rows(model, *, older_than: datetime, task: Task, id_argument: str, **waiting) -> list[Queued]:
    """The answer of an app to bsc.events.queued_tasks for work kept as rows: each row of `model` matching `waiting`
    (the app's lookups for a row still waiting for its task), of every organization, created before `older_than`, as
    its task with the organization's id and the row's id (named `id_argument`)."""
    with dangerously_unscoped():  # the republish serves every organization; each task carries its own
        rows = model.objects.filter(created_at__lt=older_than, **waiting).order_by("pk")
        return [
            Queued(task, {"organization_id": organization_id, id_argument: pk}, since)
            for pk, organization_id, since in rows.values_list("pk", "organization_id", "created_at")
        ]


def queued_tasks_republish() -> int:
    """Publish again the task of every piece of work left queued for longer than REPUBLISH_AFTER (each app
    answers bsc.events.queued_tasks), at most once per REPUBLISH_EVERY each; returns how many were published.
    With the broker still down it raises (the next run tries again)."""
    older_than = timezone.now() - REPUBLISH_AFTER
    published = 0
    for answer in events.queued_tasks.send(older_than=older_than):
        for queued in answer:
            if not cache.add(queued.memo_key, 1, timeout=int(REPUBLISH_EVERY.total_seconds())):
                continue  # republished a moment ago: its message is waiting behind others
            try:
                queued.task.apply_async(kwargs=queued.kwargs, ignore_result=True)
            except BROKER_DOWN:
                with contextlib.suppress(*BROKER_DOWN):
                    cache.delete(queued.memo_key)
                raise
            logger.info("Republished %s%s (queued since %s)", queued.task.name, queued.kwargs, queued.since)
            published += 1
    return published
