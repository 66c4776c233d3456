"""Pages that start a Celery task, with the broker (Redis) unreachable for the web side: asking for a review pack and
confirming a large import answer as usual (no 500, no 20 s wait) and leave their row waiting for a worker; the beat's
republish publishes it once it has waited a couple of minutes, and a real worker makes it. A broker host that drops
packets or never answers makes a publish give up within seconds. Both tasks are safe to run twice: each claims its
row with one conditional UPDATE, so a second run (a republish meeting a message that was only slow) does nothing."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import redis
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.db.models import F
from django.test import Client
from django.urls import reverse

from bsc import publish
from bsc.project.celery import app
from bsc.tenancy import organization_scope
from coaching import review_packs
from coaching.models import ReviewPack, ReviewPackStatus
from coaching.tasks import review_pack_build
from kpis import services
from kpis.models import ImportBatch, ImportStatus, Measurement
from kpis.tasks import measurement_import
from tests.conftest import wait_for, waiting_for_a_lock
from tests.review_pack_data import OCTOBER, acme_review_pack_world

# A publish tries twice (CELERY_TASK_PUBLISH_RETRY_POLICY), each attempt bounded by CELERY_BROKER_TIMEOUT.
GIVES_UP_WITHIN = 2 * settings.CELERY_BROKER_TIMEOUT + 1.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def broker_at(url: str):
    """This process's Celery app (the web side's) publishes to `url` for the block; its pooled connections to the
    real broker are dropped before and after, so the next publish connects anew. Workers keep the real broker."""
    before = app.conf.broker_url
    app.conf.broker_url = url
    app._after_fork()  # Celery's own reset of the connection and producer pools (as in a forked child)
    try:
        yield
    finally:
        app.conf.broker_url = before
        app._after_fork()


@contextlib.contextmanager
def broker_refusing():
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there: connections are refused
        yield


@contextlib.contextmanager
def broker_silent():
    """A host that completes the TCP handshake and never says a word (a hung server, a half-open failover)."""
    with socket.create_server(("127.0.0.1", 0)) as silent, broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
        yield


@contextlib.contextmanager
def broker_dropping():
    """A host that drops the connection's packets: a listener whose accept queue is full, so that the kernel drops
    every further SYN and the connection attempt waits as for a firewalled or vanished host."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        waiting = []
        for _ in range(3):  # fill the queue (Linux keeps backlog + 1 connections)
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(address)
            waiting.append(filler)
        time.sleep(0.2)
        try:
            with broker_at(f"redis://{address[0]}:{address[1]}/0"):
                yield
        finally:
            for filler in waiting:
                filler.close()


@pytest.fixture(autouse=True)
def _no_republish_remembered():
    """The republish remembers for 10 minutes what it published (in Redis, which outlives a test run); the pinned
    clock could give the same row of another run the same key."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match="*bsc:republished:*"):
        client.delete(key)


def age(queryset, minutes: float) -> None:
    """Move the rows' creation back, as if they had waited that long."""
    queryset.update(created_at=F("created_at") - timedelta(minutes=minutes))


# --- The publish itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "broker", [broker_refusing, broker_silent, broker_dropping], ids=["refusing", "silent", "dropping"]
)
def test_a_publish_to_an_unreachable_broker_gives_up_within_seconds_and_says_so(broker, caplog):
    caplog.set_level(logging.WARNING, logger="bsc.publish")
    with broker():
        started = time.monotonic()
        assert publish.task_publish(review_pack_build, organization_id=1, pack_id=2) is False
        took = time.monotonic() - started
    assert took < GIVES_UP_WITHIN, f"the publish took {took:.1f} s"
    assert "Task coaching.tasks.review_pack_build{'organization_id': 1, 'pack_id': 2} not published" in caplog.text


def test_a_publish_after_the_broker_returns_goes_through(db):
    with broker_refusing():
        assert publish.task_publish(review_pack_build, organization_id=1, pack_id=2) is False
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")
    assert publish.task_publish(review_pack_build, organization_id=1, pack_id=2) is True
    assert broker.llen("celery") == 1
    broker.delete("celery")


