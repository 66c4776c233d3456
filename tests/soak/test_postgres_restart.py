"""PostgreSQL restarted in immediate mode (every backend killed, no checkpoint, recovery from the WAL) while
department heads save their data-entry pages against the product served by gunicorn: every save is either
committed in full or answered with a page saying the database is unavailable (the person retries); nothing is
half-written, nothing answered as saved is lost, and once the recompute outbox has drained the stored scores
equal a full recompute from the source rows."""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.soak.people import HeadSession, stored_values, tally
from tests.soak.stack import wait_until

pytestmark = pytest.mark.timeout(900)
RESTARTS = int(os.environ.get("SOAK_PG_RESTARTS", "3"))
BETWEEN_RESTARTS = float(os.environ.get("SOAK_PG_RESTART_EVERY", "6"))  # seconds of saving between restarts


def test_postgres_restarted_while_heads_save_loses_nothing(soak_stack, soak_report):
    stack = soak_stack("postgres")
    world = stack.run_json("tests.soak.world", "build", "--heads", "4")
    stack.worker_start()
    stack.beat_start(seconds=2)  # the recompute sweep every 2 s (it takes outbox rows older than a minute)
    stack.web_start(workers=3)
    heads = [
        HeadSession(stack.base_url, world["slug"], head["email"], world["password"], head["kpis"], number)
        for number, head in enumerate(world["heads"], start=1)
    ]
    for head in heads:
        head.log_in()

    stop = threading.Event()
    threads = [threading.Thread(target=head.keep_saving, args=(world["month"], stop), daemon=True) for head in heads]
    for thread in threads:
        thread.start()
    restart_seconds = []
    try:
        time.sleep(BETWEEN_RESTARTS)
        for _ in range(RESTARTS):
            started = time.monotonic()
            stack.postgres_restart_immediate()
            restart_seconds.append(round(time.monotonic() - started, 1))
            time.sleep(BETWEEN_RESTARTS)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)

    saves = [save for head in heads for save in head.saves]
    outcome = tally(saves, stored_values(stack, world["month"]))
    # The stored value of each KPI is the last one a save wrote (values grow with each attempt).
    current = dict(
        stack.sql(
            "SELECT kpi_id, value::int FROM kpis_measurement WHERE period = to_date(%s, 'YYYY-MM')", [world["month"]]
        )
    )
    newest = dict(
        stack.sql(
            "SELECT kpi_id, max(value)::int FROM kpis_measurementevent WHERE period = to_date(%s, 'YYYY-MM') "
            "GROUP BY kpi_id",
            [world["month"]],
        )
    )
    # The recompute tasks the restarts interrupted leave their outbox rows; the sweep publishes them again.
    wait_until(
        lambda: stack.sql("SELECT count(*) FROM kpis_pendingrecompute")[0][0] == 0,
        timeout=180,
        what="the recompute outbox to drain",
        interval=1,
    )
    scores = stack.run_json("tests.soak.world", "scores", world["slug"])
    figures = {
        "restarts": RESTARTS,
        "restart_seconds": restart_seconds,
        "saves": {
            "attempted": outcome["figures"].get("attempted", 0),
            "committed": outcome["figures"].get("committed", 0),
            "refused": outcome["figures"].get("refused", 0),
            "other_answers": sum(
                count for key, count in outcome["figures"].items() if key.startswith("HTTP") or key == "no answer"
            ),
            "refused_but_stored": outcome["figures"].get("refused but stored", 0),
            "half_written": outcome["figures"].get("half written", 0),
            "lost": outcome["figures"].get("lost", 0),
        },
        "page_loads_failed": sum(sum(head.page_failures.values()) for head in heads),
        "scores": {"rows": scores["rows"], "differences_from_full_recompute": scores["differences"]},
    }
    soak_report(figures)

    assert outcome["problems"] == [], "\n".join(outcome["problems"][:20])
    assert figures["saves"]["committed"] > 0
    assert current == newest, "a KPI's stored value is not the last one written"
    assert scores["differences"] == 0, scores["examples"]
