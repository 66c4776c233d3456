"""`make load`: the product under 50 people at once for 3 minutes, and whether it met its targets.

Starts the embedded PostgreSQL and Redis of BSC_DATA_DIR (default .data/load), builds the load world once
(migrations, the demo data and the load's people: bench/load/world.py) and copies it into a fresh database for each
run, serves it with gunicorn on a free loopback port as the Dockerfile does (DEBUG=false, collected static files,
WEB_CONCURRENCY workers, default 3 as in docker-compose; DATABASE_URL and REDIS_URL name the embedded servers;
Server-Timing headers on, so each endpoint's time in the server, in SQL and its query count are reported next to
the times the clients saw) with a Celery worker (concurrency 2, as docker-compose), drives the personas with locust
(bench/load/drive.py), prints the figures, writes bench/load/results.json and exits non-zero when a target is
missed (bench/load/report.py). Everything it started is stopped at the end, also on failure or Ctrl-C.

LOAD_USERS (50) and LOAD_SECONDS (180) shorten a run while developing; LOAD_WAIT ("5,15") is each person's think
time between actions in seconds; LOAD_SPAWN_RATE (5) people start per second.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.load import gunicorn_timing, phases, report

LOAD_DIR = Path(__file__).resolve().parent
PROJECT_DIR = LOAD_DIR.parents[1]
RESULTS_FILE = LOAD_DIR / "results.json"
WORLD_DATABASE = "bsc"  # built once (the embedded servers' default database)
RUN_DATABASE = "load_run"  # a copy of it for each run
# gunicorn's access log with the time each request took inside the server (%(M)s, in ms): set against the
# client's times it tells time spent working from time spent waiting for a free worker.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms'


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("BSC_DATA_DIR", ".data/load")
    env.update(
        DJANGO_SETTINGS_MODULE="bench.load.settings", DEBUG="false", SECRET_KEY="load-only-not-a-secret-" + "x" * 30,
        ALLOWED_HOSTS="127.0.0.1,localhost", SECURE_SSL_REDIRECT="false", SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0", LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"),
        WEB_CONCURRENCY=env.get("WEB_CONCURRENCY", "3"),
    )  # fmt: skip
    os.environ.update(BSC_DATA_DIR=env["BSC_DATA_DIR"])
    return env


def _fingerprint() -> str:
    """Changes when the schema or the world's recipe does: then the world is built again."""
    digest = hashlib.sha256()
    files = sorted(PROJECT_DIR.glob("*/migrations/*.py")) + [
        LOAD_DIR / "world.py", PROJECT_DIR / "bsc/project/demo.py", PROJECT_DIR / "bsc/management/commands/seed_demo.py"
    ]  # fmt: skip
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _python(env: dict, *args: str, database: str | None = None) -> None:
    env = env | ({"BSC_DATABASE_NAME": database} if database else {})
    subprocess.run([sys.executable, *args], cwd=PROJECT_DIR, env=env, check=True)


def _sql(connect: dict, *statements: str) -> None:
    import psycopg

    with psycopg.connect(host=connect["HOST"], port=connect["PORT"], user=connect["USER"], dbname="postgres",
                         autocommit=True) as conn:  # fmt: skip
        for statement in statements:
            conn.execute(statement)


def _prepare(env: dict, data: Path, connect: dict) -> None:
    """The world in WORLD_DATABASE (built when missing or outdated, its facts in world.json), copied to
    RUN_DATABASE."""
    world_file, stamp = data / "world.json", data / "world.fingerprint"
    fingerprint = _fingerprint()
    if not world_file.exists() or not stamp.exists() or stamp.read_text() != fingerprint:
        print("building the load world (once: migrations, demo data, the load's people) …", flush=True)
        stamp.unlink(missing_ok=True)
        _sql(connect, f'DROP DATABASE IF EXISTS "{RUN_DATABASE}"', f'DROP DATABASE IF EXISTS "{WORLD_DATABASE}"',
             f'CREATE DATABASE "{WORLD_DATABASE}"')  # fmt: skip
        _python(env, "manage.py", "migrate", "--no-input", "-v", "0")
        _python(env, "-m", "bench.load.world", str(world_file))
        _python(env, "manage.py", "collectstatic", "--no-input", "-v", "0")
        stamp.write_text(fingerprint)
    _sql(connect, f'DROP DATABASE IF EXISTS "{RUN_DATABASE}"',
         f'CREATE DATABASE "{RUN_DATABASE}" TEMPLATE "{WORLD_DATABASE}"')  # fmt: skip