# --- Review packs ------------------------------------------------------------------------------------------


@pytest.mark.worker
def test_a_review_pack_asked_for_with_the_broker_down_is_made_once_the_republish_runs(
    world, caplog, celery_worker_process
):
    acme_review_pack_world(world)
    client = Client()
    client.force_login(world.admin_a)
    caplog.set_level(logging.WARNING, logger="bsc.publish")
    with broker_refusing():
        started = time.monotonic()
        response = client.post(
            "/o/acme/review-packs/", {"unit": world.company_a.pk, "kind": "month", "period": "2026-10"}, follow=True
        )
        took = time.monotonic() - started
    assert response.status_code == 200 and took < GIVES_UP_WITHIN
    assert "The review pack of Acme Manufacturing, Oct 2026 is being made" in response.content.decode()
    assert "coaching.tasks.review_pack_build" in caplog.text and "not published" in caplog.text
    with organization_scope(world.org_a):
        pack = ReviewPack.objects.defer("pdf", "xlsx").get()
    assert (pack.status, pack.step) == (ReviewPackStatus.QUEUED, "Waiting for a worker")
    row = client.get(f"/o/acme/review-packs/{pack.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Waiting for a worker" in row and 'hx-trigger="every 1s"' in row  # the page keeps polling

    # The worker heard nothing; a republish leaves a pack asked for a moment ago alone (its task may be on its way).
    assert publish.queued_tasks_republish() == 0
    time.sleep(1)
    pack.refresh_from_db(fields=["status"])
    assert pack.status == ReviewPackStatus.QUEUED
    with organization_scope(world.org_a):
        age(ReviewPack.objects.all(), minutes=3)
    assert publish.queued_tasks_republish() == 1
    assert publish.queued_tasks_republish() == 0  # once: its message now waits for the worker

    def made():
        pack.refresh_from_db(fields=["status", "error"])
        return pack.status in (ReviewPackStatus.DONE, ReviewPackStatus.FAILED)

    wait_for(made, timeout=120, message="the worker to make the republished pack")
    assert (pack.status, pack.error) == (ReviewPackStatus.DONE, "")
    row = client.get(f"/o/acme/review-packs/{pack.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "Ready" in row and "hx-trigger" not in row
    # A late duplicate (the lost message was only slow after all) meets a made pack and does nothing.
    kwargs = {"organization_id": world.org_a.pk, "pack_id": pack.pk}
    assert review_pack_build.apply_async(kwargs=kwargs, ignore_result=False).get(timeout=60) == "not claimed"
    with organization_scope(world.org_a):
        assert ReviewPack.objects.get().status == ReviewPackStatus.DONE


def test_two_builds_of_one_pack_at_once_claim_it_once(world, transactional_db):
    """The claim is one conditional UPDATE: a second claim waits for the first one's row lock, then finds the pack
    running and leaves it."""
    acme_review_pack_world(world)
    with organization_scope(world.org_a):
        asked = review_packs.review_pack_request(
            organization=world.org_a, unit=world.company_a, kind="month", period=OCTOBER, by=world.admin_a,
            publish=False,
        )  # fmt: skip
    first_claimed, second_started = threading.Event(), threading.Event()
    claims = {}

    def first():
        try:
            with transaction.atomic():
                claims["first"] = review_packs.review_pack_claim(organization=world.org_a, pack_id=asked.pack.pk)
                first_claimed.set()
                second_started.wait(10)
                # Hold the row until the second claim is seen waiting for this transaction's lock.
                claims["second_waited"] = wait_for(
                    lambda: waiting_for_a_lock("coaching_reviewpack"), message="the second claim to wait"
                )
        finally:
            connection.close()

    def second():
        try:
            first_claimed.wait(10)
            second_started.set()
            claims["second"] = review_packs.review_pack_claim(organization=world.org_a, pack_id=asked.pack.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert claims["first"] is not None and claims["first"].status == ReviewPackStatus.RUNNING
    assert claims["second_waited"] and claims["second"] is None


# --- Imports -----------------------------------------------------------------------------------------------


@pytest.mark.worker
def test_a_large_import_confirmed_with_the_broker_down_is_written_once_the_republish_runs(
    world, caplog, celery_worker_process
):
    with organization_scope(world.org_a):
        kpis = [
            services.kpi_create(unit=world.department_a, name=f"Measure {i}", code=f"M{i:02d}", baseline=Decimal(0))
            for i in range(26)
        ]
    months = [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(24)]
    lines = ["kpi code,period,value"] + [f"{k.code},{p:%Y-%m},{i}.5" for i, k in enumerate(kpis) for p in months]
    client = Client()
    client.force_login(world.admin_a)
    client.post(
        reverse("kpi_import", args=[world.org_a.slug]),
        {"file": SimpleUploadedFile("values.csv", "\n".join(lines).encode()), "decimal_separator": "."},
    )
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert len(batch.rows) == 624  # above the rows imported at once: a task's work
    caplog.set_level(logging.WARNING, logger="bsc.publish")
    with broker_refusing():
        started = time.monotonic()
        response = client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]), follow=True)
        took = time.monotonic() - started
    assert response.status_code == 200 and took < GIVES_UP_WITHIN
    page = response.content.decode()
    assert "Waiting for a worker…" in page and 'hx-trigger="every 1s"' in page
    assert "kpis.tasks.measurement_import" in caplog.text and "not published" in caplog.text
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED

    assert publish.queued_tasks_republish() == 0  # previewed a moment ago: its task may be on its way
    age(ImportBatch.objects.for_organization(world.org_a), minutes=3)
    assert publish.queued_tasks_republish() == 1

    def written():
        batch.refresh_from_db()
        return batch.status in (ImportStatus.DONE, ImportStatus.FAILED)

    wait_for(written, timeout=120, message="the worker to import the republished batch")
    assert (batch.status, batch.written_rows, batch.error) == (ImportStatus.DONE, 624, "")
    # A late duplicate meets an imported batch and writes nothing.
    kwargs = {"organization_id": world.org_a.pk, "batch_id": batch.pk}
    assert measurement_import.apply_async(kwargs=kwargs, ignore_result=False).get(timeout=60) == 624
    with organization_scope(world.org_a):
        assert Measurement.objects.count() == 624
        assert Measurement.objects.filter(version__gt=1).count() == 0


