"""The shared test world and the real-stack fixtures: Celery worker processes, a local SMTP server, and
Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from bsc.models import Membership, Organization, OrgUnit, Role, User
from tests import clock, factories

PROJECT_DIR = Path(__file__).resolve().parent.parent
SCREENSHOTS = PROJECT_DIR / "tests" / "screenshots"


def pytest_unconfigure(config):
    """Stop the embedded servers this run used, so no process outlives the suite. In a parallel run
    (pytest-xdist, docs/operations.md) only the controlling process stops them, after every test process has
    finished: a test process that finishes first must not take the servers from under the others. (The
    controller also started them, when it loaded the settings, before any test process existed.)"""
    if hasattr(config, "workerinput"):  # a pytest-xdist test process
        return
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        from bsc.project import embedded

        embedded.stop()


@pytest.fixture(autouse=True)
def pinned_clock():
    """Every test starts at the suite's pinned instant (tests/clock.py) and the clock ticks on from there; a
    test moves it with `pinned_clock.move_to(...)` or `pinned_clock.shift(...)`."""
    with clock.travel() as traveller:
        yield traveller


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
def as_committed(django_capture_on_commit_callbacks):
    """A context manager for a test's set-up: when it ends, the set-up behaves as if it had committed and its
    recompute had run elsewhere (its on-commit callbacks run, publishing nothing, and the recompute outbox is
    emptied), so that what the test does next starts from a clean transaction."""
    from unittest import mock

    from bsc.tenancy import dangerously_unscoped
    from kpis.models import PendingRecompute

    @contextlib.contextmanager
    def committed():
        with mock.patch("kpis.tasks.scores_recompute.delay"), django_capture_on_commit_callbacks(execute=True):
            yield
        with dangerously_unscoped():
            PendingRecompute.objects.all().delete()

    return committed


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


class SmtpHold:
    """Keeps the next message waiting at the end of DATA (not accepted) until released; then answers 451,
    as a server that never accepted it would."""

    def __init__(self):
        self.arrived = threading.Event()
        self.released = threading.Event()

    def release(self):
        self.released.set()


@pytest.fixture
def smtp_server():
    """An aiosmtpd server on loopback that keeps every message it accepts (`.messages`). A test can make it
    answer "451 try again later" to the next messages (`.fail_next(n)`), refuse a recipient for good
    (`.refuse(address)`), or hold the next message (`.hold_next()`) to kill a sender mid-send."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    class Collect(Message):
        def __init__(self):
            super().__init__()
            self.messages = []
            self.failures_left = 0
            self.hold = None
            self.refused: set[str] = set()
            self.lock = threading.Lock()

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
            if address in self.refused:
                return "550 5.1.1 No such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
            with self.lock:
                hold, self.hold = self.hold, None
                fail = self.failures_left > 0
                self.failures_left -= fail
            if hold is not None:
                hold.arrived.set()
                while not hold.released.is_set():
                    await asyncio.sleep(0.05)
                return "451 4.3.0 Held by the test; not accepted"
            if fail:
                return "451 4.3.0 Try again later"
            return await super().handle_DATA(server, session, envelope)

        def handle_message(self, message):
            self.messages.append(message)

    handler = Collect()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    controller.messages = handler.messages

    def fail_next(count: int) -> None:
        with handler.lock:
            handler.failures_left = count

    def hold_next() -> SmtpHold:
        hold = SmtpHold()
        with handler.lock:
            handler.hold = hold
        return hold

    controller.fail_next = fail_next
    controller.refuse = handler.refused.add
    controller.hold_next = hold_next
    try:
        yield controller
    finally:
        if handler.hold is not None:
            handler.hold.release()
        controller.stop()


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.1, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def waiting_for_a_lock(statement_part: str) -> bool:
    """Whether a backend of this test database is waiting for a lock while running a statement that contains
    `statement_part`: how a race test holds its first transaction exactly until the second one queues behind it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view would stay as first read
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query LIKE %s",
            [f"%{statement_part}%"],
        )
        return cursor.fetchone()[0] > 0


# --- Real Celery worker processes -----------------------------------------------------------------


def _stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return  # already gone (a test may have killed it)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class CeleryWorkers:
    """Starts real `celery worker` processes on the test database and the test Redis, each in its own
    process group (so a test can SIGKILL a worker with its pool) and with its log in the test's tmp dir,
    and stops them all at teardown. `celery_workers(name, **env)` is `start(name=name, env=env)`."""

    def __init__(self, env: dict[str, str], log_dir):
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen] = []

    def __call__(self, name: str = "w", **extra_env: str) -> subprocess.Popen:
        return self.start(name=name, env=extra_env)

    def start(
        self,
        *,
        pool: str = "solo",
        concurrency: int = 1,
        visibility_timeout: int | None = None,
        name: str = "w",
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen:
        from bsc.project.celery import app

        hostname = f"test-{os.getpid()}-{name}-{len(self.started)}@localhost"
        process_env = {**self.env, **clock.worker_env(), **(env or {})}
        if visibility_timeout is not None:  # seconds before Redis hands an unacknowledged task out again
            process_env["CELERY_VISIBILITY_TIMEOUT"] = str(visibility_timeout)
        if "CELERY_VISIBILITY_TIMEOUT" in process_env:  # the task limits must stay below it (bsc/project/settings.py)
            shortest = int(process_env["CELERY_VISIBILITY_TIMEOUT"])
            process_env.setdefault("TASK_TIME_LIMIT", str(shortest - 1))
            process_env.setdefault("TASK_SOFT_TIME_LIMIT", str(shortest - 2))
        log_path = self.log_dir / f"worker-{name}-{len(self.started)}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.celery_worker", "-A", "bsc", "worker", "--pool", pool, "--concurrency",
                 str(concurrency), "--loglevel", "INFO", "--hostname", hostname, "--without-gossip",
                 "--without-mingle", "--without-heartbeat"],
                cwd=PROJECT_DIR,
                env=process_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        process.hostname = hostname
        process.log_path = log_path
        self.started.append(process)
        try:
            wait_for(
                lambda: app.control.ping(destination=[hostname], timeout=0.5),
                timeout=60,
                message=f"the Celery worker {hostname} to answer ping",
            )
        except AssertionError:
            print(log_path.read_text(errors="replace")[-4000:])
            raise
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker's whole process group (main process and pool), as a crash or the OOM killer would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.started:
            _stop_worker(process)


@pytest.fixture
def celery_workers(transactional_db, smtp_server, tmp_path):
    """A factory of real Celery worker processes (`celery_workers.start(...)` or `celery_workers(name,
    **env)`); the queue, and any task left unacknowledged by an earlier test's killed worker, are emptied
    first."""
    import redis

    from bsc.project.celery import app

    app.control.purge()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("unacked", "unacked_index", "unacked_mutex")
    workers = CeleryWorkers(
        {
            **os.environ,
            "BSC_DATABASE_NAME": settings.DATABASES["default"]["NAME"],
            "REDIS_URL": settings.REDIS_URL,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_server.port),
        },
        tmp_path,
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


# Reported by every page of a context as the browser sees it: a script error, a console error (Chromium logs a
# refused resource, a failed request and a Content-Security-Policy violation there) or a CSP violation event.
CSP_VIOLATION_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  // blockedURI is "inline", "eval" or the refused address.
  window.__bscCspViolation(`${event.effectiveDirective} refused ${event.blockedURI} (${event.sourceFile}:${event.lineNumber})`);
});
"""


