"""Sending reminders over SMTP: what arrives at a local SMTP server (recipients, subject, digest, the .ics
invite), retries of temporary failures, and exactly once with two real workers, repeated beat ticks, and a
worker killed in the middle of sending."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import icalendar
import pytest
from django.db import connection, transaction
from django.utils import timezone

from bsc.models import Role
from bsc.tenancy import dangerously_unscoped, organization_scope
from coaching import services as coaching
from coaching.models import Notification, NotificationPreference
from coaching.notifications import message_id, notifications_send
from coaching.reminders import reminders_decide
from kpis import services as kpis
from tests import factories
from tests.conftest import wait_for

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def all_notifications():
    with dangerously_unscoped():
        return list(Notification.objects.select_related("recipient").order_by("id"))


def email_rows():
    return [n for n in all_notifications() if n.channel == "email"]


@pytest.fixture
def smtp_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    return settings


def owner_with_work(world, name: str, *, email_on: bool = True):
    """A department head owning a KPI without its due value and an action item due today."""
    user = factories.make_user(f"{name.lower()}@acme.example.com", full_name=name)
    membership = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, user=user, units=[world.division_a])
    with organization_scope(world.org_a):
        kpis.kpi_create(
            unit=world.department_a, name=f"{name}'s KPI", code=name.upper(), baseline=Decimal(0), owner=user
        )
        coaching.action_item_create(
            organization=world.org_a, title=f"{name}'s task", owner=user, due_date=timezone.localdate(), created_by=None
        )
    if not email_on:
        NotificationPreference.objects.for_organization(world.org_a).create(
            organization=world.org_a, membership=membership, email_daily_digest=False
        )
    return user


def due_now(world):
    """Everything due whatever the hour: the organization's reminder hour is midnight."""
    world.org_a.reminder_hour = 0
    world.org_a.save()


def parts(message) -> dict[str, object]:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def test_the_mails_arrive_as_written_with_the_invite_attached(world, smtp_settings, smtp_server):
    due_now(world)
    hugo = owner_with_work(world, "Hugo")
    coach = factories.add_member(
        world.org_a, Role.COACH, user=factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    ).user
    with organization_scope(world.org_a):
        session = coaching.session_schedule(
            unit=world.division_a, coach=coach, kind="check_in", participants=[hugo], agenda="Scrap",
            scheduled_at=timezone.now().replace(microsecond=0) + timedelta(hours=3),
        )  # fmt: skip
    reminders_decide(queue_sending=False)
    rows = {(n.recipient.email, n.kind): n for n in email_rows()}
    assert set(rows) == {
        ("hugo@acme.example.com", "daily_digest"), ("hugo@acme.example.com", "session_soon"),
        ("carla@acme.example.com", "session_soon"),
    }  # fmt: skip

    report = notifications_send()

    assert (report.sent, report.failed) == (3, 0)
    received = {(m["X-RcptTo"], m["Message-ID"]): m for m in smtp_server.messages}
    assert len(received) == 3
    digest = rows[("hugo@acme.example.com", "daily_digest")]
    mail = received[("hugo@acme.example.com", message_id(digest))]
    assert mail["To"] == "Hugo <hugo@acme.example.com>"
    assert mail["From"] == "Scorecard <scorecard@localhost>"
    assert mail["Subject"] == "Acme Manufacturing: 1 KPI value due, 1 action item due today"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = parts(mail)
    assert body["text/plain"].get_payload(decode=True).decode().replace("\r\n", "\n") == digest.body
    assert "KPI values due / overdue\n" in digest.body and "Action items due / overdue\n" in digest.body
    assert "- HUGO · Hugo's KPI (Assembly): " in digest.body
    assert "- Hugo's task, due " in digest.body
    markup = body["text/html"].get_payload(decode=True).decode()
    assert "<strong>HUGO</strong>" in markup and "Hugo&#x27;s task" in markup

    invite_row = rows[("hugo@acme.example.com", "session_soon")]
    invite_mail = received[("hugo@acme.example.com", message_id(invite_row))]
    assert invite_mail["Subject"].startswith("Coming up: Check-in of Operations, ")
    attachment = parts(invite_mail)["text/calendar"]
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "invite.ics"
    calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
    [event] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTART") == session.scheduled_at
    assert str(event["ORGANIZER"]) == "mailto:carla@acme.example.com"
    assert str(event["ATTENDEE"]) == "mailto:hugo@acme.example.com"

    assert all(n.sent_at is not None and n.attempts == 1 for n in email_rows())
    assert notifications_send().sent == 0
    assert len(smtp_server.messages) == 3


