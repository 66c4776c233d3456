"""Run the personas of bench/load/locustfile.py against a served product with locust as a library, and write the
run's summary (bench/load/report.py) as JSON: `python -m bench.load.drive --host URL --users N --seconds S --out F`.

A process of its own because locust patches the standard library with gevent on import; `python -m bench.load`
starts it once the servers answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import gevent
import psutil
from locust import events
from locust.env import Environment

from bench.load import locustfile, report
from bench.load.cpu import cpu_seconds_by_role


def run(*, host: str, users: int, seconds: float, spawn_rate: float, login_timeout: float = 600) -> dict:
    """Start `users` people, let each log in, then measure `seconds` of their work. Log-ins are reported on their
    own (`login_phase`); an error at any time counts."""
    samples: list[tuple[str, float]] = []
    errors: Counter[str] = Counter()

    def on_request(request_type, name, response_time, response_length, exception=None, **kwargs):
        samples.append((name, response_time / 1000))
        if exception is not None:
            errors[f"{name}: {str(exception)[:160]}"] += 1

    events.request.add_listener(on_request)
    classes = [locustfile.Executive, locustfile.DepartmentHead, locustfile.Coach, locustfile.ApiClient]
    environment = Environment(user_classes=classes, host=host, events=events)
    runner = environment.create_local_runner()
    login_started = time.monotonic()
    runner.start(users, spawn_rate=spawn_rate)
    while len(locustfile.READY) < users:
        if time.monotonic() - login_started > login_timeout:
            runner.quit()
            raise RuntimeError(f"only {len(locustfile.READY)} of {users} people logged in within {login_timeout:.0f} s")
        gevent.sleep(0.2)
    login_seconds = time.monotonic() - login_started
    logins = sorted(elapsed for name, elapsed in samples if name == "login")
    samples.clear()
    locustfile.SERVER_TIMING.clear()
    locustfile.CLIENT_TIMES.clear()
    spawned = dict(runner.user_classes_count)
    cpu_before = cpu_seconds_by_role()
    started = time.monotonic()
    locustfile.MEASURING.set()
    gevent.sleep(seconds)
    runner.quit()
    elapsed = time.monotonic() - started
    cpu_used = {role: max(0.0, spent - cpu_before.get(role, 0.0)) for role, spent in cpu_seconds_by_role().items()}
    summary = report.summarize(samples, errors, elapsed, users, server=locustfile.SERVER_TIMING)
    summary["personas"] = spawned
    summary["cpu"] = {
        "cores": psutil.cpu_count(), "seconds_by_role": {role: round(spent, 1) for role, spent in cpu_used.items()},
    }  # fmt: skip
    summary["login_phase"] = {
        "seconds": round(login_seconds, 1), "logins": len(logins),
        "p50_s": _round(report.percentile(logins, 0.5)), "p95_s": _round(report.percentile(logins, 0.95)),
    }  # fmt: skip
    return summary


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load.drive")
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    summary = run(host=args.host, users=args.users, seconds=args.seconds, spawn_rate=args.spawn_rate)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n")
    Path(args.out).with_name("client_times.json").write_text(json.dumps(locustfile.CLIENT_TIMES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
