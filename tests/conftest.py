"""The shared test world and the real-stack fixtures: a Celery worker process, a local SMTP server,
and Chromium driven by Playwright."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from bsc.models import Membership, Organization, OrgUnit, Role, User
from tests import factories

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCREENSHOTS = PROJECT_DIR / "tests" / "screenshots"


def pytest_unconfigure(config):
    """Stop the embedded servers this run used, so no process outlives the suite."""
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from bsc import embedded

        embedded.stop()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; PBKDF2's deliberate slowness only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- The small fixed world -------------------------------------------------------------------------


@dataclass
class World:
    org_a: Organization
    org_b: Organization
    admin_a: User
    viewer_a: User
    member_b: User
    company_a: OrgUnit
    division_a: OrgUnit
    department_a: OrgUnit
    unit_b: OrgUnit

    def membership(self, user: User, organization: Organization | None = None) -> Membership:
        return factories.membership_of(user, organization or self.org_a)


@pytest.fixture
def world(db) -> World:
    org_a = factories.make_organization("acme", name="Acme Manufacturing")
    org_b = factories.make_organization("globex", name="Globex")
    admin_a = Membership.objects.for_organization(org_a).get().user
    member_b = Membership.objects.for_organization(org_b).get().user
    viewer_a = factories.add_member(org_a, Role.VIEWER).user
    company_a = factories.root_unit(org_a)
    division_a = factories.make_unit(org_a, "Operations", parent=company_a)
    department_a = factories.make_unit(org_a, "Assembly", parent=division_a)
    unit_b = factories.make_unit(org_b, "Globex Sales")
    return World(org_a, org_b, admin_a, viewer_a, member_b, company_a, division_a, department_a, unit_b)


@pytest.fixture
def member_of_role(world):
    """A user of organization A with the given role (department heads scoped to the division)."""

    def make(role: str) -> User:
        if role == Role.ADMIN:
            return world.admin_a
        units = [world.division_a] if role == Role.DEPARTMENT_HEAD else []
        return factories.add_member(world.org_a, role, units=units).user

    return make


# --- Local SMTP server -----------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on loopback that keeps every message it receives."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Collect(Message):
        def __init__(self):
            super().__init__()
            self.messages = []

        def handle_message(self, message):
            self.messages.append(message)

    handler = Collect()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.messages = handler.messages
    try:
        yield controller
    finally:
        controller.stop()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


# --- A real Celery worker process ------------------------------------------------------------------


class CeleryWorkers:
    """Starts real `celery worker` processes on the test database and the test Redis, each in its own
    process group (so a test can SIGKILL a worker with its pool), and stops them all at teardown."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.started: list[subprocess.Popen] = []

    def start(
        self, *, pool: str = "solo", concurrency: int = 1, visibility_timeout: int | None = None, name: str = ""
    ) -> subprocess.Popen:
        from bsc.celery import app

        hostname = f"test-{os.getpid()}-{len(self.started)}{name}@localhost"
        env = dict(self.env)
        if visibility_timeout is not None:  # seconds before Redis hands an unacknowledged task out again
            env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "bsc", "worker", "--pool", pool, "--concurrency", str(concurrency),
             "--loglevel", "INFO", "--hostname", hostname, "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            cwd=PROJECT_DIR,
            env=env,
            start_new_session=True,
        )  # fmt: skip
        process.hostname = hostname
        self.started.append(process)
        wait_for(
            lambda: app.control.ping(destination=[hostname], timeout=0.5),
            timeout=60,
            message=f"the Celery worker {hostname} to answer ping",
        )
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group (main process and pool), as a crash or the OOM killer would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def celery_workers(transactional_db, smtp_server):
    """A factory of real Celery worker processes (`celery_workers.start(...)`); the queue, and any task
    left unacknowledged by an earlier test's killed worker, are emptied first."""
    import redis

    from bsc.celery import app

    app.control.purge()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index", "unacked_mutex")
    workers = CeleryWorkers(
        {
            **os.environ,
            "BSC_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_server.port),
        }
    )
    try:
        yield workers
    finally:
        workers.stop_all()


@pytest.fixture
def celery_worker_process(celery_workers):
    """One real Celery worker process (solo pool) for the test."""
    return celery_workers.start()


# --- Chromium through Playwright -------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("BSC_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}; install Debian's chromium package or set BSC_CHROMIUM.")
    return path


@pytest.fixture(scope="session")
def browser():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot for review under tests/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, email: str, password: str = factories.PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
