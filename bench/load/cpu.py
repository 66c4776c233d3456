"""Who used the machine's processors during a load run (bench/load/drive.py reads it when the measured time
starts and ends). Not in drive.py: importing locust patches the standard library, which a test must not do.

The run's own servers are told apart from everything else on the machine: web and worker are the gunicorn and
Celery processes started by the driver's parent (`python -m bench.load`), database the PostgreSQL of the run's data
folder (BSC_DATA_DIR) with its backends, redis the Redis on the port of REDIS_URL. Everything else, another job's
PostgreSQL included, is "other": a busy "other" makes the run's figures noisy."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import psutil

ROLES = ("driver", "web", "worker", "database", "redis", "other")


def cpu_seconds_by_role() -> dict[str, float]:
    """Processor seconds (user and system) every process on the machine has used so far, summed by role. A process
    that ended between two readings drops out of the second; the roles' processes live for the whole run."""
    me = psutil.Process()
    parent = me.parent()
    family = {child.pid for child in parent.children(recursive=True)} if parent is not None else set()
    data_dir = str(Path(os.environ.get("BSC_DATA_DIR", ".data/load")).resolve() / "postgres")
    redis_port = str(urllib.parse.urlsplit(os.environ.get("REDIS_URL", "")).port or "")
    postmasters: set[int] = set()
    roles: dict[int, str] = {}
    processes = list(psutil.process_iter(["pid", "ppid", "cmdline", "cpu_times"]))
    for process in processes:
        command = " ".join(process.info["cmdline"] or [])
        pid = process.info["pid"]
        if pid == me.pid:
            roles[pid] = "driver"
        elif pid in family and "gunicorn" in command:
            roles[pid] = "web"
        elif pid in family and "celery" in command:
            roles[pid] = "worker"
        elif f"-D {data_dir}" in command:
            roles[pid] = "database"
            postmasters.add(pid)
        elif redis_port and "redis-server" in command and command.endswith(f":{redis_port}"):
            roles[pid] = "redis"
    spent = dict.fromkeys(ROLES, 0.0)
    for process in processes:
        times = process.info["cpu_times"]
        if times is None:
            continue
        pid = process.info["pid"]
        role = roles.get(pid) or ("database" if process.info["ppid"] in postmasters else "other")
        spent[role] += times.user + times.system
    return spent
