"""Who used the machine's processors during a load run (bench/load/drive.py reads it when the measured time
starts and ends). Not in drive.py: importing locust patches the standard library, which a test must not do."""

from __future__ import annotations

import os

import psutil

# Who used the machine's processors while the people worked, by the command a process runs (the first match).
# "other" is everything else on the machine: another job sharing it makes the run's figures noisy.
CPU_ROLES = (("web", "gunicorn"), ("worker", "celery"), ("database", "postgres"), ("redis", "redis-server"))


def cpu_seconds_by_role() -> dict[str, float]:
    """Processor seconds (user and system) every process on the machine has used so far, summed by role: the
    driver (this process, locust), the servers by CPU_ROLES, the rest as "other". A process that ended between two
    readings drops out of the second; the roles' processes live for the whole run."""
    spent = dict.fromkeys(("driver", *(role for role, _ in CPU_ROLES), "other"), 0.0)
    me = os.getpid()
    for process in psutil.process_iter(["pid", "cmdline", "name", "cpu_times"]):
        times = process.info["cpu_times"]
        if times is None:
            continue
        command = " ".join(process.info["cmdline"] or [process.info["name"] or ""])
        role = "driver" if process.info["pid"] == me else next(
            (role for role, word in CPU_ROLES if word in command), "other"
        )  # fmt: skip
        spent[role] += times.user + times.system
    return spent
