"""The suite's pinned clock: every test starts at the same instant, whatever the day it runs.

The instant is `BSC_TEST_NOW` (ISO 8601 with an offset; `make test-dates` sets it to boundary dates) or
DEFAULT_NOW. Each test travels there with time-machine (the clock then ticks on), so Django's
`timezone.now()`, `date.today()` and `time.time()` agree in the test process and in the live server's
thread; Celery worker processes started by the suite run through tests/celery_worker.py with the same
offset from the real clock. PostgreSQL's own `now()` is not moved: the product compares it only with itself.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import time_machine

# A Wednesday in the middle of a month, of a quarter and of a calendar and fiscal year: the ordinary day.
DEFAULT_NOW = "2026-11-18T10:30:00+00:00"
OFFSET_ENV = "BSC_TEST_CLOCK_OFFSET"


def pinned_now() -> datetime:
    text = os.environ.get("BSC_TEST_NOW") or DEFAULT_NOW
    if text == "today":  # `make test-dates` also runs on the real date
        return real_now()
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"BSC_TEST_NOW must carry a UTC offset, e.g. 2026-12-31T23:30:00+00:00, not {text!r}.")
    return instant.astimezone(UTC)


def real_now() -> datetime:
    """The machine's real time, even while the clock is pinned."""
    if not time_machine.escape_hatch.is_travelling():
        return datetime.now(UTC)
    return datetime.fromtimestamp(time_machine.escape_hatch.time.time(), UTC)


def travel() -> time_machine.travel:
    return time_machine.travel(pinned_now(), tick=True)


def worker_env() -> dict[str, str]:
    """What a child process needs to keep the test's clock: its offset from the real clock, in seconds."""
    offset = datetime.now(UTC) - real_now()
    return {OFFSET_ENV: repr(offset.total_seconds())}
