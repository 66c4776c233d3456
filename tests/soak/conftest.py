"""The fault tests (`make soak`, docs/operations.md): each starts its own PostgreSQL, Redis and product processes
(tests/soak/stack.py), restarts or kills them, and prints its figures. They take minutes and restart servers, so
`make test` skips them: they run only with BSC_SOAK=1, which `make soak` sets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.soak.stack import Stack

HERE = Path(__file__).resolve().parent
RESULTS: list[tuple[str, dict]] = []  # each fault test's figures, printed at the end of the run


def pytest_collection_modifyitems(config, items):
    if os.environ.get("BSC_SOAK") == "1":
        return
    skip = pytest.mark.skip(reason="a fault test with its own servers: run by `make soak` (BSC_SOAK=1)")
    for item in items:
        if HERE in Path(item.fspath).resolve().parents:
            item.add_marker(skip)


@pytest.fixture
def soak_stack(request):
    """A factory of stacks (own PostgreSQL, Redis and product processes), each stopped at teardown whatever the
    test's outcome; a failed test prints the tail of every process's log."""
    stacks: list[Stack] = []

    def make(name: str) -> Stack:
        stack = Stack(name)
        stacks.append(stack)
        stack.start()
        return stack

    yield make
    failed = getattr(request.node, "rep_call", None) is None or request.node.rep_call.failed
    for stack in stacks:
        if failed:
            for log in sorted(stack.dir.glob("*.log")):
                print(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        stack.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def soak_report(request):
    """`soak_report(figures)` keeps the test's figures for the run's summary (and prints them at once)."""

    def report(figures: dict) -> None:
        RESULTS.append((request.node.name, figures))
        print(f"\nSOAK {request.node.name}: {json.dumps(figures)}")

    return report


def pytest_terminal_summary(terminalreporter):
    if not RESULTS:
        return
    terminalreporter.section("fault test figures")
    for name, figures in RESULTS:
        terminalreporter.write_line(f"{name}: {json.dumps(figures)}")
