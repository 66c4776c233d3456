"""`make run`: the whole product on one machine.

Starts (or reuses) the embedded PostgreSQL and Redis, migrates, seeds the demo data once, then runs the
web server on 127.0.0.1:8000 (or BSC_RUN_ADDRESS), a Celery worker and Celery beat. Ctrl-C stops all of
them and the embedded servers, leaving no process behind. Unless SITE_URL is set, the links in mails
(invitations, digests) point at the address served here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

from bsc.project.embedded import PROJECT_DIR

HOST_PORT = os.environ.get("BSC_RUN_ADDRESS", "127.0.0.1:8000")


def site_url_for(address: str) -> str:
    """The site's URL for runserver's address ('8002', '127.0.0.1:8002', '0.0.0.0:8002', '[::1]:8002'): an
    address that listens everywhere is reached as 127.0.0.1 (or [::1]) from this machine."""
    host, _, port = address.rpartition(":")
    host = host or "127.0.0.1"
    host = {"0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)
    return f"http://{host}:{port}"


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, check=True)


def _spawn(name: str, args: list[str]) -> tuple[str, subprocess.Popen]:
    # Each child gets its own process group so that stopping it also stops what it forked.
    return name, subprocess.Popen(args, cwd=PROJECT_DIR, start_new_session=True)


def _stop(children: list[tuple[str, subprocess.Popen]]) -> None:
    # Celery's main process gets SIGTERM alone, for a warm shutdown that lets the running task finish
    # (its pool children would die mid-task if signalled too); the others with their whole group.
    for name, process in children:
        if process.poll() is None:
            if name == "worker":
                process.terminate()
            else:
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for name, process in children:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it", flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything the child left behind in its group


def _announce() -> None:
    from bsc.project.demo import DEMO_LOGINS, DEMO_PASSWORD

    url = site_url_for(HOST_PORT)
    print(f"\n  Scorecard is running at {url}/  (Ctrl-C stops everything)\n", flush=True)
    if os.environ["SITE_URL"].rstrip("/") != url:
        print(f"  Links in mails use SITE_URL: {os.environ['SITE_URL']}\n", flush=True)
    print(f"  Demo logins (password for all: {DEMO_PASSWORD}):", flush=True)
    for persona, email in DEMO_LOGINS:
        print(f"    {persona:<16} {email}", flush=True)
    print(flush=True)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bsc.project.settings")
    if not os.environ.get("SITE_URL"):  # mails link to the server started here
        os.environ["SITE_URL"] = site_url_for(HOST_PORT)
    embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    if embedded:
        from bsc.project import embedded as servers

        os.environ.setdefault("BSC_DATA_DIR", str(servers.data_dir()))
    _manage("migrate", "--no-input", "-v", "0")
    _manage("seed_demo")
    python = sys.executable
    (PROJECT_DIR / ".data").mkdir(exist_ok=True)
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    children: list[tuple[str, subprocess.Popen]] = []
    exit_code = 0
    try:
        children.append(_spawn("web", [python, "manage.py", "runserver", HOST_PORT]))
        children.append(
            _spawn(
                "worker", [python, "-m", "celery", "-A", "bsc", "worker", "--loglevel", "INFO", "--concurrency", "2"]
            )
        )
        children.append(
            _spawn("beat", [python, "-m", "celery", "-A", "bsc", "beat", "--loglevel", "INFO",
                            "--schedule", str(PROJECT_DIR / ".data" / "celerybeat-schedule")])
        )  # fmt: skip
        _announce()
        while not stopping:
            for name, process in children:
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; stopping everything", flush=True)
                    stopping, exit_code = True, 1
            time.sleep(0.5)
    finally:
        print("Stopping web, worker and beat…", flush=True)
        _stop(children)
        if embedded:
            servers.stop()
            print("Embedded PostgreSQL and Redis stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