def _spawn(env: dict, log: Path, args: list[str]) -> subprocess.Popen:
    # Its own process group, so stopping it stops what it forked (gunicorn's and Celery's workers).
    with open(log, "ab") as out:
        return subprocess.Popen(args, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything left behind in its group


def _wait_until_served(url: str, processes: list[subprocess.Popen], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError("gunicorn or the Celery worker exited while starting; see .data/load/*.log")
        with contextlib.suppress(OSError), urllib.request.urlopen(url + "/accounts/login/", timeout=5) as response:
            if response.status == 200:
                return
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def _load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def main() -> int:
    users = int(os.environ.get("LOAD_USERS", "50"))
    seconds = float(os.environ.get("LOAD_SECONDS", "180"))
    spawn_rate = os.environ.get("LOAD_SPAWN_RATE", "5")
    env = _environment()

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    from bsc.project import embedded  # starts nothing on import; BSC_DATA_DIR is set by _environment()

    data = embedded.data_dir()
    processes: list[subprocess.Popen] = []
    summary_file = data / "summary.json"
    summary_file.unlink(missing_ok=True)
    try:
        connect = embedded.postgres_settings()
        redis_url = embedded.redis_url()
        _prepare(env, data, connect)
        import redis

        redis.Redis.from_url(redis_url).flushall()  # no task or cache entry left from an earlier run
        # Served as docker-compose serves it: the servers named by DATABASE_URL and REDIS_URL (so with its
        # persistent database connections), here the embedded ones.
        host = urllib.parse.quote(str(connect["HOST"]), safe="")
        database_url = f"postgresql://{connect['USER']}@{host}:{connect['PORT']}/{RUN_DATABASE}"
        env = env | {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SERVER_TIMING": "true"}
        port = embedded._free_port()
        url = f"http://127.0.0.1:{port}"
        timing_log = data / "server_times.log"  # when each tagged request started and ended in a worker
        timing_log.unlink(missing_ok=True)
        processes.append(_spawn(env | {"LOAD_TIMING_LOG": str(timing_log)}, data / "gunicorn.log", [
            sys.executable, "-m", "gunicorn", "bsc.project.wsgi", "--bind", f"127.0.0.1:{port}", "--timeout", "60",
            "--access-logfile", str(data / "access.log"), "--access-logformat", ACCESS_LOG_FORMAT,
            "--config", f"python:{gunicorn_timing.__name__}",
        ]))  # fmt: skip
        # LOAD_WORKER_NICE=10 runs the worker at a lower processor priority than the web (what a host would do
        # with docker-compose's cpu_shares), to see how much the recomputes' work delays the people's requests.
        nice = ["nice", "-n", os.environ["LOAD_WORKER_NICE"]] if os.environ.get("LOAD_WORKER_NICE") else []
        processes.append(_spawn(env, data / "worker.log", [
            *nice, sys.executable, "-m", "celery", "-A", "bsc", "worker", "--loglevel", "WARNING", "--concurrency", "2",
        ]))  # fmt: skip
        _wait_until_served(url, processes)
        load_before = _load_average()
        print(f"driving {users} users for {seconds:.0f} s against {url} (load average {load_before}) …", flush=True)
        driver = subprocess.Popen(
            [sys.executable, "-m", "bench.load.drive", "--host", url, "--users", str(users), "--seconds",
             str(seconds), "--spawn-rate", spawn_rate, "--out", str(summary_file)],
            cwd=PROJECT_DIR, env=env | {"LOAD_WORLD": str(data / "world.json")}, start_new_session=True,
        )  # fmt: skip
        processes.append(driver)
        if driver.wait() != 0:
            raise RuntimeError("the locust driver failed; see its output above")
        load_after = _load_average()
    except KeyboardInterrupt:
        print("interrupted; stopping everything …", file=sys.stderr, flush=True)
        return 130
    finally:
        _stop(processes[::-1])
        embedded.stop()
    summary = json.loads(summary_file.read_text())
    summary["load_average"] = {"before": load_before, "after": load_after}
    summary["web_workers"] = int(env["WEB_CONCURRENCY"])
    summary["worker_nice"] = int(os.environ.get("LOAD_WORKER_NICE") or 0)
    summary["phases"] = phases.phases(summary_file.with_name("client_times.json"), timing_log)
    summary["missed"] = report.missed_targets(summary)
    RESULTS_FILE.write_text(json.dumps(summary, indent=2) + "\n")
    print()
    print(report.table(summary))
    print(phases.table(summary["phases"]))
    print(
        f"\nload average (1, 5, 15 min): before {load_before}, after {load_after}; web workers: {env['WEB_CONCURRENCY']}"
    )
    print(f"wrote {RESULTS_FILE.relative_to(PROJECT_DIR)}")
    if summary["missed"]:
        print("missed: " + "; ".join(summary["missed"]), file=sys.stderr)
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
