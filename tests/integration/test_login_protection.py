"""Log-in protection that cannot be turned against users (django-axes, bsc/login_protection.py): failures
lock one account from one address, for a cool-off that doubles with each lock-out of that pair and then
expires; behind a proxy the forwarded client address counts; and the password-reset page does the same
work for known and unknown addresses."""

from __future__ import annotations

import runpy
from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bsc import publish
from bsc.tasks import login_failures_prune, password_reset_send
from tests import factories
from tests.conftest import PROJECT_DIR

LOGIN = "/accounts/login/"
WRONG = "That email and password do not match an account."


def paused(minutes: int) -> str:
    return f"There were too many failed sign-in attempts, so signing in is paused for {minutes} minutes."


def log_in(client, email: str, password: str = factories.PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password}, **extra)


def fail(client, email: str, times: int, **extra) -> list[int]:
    return [log_in(client, email, "not-the-password", **extra).status_code for _ in range(times)]


# --- Per account and address ---------------------------------------------------------------------------


def test_failures_against_one_account_lock_it_only_from_that_address(world, client):
    assert fail(client, world.admin_a.email, 5, REMOTE_ADDR="10.0.1.1") == [200, 200, 200, 200, 429]
    locked = log_in(client, world.admin_a.email, REMOTE_ADDR="10.0.1.1")
    assert locked.status_code == 429
    assert paused(5) in locked.content.decode()
    # The same account from another address, and another account from the same address, are untouched.
    assert log_in(client, world.admin_a.email, REMOTE_ADDR="10.0.1.2").status_code == 302
    client.post("/accounts/logout/")
    assert log_in(client, world.viewer_a.email, REMOTE_ADDR="10.0.1.1").status_code == 302


def test_guessing_many_accounts_from_one_address_locks_none_of_them(world, client):
    for number in range(10):
        assert fail(client, f"guess{number}@acme.example.com", 1, REMOTE_ADDR="10.0.2.1") == [200]
    assert log_in(client, world.admin_a.email, REMOTE_ADDR="10.0.2.1").status_code == 302