def test_a_temporary_failure_is_tried_again_later_and_a_refused_mailbox_is_given_up(world, smtp_settings, smtp_server):
    due_now(world)
    smtp_settings.REMINDER_RETRY_SECONDS = 60
    owner_with_work(world, "Hugo")
    owner_with_work(world, "Nora")
    owner_with_work(world, "Ada")
    smtp_server.refuse("nora@acme.example.com")
    smtp_server.fail_next(1)
    reminders_decide(queue_sending=False)

    report = notifications_send()

    assert (report.sent, report.failed) == (1, 2)
    rows = {(n.recipient.email, n.kind): n for n in email_rows()}
    # Mail goes out in the rows' order, which follows their dedupe keys (text, so user 10 before user 9):
    # the temporary failure hits whichever of Hugo's and Ada's digests is sent first.
    first, second = sorted((rows[(f"{name}@acme.example.com", "daily_digest")] for name in ("hugo", "ada")),
                           key=lambda n: n.pk)  # fmt: skip
    [retried] = [n for n in rows.values() if n.last_error.startswith("SMTPDataError")]
    assert retried.pk == first.pk
    assert retried.last_error == "SMTPDataError: (451, b'4.3.0 Try again later')"
    assert (retried.attempts, retried.sent_at, retried.failed_at) == (1, None, None)
    assert timedelta(seconds=55) < retried.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    refused = rows[("nora@acme.example.com", "daily_digest")]
    assert refused.failed_at is not None and refused.sent_at is None and refused.attempts == 1
    assert refused.last_error == (
        "SMTPRecipientsRefused: {'Nora <nora@acme.example.com>': (550, b'5.1.1 No such mailbox')}"
    )
    assert rows[(second.recipient.email, "daily_digest")].sent_at is not None

    assert notifications_send().sent == 0  # not before its time
    with dangerously_unscoped():
        Notification.objects.filter(pk=retried.pk).update(next_attempt_at=timezone.now())
    assert notifications_send().sent == 1
    assert sorted(m["X-RcptTo"] for m in smtp_server.messages) == ["ada@acme.example.com", "hugo@acme.example.com"]


# --- Real workers ---------------------------------------------------------------------------------------


def sent_once(smtp_server) -> None:
    """Every email notification arrived exactly once, and nothing else did."""
    counts = Counter(m["Message-ID"] for m in smtp_server.messages)
    expected = {message_id(n): n for n in email_rows()}
    assert counts == Counter(set(expected)), f"duplicates or strays: {counts - Counter(set(expected))}"
    for message in smtp_server.messages:
        assert message["X-RcptTo"] == expected[message["Message-ID"]].recipient.email


@pytest.mark.worker
def test_ticks_on_two_workers_with_retries_send_each_reminder_exactly_once(world, celery_workers, smtp_server):
    from coaching.tasks import notifications_send as send_task
    from coaching.tasks import reminders_tick

    due_now(world)
    owners = [owner_with_work(world, name) for name in ("Ada", "Ben", "Cleo", "Dan", "Eve")]
    quiet = owner_with_work(world, "Quinn", email_on=False)
    with organization_scope(world.org_a):
        coaching.session_schedule(
            unit=world.division_a, coach=owners[0], kind="workshop", participants=owners[1:3],
            scheduled_at=timezone.now() + timedelta(hours=5),
        )  # fmt: skip
    smtp_server.fail_next(4)  # temporary failures: those rows are retried by a later run
    workers = [celery_workers("one", REMINDER_RETRY_SECONDS="0"), celery_workers("two", REMINDER_RETRY_SECONDS="0")]

    # Beat, twice over (two beat processes), for a while: every tick and every send run is published twice.
    deadline = time.monotonic() + 90
    rounds = 0
    while time.monotonic() < deadline:
        for _ in range(2):
            reminders_tick.delay()
            send_task.delay()
        rounds += 1
        time.sleep(0.5)
        rows = email_rows()
        if rounds >= 6 and rows and all(n.sent_at for n in rows):
            break

    rows = all_notifications()
    assert Counter(n.kind for n in rows) == {"daily_digest": 6, "session_soon": 3}  # one digest per person
    assert Counter(n.channel for n in rows) == {"email": 8, "in_app": 1}
    assert {n.recipient for n in rows if n.channel == "in_app"} == {quiet}
    wait_for(lambda: all(n.sent_at for n in email_rows()), timeout=30, message="every mail sent")
    sent_once(smtp_server)
    assert len(smtp_server.messages) == 8
    assert sum(n.attempts for n in email_rows()) == 8 + 4  # the four temporary failures were tried again
    for worker in workers:
        log = worker.log_path.read_text(errors="replace")
        assert "coaching.tasks.reminders_tick[" in log and "succeeded" in log, f"{worker.hostname} did no tick"


@pytest.mark.worker
def test_a_worker_killed_while_sending_loses_no_reminder_and_sends_none_twice(world, celery_workers, smtp_server):
    from coaching.tasks import reminders_tick

    due_now(world)
    for name in ("Ada", "Ben", "Cleo"):
        owner_with_work(world, name)
    hold = smtp_server.hold_next()
    first = celery_workers("doomed")

    reminders_tick.delay()
    assert hold.arrived.wait(60), "the first mail never reached the SMTP server"
    held_at = time.monotonic()
    assert [n.sent_at for n in email_rows()] == [None] * 3  # one daily digest each
    with transaction.atomic(), connection.cursor() as cursor:  # the worker's open transaction locks one row
        cursor.execute("SELECT id FROM coaching_notification WHERE sent_at IS NULL FOR UPDATE SKIP LOCKED")
        assert len(cursor.fetchall()) == 2

    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    hold.release()  # the server answers 451 to a client that is gone: that mail was never accepted
    assert smtp_server.messages == []

    # A new worker picks up the killed worker's send task once the broker's visibility timeout has passed
    # (late acknowledgement): nothing else is published.
    time.sleep(max(0, 6 - (time.monotonic() - held_at)))
    celery_workers("successor", CELERY_VISIBILITY_TIMEOUT="5")
    wait_for(lambda: all(n.sent_at for n in email_rows()), timeout=60, message="the successor to send every mail")
    sent_once(smtp_server)
    assert len(smtp_server.messages) == 3
    assert sorted(n.attempts for n in email_rows()) == [1] * 3  # the killed attempt left no trace
