"""Celery beat killed (SIGKILL) and restarted, then a second beat running beside it for SOAK_TWO_BEATS_SECONDS (60
by default), while reminders keep falling due (coaching sessions starting a day and k * 8 seconds after the world
was built, besides the heads' digests of the day): no reminder is recorded or mailed twice, none is lost. Beat ticks
the reminders every 2 seconds here (tests/soak/pinned.py), so each beat publishes some 30 ticks a minute."""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest

from tests.soak.stack import wait_until

pytestmark = pytest.mark.timeout(900)
TWO_BEATS_SECONDS = float(os.environ.get("SOAK_TWO_BEATS_SECONDS", "60"))
SESSIONS, SESSION_STEP = 14, 8  # reminders falling due over about two minutes


def test_beat_killed_restarted_and_doubled_sends_every_reminder_once(soak_stack, soak_report, smtp_server):
    stack = soak_stack("beats")
    world = stack.run_json(
        "tests.soak.world", "build", "--heads", "4", "--reminder-hour", "8", "--sessions", str(SESSIONS),
        "--session-step", str(SESSION_STEP),
    )  # fmt: skip
    built_at = time.monotonic()
    organization, today = world["organization"], world["today"]
    expected = {f"daily-digest:{head['id']}:{organization}:{today}" for head in world["heads"]}
    expected |= {
        f"session-soon:{session['id']}:{person}" for session in world["sessions"] for person in session["people"]
    }
    stack.worker_start(env={"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_server.port)})

    def recorded() -> list[tuple[str, bool]]:
        return stack.sql("SELECT dedupe_key, sent_at IS NOT NULL FROM coaching_notification")

    def ticks(name: str) -> int:
        return stack.log(name).count("Sending due task reminders-tick")  # beat-1's log holds both its lives

    stack.beat_start("beat-1", seconds=2)
    wait_until(lambda: len(recorded()) >= len(world["heads"]), timeout=180, what="beat-1's first reminders", interval=1)
    time.sleep(4)
    stack.kill("beat-1")  # SIGKILL: no clean shutdown, its schedule file as it was
    recorded_at = {"beat-1 killed": len(recorded())}
    time.sleep(5)  # reminders fall due with no beat at all
    ticks_before = ticks("beat-1")
    stack.beat_start("beat-1", seconds=2)
    stack.beat_start("beat-2", seconds=2)
    wait_until(lambda: ticks("beat-1") > ticks_before and ticks("beat-2") > 0, timeout=120, what="both beats to tick")
    recorded_at["two beats ticking"] = len(recorded())
    time.sleep(TWO_BEATS_SECONDS)
    stack.terminate("beat-2")
    recorded_at["beat-2 stopped"] = len(recorded())
    # Every session's reminder has fallen due by now, or will shortly, with one beat left.
    time.sleep(max(0.0, SESSIONS * SESSION_STEP + 5 - (time.monotonic() - built_at)))
    wait_until(
        lambda: {key for key, sent in recorded() if sent} >= expected,
        timeout=180,
        what="every reminder to be mailed",
        interval=1,
    )
    time.sleep(10)  # a few more ticks: nothing is decided or mailed again
    rows = recorded()
    keys = Counter(key for key, _ in rows)
    message_ids = Counter(message["Message-ID"] for message in smtp_server.messages)
    tick_counts = {name: ticks(name) for name in ("beat-1", "beat-2")}
    figures = {
        "beats": {"killed": 1, "restarted": 1, "two_at_once_seconds": TWO_BEATS_SECONDS, "reminder_ticks": tick_counts},
        "reminders": {
            "expected": len(expected),
            "recorded": len(keys),
            "sent": sum(sent for _, sent in rows),
            "lost": len(expected - set(keys)),
            "unexpected": len(set(keys) - expected),
            "recorded_twice": sum(count > 1 for count in keys.values()),
            "mails": len(smtp_server.messages),
            "mails_duplicated": sum(count - 1 for count in message_ids.values()),
            "recorded_by_phase": recorded_at,
        },
    }
    soak_report(figures)

    assert set(keys) == expected
    assert figures["reminders"]["sent"] == len(expected)
    assert figures["reminders"]["recorded_twice"] == 0
    assert len(smtp_server.messages) == len(expected)
    assert figures["reminders"]["mails_duplicated"] == 0
    assert tick_counts["beat-2"] > 0