def test_the_letter_case_of_the_email_does_not_give_more_guesses(world, client):
    emails = [world.admin_a.email.upper(), world.admin_a.email, " " + world.admin_a.email.title()]
    statuses = [log_in(client, emails[n % 3], "not-the-password").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_each_lockout_of_a_pair_lasts_twice_the_one_before_and_then_expires(world, client, pinned_clock):
    email, address = world.admin_a.email, {"REMOTE_ADDR": "10.0.3.1"}
    assert fail(client, email, 5, **address)[-1] == 429
    pinned_clock.shift(timedelta(minutes=4, seconds=50))
    assert log_in(client, email, **address).status_code == 429
    pinned_clock.shift(timedelta(seconds=20))  # five minutes after the last failure
    # The first pause is over; five more failures pause the pair for ten minutes.
    assert fail(client, email, 5, **address) == [200, 200, 200, 200, 429]
    second = log_in(client, email, **address)
    assert paused(10) in second.content.decode()
    pinned_clock.shift(timedelta(minutes=9, seconds=50))
    assert log_in(client, email, **address).status_code == 429
    pinned_clock.shift(timedelta(seconds=20))
    assert fail(client, email, 5, **address)[-1] == 429
    assert paused(20) in log_in(client, email, **address).content.decode()
    pinned_clock.shift(timedelta(minutes=20, seconds=10))
    assert log_in(client, email, **address).status_code == 302


def test_the_cool_off_stops_growing_at_its_maximum(world, client, pinned_clock, settings):
    settings.AXES_COOLOFF_MAX_MINUTES = 8
    email, address = world.admin_a.email, {"REMOTE_ADDR": "10.0.3.2"}
    for minutes in (5, 8, 8):
        assert fail(client, email, 5, **address)[-1] == 429
        assert paused(minutes) in log_in(client, email, **address).content.decode()
        pinned_clock.shift(timedelta(minutes=minutes, seconds=10))


def test_a_successful_login_brings_the_cool_off_back_to_the_first(world, client, pinned_clock):
    email, address = world.admin_a.email, {"REMOTE_ADDR": "10.0.3.3"}
    fail(client, email, 5, **address)
    pinned_clock.shift(timedelta(minutes=5, seconds=10))
    assert log_in(client, email, **address).status_code == 302
    client.post("/accounts/logout/")
    pinned_clock.shift(timedelta(minutes=1))
    assert fail(client, email, 5, **address)[-1] == 429
    assert paused(5) in log_in(client, email, **address).content.decode()


def test_trying_again_while_paused_does_not_extend_the_pause(world, client, pinned_clock):
    email, address = world.admin_a.email, {"REMOTE_ADDR": "10.0.3.4"}
    fail(client, email, 5, **address)
    for _ in range(3):
        pinned_clock.shift(timedelta(minutes=1))
        assert fail(client, email, 1, **address) == [429]
    pinned_clock.shift(timedelta(minutes=2, seconds=10))  # five minutes after the fifth failure
    assert log_in(client, email, **address).status_code == 302


# --- Behind a proxy -----------------------------------------------------------------------------------


@pytest.fixture
def behind_one_proxy(settings):
    """The settings PROXY_COUNT=1 gives (test_proxy_count_sets_where_the_client_address_is_read pins them)."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 0


def via_proxy(forwarded_for: str) -> dict[str, str]:
    return {"REMOTE_ADDR": "10.9.9.9", "HTTP_X_FORWARDED_FOR": forwarded_for}


def test_without_the_proxy_setting_everyone_behind_the_proxy_shares_one_address(world, client):
    fail(client, world.admin_a.email, 5, **via_proxy("203.0.113.5"))
    assert log_in(client, world.admin_a.email, **via_proxy("198.51.100.7")).status_code == 429


def test_behind_a_proxy_the_forwarded_client_address_is_what_counts(world, client, behind_one_proxy):
    assert fail(client, world.admin_a.email, 5, **via_proxy("203.0.113.5"))[-1] == 429
    # Another client behind the same proxy logs in to the same account.
    assert log_in(client, world.admin_a.email, **via_proxy("198.51.100.7")).status_code == 302
    client.post("/accounts/logout/")
    # An address the locked client writes into X-Forwarded-For itself stays left of the one the proxy added.
    spoofed = via_proxy("198.51.100.99, 203.0.113.5")
    assert log_in(client, world.admin_a.email, **spoofed).status_code == 429


def read_settings(monkeypatch, **env: str) -> dict:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@localhost:1/none")  # no embedded servers started
    monkeypatch.setenv("REDIS_URL", "redis://localhost:1/0")
    monkeypatch.delenv("PROXY_COUNT", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT_DIR / "bsc" / "project" / "settings.py"))


def test_proxy_count_sets_where_the_client_address_is_read(monkeypatch):
    default = read_settings(monkeypatch)
    assert default["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ("REMOTE_ADDR",)
    one = read_settings(monkeypatch, PROXY_COUNT="1")
    assert one["AXES_IPWARE_META_PRECEDENCE_ORDER"] == ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    assert one["AXES_IPWARE_PROXY_COUNT"] == 0
    assert read_settings(monkeypatch, PROXY_COUNT="2")["AXES_IPWARE_PROXY_COUNT"] == 1
    with pytest.raises(ImproperlyConfigured, match="^PROXY_COUNT must be 0 or more, not -1$"):
        read_settings(monkeypatch, PROXY_COUNT="-1")
    with pytest.raises(ImproperlyConfigured, match="^PROXY_COUNT must be an integer, not 'yes'$"):
        read_settings(monkeypatch, PROXY_COUNT="yes")


def test_two_proxies_take_the_second_address_from_the_right(world, client, settings):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    settings.AXES_IPWARE_PROXY_COUNT = 1  # PROXY_COUNT=2: a CDN in front of the proxy
    fail(client, world.admin_a.email, 5, **via_proxy("203.0.113.5, 192.0.2.10"))
    assert log_in(client, world.admin_a.email, **via_proxy("203.0.113.5, 192.0.2.11")).status_code == 429
    assert log_in(client, world.admin_a.email, **via_proxy("198.51.100.7, 192.0.2.10")).status_code == 302


# --- Password reset: the same work for every address ---------------------------------------------------


def test_the_reset_page_does_the_same_work_for_known_and_unknown_addresses(
    world, client, django_capture_on_commit_callbacks, monkeypatch
):
    def reset(email):
        with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks() as queued:
            response = client.post("/accounts/password/reset/", {"email": email})
        return response, [query["sql"] for query in queries], queued

    known, known_queries, known_queued = reset(world.viewer_a.email)
    unknown, unknown_queries, unknown_queued = reset("nobody@acme.example.com")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password/reset/sent/"
    assert known_queries == unknown_queries == []  # no look-up of the address on the page
    assert len(known_queued) == len(unknown_queued) == 1
    published = []  # what each page's commit publishes (bsc.publish.task_publish), recorded instead of sent
    monkeypatch.setattr(publish, "task_publish", lambda task, **kwargs: published.append((task, kwargs)) or True)
    known_queued[0]()
    unknown_queued[0]()
    assert published == [
        (password_reset_send, {"email": email, "domain": "testserver", "use_https": False})
        for email in (world.viewer_a.email, "nobody@acme.example.com")
    ]


def test_the_reset_task_mails_a_known_address_and_nothing_else(world):
    password_reset_send(email="nobody@acme.example.com", domain="scorecard.example.com", use_https=True)
    assert mail.outbox == []
    password_reset_send(email=world.viewer_a.email.upper(), domain="scorecard.example.com", use_https=True)
    assert [message.to for message in mail.outbox] == [[world.viewer_a.email]]
    assert mail.outbox[0].subject == "Reset your Scorecard password"
    assert "https://scorecard.example.com/accounts/password/reset/" in mail.outbox[0].body


def test_the_nightly_prune_keeps_two_days_of_failures(world, client, pinned_clock):
    fail(client, "old@acme.example.com", 2, REMOTE_ADDR="10.0.4.1")
    pinned_clock.shift(timedelta(days=2, minutes=1))
    fail(client, "recent@acme.example.com", 1, REMOTE_ADDR="10.0.4.1")
    assert login_failures_prune() == 2
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == ["recent@acme.example.com"]