# --- Mails of invitations and password resets ---------------------------------------------------------------


def test_an_invitation_made_with_the_broker_down_is_saved_and_its_link_handed_to_the_admin(
    world, client, transactional_db
):
    from bsc.models import Invitation

    client.force_login(world.admin_a)
    with broker_refusing():
        response = client.post(
            f"/o/{world.org_a.slug}/admin/invitations/", {"email": "quinn@example.com", "role": "viewer"}, follow=True
        )
    assert response.status_code == 200
    invitation = Invitation.objects.for_organization(world.org_a).get(email="quinn@example.com")
    shown = response.content.decode()
    assert "The invitation of quinn@example.com is saved, but its e-mail could not be sent now" in shown
    link = shown.split("Send them this link yourself (valid for 14 days): ", 1)[1].split("<", 1)[0].strip()
    assert Invitation.hash_token(link.rstrip("/").rsplit("/", 1)[1]) == invitation.token_hash  # the real link
    assert "Invitation sent to" not in shown


def test_a_password_reset_asked_with_the_broker_down_answers_as_usual(db, client):
    with broker_refusing():
        started = time.monotonic()
        response = client.post(reverse("password_reset"), {"email": "someone@example.com"})
        took = time.monotonic() - started
    assert response.status_code == 302
    assert took < GIVES_UP_WITHIN, f"the page took {took:.1f} s"