def watch_console(context) -> list[str]:
    """Collect the console errors, uncaught script errors and CSP violations of the context's pages."""
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            where = message.location or {}
            problems.append(f"console error: {message.text} ({where.get('url')}:{where.get('lineNumber')})")

    context.on("console", on_console)
    context.on("weberror", lambda web_error: problems.append(f"script error: {web_error.error}"))
    context.expose_binding("__bscCspViolation", lambda source, text: problems.append(f"CSP violation: {text}"))
    context.add_init_script(CSP_VIOLATION_LISTENER)
    return problems


def unexpected_console_problems(problems: list[str], allowed: tuple[str, ...]) -> list[str]:
    """The problems that match none of the regular expressions a test allowed."""
    return [problem for problem in problems if not any(re.search(pattern, problem) for pattern in allowed)]


@pytest.fixture
def open_page(browser, live_server, request):
    """A factory of pages in fresh browser contexts (options as browser.new_context's); the test fails at teardown
    if any of them logged a console error, threw a script error or violated the Content-Security-Policy. A
    test that provokes one on purpose (a 403 answer logs "Failed to load resource") allows it with
    `@pytest.mark.allow_console_errors(regex, ...)`."""
    marker = request.node.get_closest_marker("allow_console_errors")
    allowed = tuple(marker.args) if marker else ()
    contexts = []

    def make(**options):
        options = {"base_url": live_server.url, "viewport": {"width": 1280, "height": 860}, **options}
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append((context, watch_console(context)))
        return context.new_page()

    yield make
    unexpected = []
    for context, problems in contexts:
        context.close()
        unexpected += unexpected_console_problems(problems, allowed)
    if unexpected:
        pytest.fail("The browser reported problems:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def page(open_page):
    return open_page()


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
    # The page the form's answer loads (the home, a second-factor step, or the form again with its error): waiting
    # for the load state alone may see the login page before the click's navigation starts.
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
