"""Redis (the broker) killed for SOAK_REDIS_DOWN_SECONDS (60 by default) while department heads save their
data-entry pages: saving still works (the value and its recompute request commit together; the task that could
not be published is left to the sweep), the pages say the scores are being recomputed, and once Redis is back the
sweep recomputes everything (stored scores equal a full recompute); reminders that fell due meanwhile go out
once each."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest

from tests.soak.people import HeadSession, stored_values, tally
from tests.soak.stack import wait_until

pytestmark = pytest.mark.timeout(900)
DOWN_SECONDS = float(os.environ.get("SOAK_REDIS_DOWN_SECONDS", "60"))


def test_redis_down_while_heads_save_loses_no_save_and_no_reminder(soak_stack, soak_report, smtp_server):
    stack = soak_stack("redis")
    world = stack.run_json("tests.soak.world", "build", "--heads", "4", "--reminder-hour", "8")
    mail = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp_server.port)}
    stack.worker_start(env=mail)
    stack.beat_start(seconds=2)
    stack.web_start(workers=3)

    def notifications():
        return stack.sql("SELECT dedupe_key, sent_at IS NOT NULL, channel FROM coaching_notification")

    # Before the outage: the heads' digests of the day (their KPI values are due) go out.
    wait_until(
        lambda: sum(sent for _, sent, _ in notifications()) == len(world["heads"]),
        timeout=120,
        what="the heads' digests of the day",
        interval=1,
    )
    before = {key for key, _, _ in notifications()}

    heads = [
        HeadSession(stack.base_url, world["slug"], head["email"], world["password"], head["kpis"], number)
        for number, head in enumerate(world["heads"], start=1)
    ]
    for head in heads:
        head.log_in()
    admin = HeadSession(stack.base_url, world["slug"], "admin@soak.example.com", world["password"], [], 0)
    admin.log_in()
    stop = threading.Event()
    threads = [threading.Thread(target=head.keep_saving, args=(world["month"], stop), daemon=True) for head in heads]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        stack.redis_kill()
        down_at = time.monotonic()
        saves_before_outage = sum(len(head.saves) for head in heads)
        # Reminders fall due during the outage: sessions starting within the day, an action item due today.
        expected = stack.run_json("tests.soak.world", "due-now", world["slug"], "--sessions", "4")["keys"]
        wait_until(
            lambda: any(save.outcome == "committed" for head in heads for save in head.saves[saves_before_outage:]),
            timeout=60,
            what="a save committed while Redis is down",
        )
        scorecard = heads[0].http.get(
            f"{stack.base_url}/o/{world['slug']}/scorecards/{world['division']}/", timeout=120
        )
        recomputing_shown = scorecard.status_code == 200 and "Recomputing" in scorecard.text
        asked_at = time.monotonic()
        asked = admin.http.post(
            f"{stack.base_url}/o/{world['slug']}/review-packs/",
            data={"unit": world["division"], "kind": "month", "period": world["month"]},
            headers={"X-CSRFToken": admin.http.cookies["csrftoken"]},
            timeout=120,
        )
        pack_answer = {
            "status": asked.status_code,
            "seconds": round(time.monotonic() - asked_at, 1),
            "being_made": "is being made" in asked.text,
        }
        pack_during_outage = stack.sql("SELECT status, step FROM coaching_reviewpack")
        pending_during_outage = stack.sql("SELECT count(*) FROM kpis_pendingrecompute")[0][0]
        time.sleep(max(0.0, DOWN_SECONDS - (time.monotonic() - down_at)))
        saves_during_outage = [save for head in heads for save in head.saves[saves_before_outage:]]
        stack.redis_start()
        back_at = time.monotonic()
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)

    wait_until(
        lambda: stack.sql("SELECT count(*) FROM kpis_pendingrecompute")[0][0] == 0,
        timeout=240,
        what="the sweep to recompute what was saved during the outage",
        interval=1,
    )
    drained_after = round(time.monotonic() - back_at)
    # The pack's task was never published; the republish takes packs queued for over 2 minutes: age it.
    stack.sql("UPDATE coaching_reviewpack SET created_at = created_at - interval '3 minutes' RETURNING id")
    wait_until(
        lambda: stack.sql("SELECT status FROM coaching_reviewpack")[0][0] in ("done", "failed"),
        timeout=180,
        what="the review pack asked for during the outage to be made",
        interval=1,
    )
    pack_made_after = round(time.monotonic() - back_at)
    pack_after = stack.sql("SELECT status, error, pdf_pages FROM coaching_reviewpack")
    wait_until(
        lambda: {key for key, sent, _ in notifications() if sent} >= set(expected),
        timeout=180,
        what="the reminders due during the outage to be mailed",
        interval=1,
    )
    time.sleep(10)  # a few more beat ticks (every 2 s): nothing is decided or mailed again
    rows = notifications()
    keys = Counter(key for key, _, _ in rows)
    message_ids = Counter(message["Message-ID"] for message in smtp_server.messages)
    emails = sum(channel == "email" for _, _, channel in rows)

    saves = [save for head in heads for save in head.saves]
    outcome = tally(saves, stored_values(stack, world["month"]))["figures"]
    during = tally(saves_during_outage, stored_values(stack, world["month"]))["figures"]
    scores = stack.run_json("tests.soak.world", "scores", world["slug"])
    figures = {
        "redis_down_seconds": round(back_at - down_at),
        "saves": {
            "attempted": outcome.get("attempted", 0),
            "committed": outcome.get("committed", 0),
            "refused": outcome.get("refused", 0),
            "lost": outcome.get("lost", 0),
            "half_written": outcome.get("half written", 0),
            "during_outage_attempted": during.get("attempted", 0),
            "during_outage_committed": during.get("committed", 0),
        },
        "recompute_requests_waiting_during_outage": pending_during_outage,
        "page_said_recomputing": recomputing_shown,
        "outbox_drained_seconds_after_redis_returned": drained_after,
        "review_pack": {
            "asked_during_outage": pack_answer,
            "waiting_during_outage": [list(row) for row in pack_during_outage],
            "made_seconds_after_redis_returned": pack_made_after,
            "after": [[status, error, pages] for status, error, pages in pack_after],
        },
        "scores": {"rows": scores["rows"], "differences_from_full_recompute": scores["differences"]},
        "reminders": {
            "due_during_outage": len(expected),
            "recorded": sum(key in keys for key in expected),
            "sent": sum(sent for key, sent, _ in rows if key in expected),
            "recorded_twice": sum(count > 1 for count in keys.values()),
            "mails": len(smtp_server.messages),
            "mails_duplicated": sum(count - 1 for count in message_ids.values()),
            "email_notifications": emails,
        },
    }
    soak_report(figures)

    assert outcome.get("attempted", 0) == outcome.get("committed", 0), outcome  # no save refused, none lost
    assert during.get("committed", 0) > 0
    assert outcome.get("lost", 0) == 0 and outcome.get("half written", 0) == 0
    assert pending_during_outage > 0 and recomputing_shown
    assert pack_answer["status"] == 200 and pack_answer["being_made"] and pack_answer["seconds"] < 10, pack_answer
    assert pack_during_outage == [("queued", "Waiting for a worker")]
    assert len(pack_after) == 1 and pack_after[0][:2] == ("done", ""), pack_after
    assert scores["differences"] == 0, scores["examples"]
    assert figures["reminders"]["recorded"] == figures["reminders"]["sent"] == len(expected)
    assert set(keys) == before | set(expected)  # nothing else decided
    assert figures["reminders"]["recorded_twice"] == 0
    assert figures["reminders"]["mails_duplicated"] == 0
    assert len(smtp_server.messages) == emails
