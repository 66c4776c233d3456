"""`celery` on the suite's pinned clock: `python -m tests.celery_worker -A bsc worker ...` moves this process's
clock (and its forked pool's) by the offset the test passed in BSC_TEST_CLOCK_OFFSET, then runs Celery."""

import os
import time

import time_machine

from tests.clock import OFFSET_ENV

if __name__ == "__main__":
    time_machine.travel(time.time() + float(os.environ.get(OFFSET_ENV, "0")), tick=True).start()

    from celery.__main__ import main

    main()
