"""Run a program of the soak tests' stack on the suite's pinned clock: `python -m tests.soak.pinned gunicorn ...`,
`... celery -A bsc worker ...`, `... manage.py migrate`, `... tests.soak.world build`. The clock is moved by the
offset the test passed (BSC_TEST_CLOCK_OFFSET, as tests/celery_worker.py does) and keeps ticking; forked
children (gunicorn's and Celery's workers) keep it.

With SOAK_BEAT_SECONDS set, Celery beat ticks the reminders, the mail sender, the recompute sweep and the republish
of queued work every that many seconds instead of every 15 minutes / minute, so a soak test sees many ticks in a minute."""

import os
import runpy
import sys
import time

import time_machine

from tests.clock import OFFSET_ENV

FAST_BEAT_ENTRIES = ("reminders-tick", "notifications-send", "scores-recompute-sweep", "queued-tasks-republish")


def main() -> None:
    time_machine.travel(time.time() + float(os.environ.get(OFFSET_ENV, "0")), tick=True).start()
    if os.environ.get("SOAK_BEAT_SECONDS"):
        from django.conf import settings

        for name in FAST_BEAT_ENTRIES:
            settings.CELERY_BEAT_SCHEDULE[name]["schedule"] = float(os.environ["SOAK_BEAT_SECONDS"])
    program, *arguments = sys.argv[1:]
    sys.argv = [program, *arguments]
    if program.endswith(".py"):
        runpy.run_path(program, run_name="__main__")
    else:
        runpy.run_module(program, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
