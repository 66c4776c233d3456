"""The inbox of each organization (newest first, unread in bold, mark read one by one or all at once), the
unread badge of the navigation, and the notification settings page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bsc.models import Role
from coaching.models import Notification, NotificationPreference
from tests import factories

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def notify(org, user, subject: str, *, minutes_ago: int = 0, read: bool = False, **fields) -> Notification:
    moment = timezone.now() - timedelta(minutes=minutes_ago)
    return Notification.objects.for_organization(org).create(
        organization=org, recipient=user, kind=fields.pop("kind", "daily_digest"), subject=subject,
        body=fields.pop("body", f"Body of {subject}"), dedupe_key=f"test:{org.pk}:{user.pk}:{subject}",
        channel=fields.pop("channel", "email"), created_at=moment, read_at=moment if read else None,
        link=fields.pop("link", "/o/acme/coaching/actions/"), **fields,
    )  # fmt: skip


@pytest.fixture
def inbox(world):
    """Three notifications of the admin in Acme (one read), one of the viewer, one of the admin in Globex."""
    org = world.org_a
    factories.add_member(world.org_b, Role.VIEWER, user=world.admin_a)
    return {
        "old": notify(org, world.admin_a, "Old digest", minutes_ago=300, read=True),
        "mid": notify(org, world.admin_a, "Session coming up", minutes_ago=60, kind="session_soon"),
        "new": notify(org, world.admin_a, "KPI values due", minutes_ago=5, kind="daily_digest", channel="in_app"),
        "viewer": notify(org, world.viewer_a, "Viewer's own"),
        "globex": notify(world.org_b, world.admin_a, "Globex digest", link="/o/globex/data-entry/"),
    }


def test_the_inbox_lists_the_users_notifications_of_this_organization_newest_first(client, world, inbox):
    client.force_login(world.admin_a)
    response = client.get(url("inbox"))
    assert response.status_code == 200
    assert [n.subject for n in response.context["notifications"]] == [
        "KPI values due",
        "Session coming up",
        "Old digest",
    ]
    html = response.content.decode()
    assert f'id="notification-{inbox["new"].pk}" class="notification is-unread"' in html
    assert f'id="notification-{inbox["old"].pk}" class="notification is-read"' in html
    assert "Viewer's own" not in html and "Globex digest" not in html
    assert "<strong>2 unread</strong>" in html
    assert "Session reminder · " in html
    assert "email pending" in html  # the session reminder; the in-app digest says nothing about email

    unread = client.get(url("inbox") + "?show=unread")
    assert [n.subject for n in unread.context["notifications"]] == ["KPI values due", "Session coming up"]


def test_the_navigation_shows_the_unread_count_with_one_query(client, world, inbox):
    client.force_login(world.admin_a)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("org_overview"))
    badge = '<span id="inbox-badge" class="count-badge">2<span class="visually-hidden"> unread</span></span>'
    assert badge in response.content.decode()
    assert len([q for q in queries if "coaching_notification" in q["sql"]]) == 1

    globex = client.get(url("org_overview", org="globex")).content.decode()
    assert '<span id="inbox-badge" class="count-badge">1<span' in globex

    client.force_login(world.member_b)
    response = client.get(url("org_overview", org="globex"))
    assert 'id="inbox-badge" class="count-badge" hidden>0<' in response.content.decode()


def test_marking_one_read_with_htmx_swaps_the_row_and_updates_the_badge(client, world, inbox):
    client.force_login(world.admin_a)
    response = client.post(url("notification_read", pk=inbox["mid"].pk), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="notification-{inbox["mid"].pk}" class="notification is-read">')
    assert '<span id="inbox-badge" class="count-badge" hx-swap-oob="true">1<span' in html
    assert '<p id="inbox-summary" class="inbox-summary" hx-swap-oob="true"><strong>1 unread</strong></p>' in html
    inbox["mid"].refresh_from_db()
    assert inbox["mid"].read_at is not None

    # without htmx: back to the inbox; marking again changes nothing
    read_at = inbox["mid"].read_at
    response = client.post(url("notification_read", pk=inbox["mid"].pk))
    assert response.status_code == 302 and response["Location"] == url("inbox")
    inbox["mid"].refresh_from_db()
    assert inbox["mid"].read_at == read_at


def test_nobody_marks_someone_elses_notification_read(client, world, inbox):
    client.force_login(world.admin_a)
    assert client.post(url("notification_read", pk=inbox["viewer"].pk)).status_code == 404
    assert client.post(url("notification_read", pk=inbox["globex"].pk)).status_code == 404
    assert client.post(url("notification_read", org="globex", pk=inbox["new"].pk)).status_code == 404
    assert client.get(url("notification_read", pk=inbox["new"].pk)).status_code == 405
    assert Notification.objects.for_organization(world.org_a).filter(read_at__isnull=False).count() == 1
    assert Notification.objects.for_organization(world.org_b).get().read_at is None


def test_mark_all_read_clears_this_organizations_inbox_only(client, world, inbox):
    client.force_login(world.admin_a)
    response = client.post(url("notifications_read_all"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="inbox-list"')
    assert "Nothing unread." in html and 'hx-swap-oob="true" hidden>0<' in html
    mine = Notification.objects.for_organization(world.org_a).filter(recipient=world.admin_a)
    assert not mine.filter(read_at__isnull=True).exists()
    assert Notification.objects.for_organization(world.org_a).get(recipient=world.viewer_a).read_at is None
    assert Notification.objects.for_organization(world.org_b).get().read_at is None


def test_the_settings_page_saves_email_choices_and_the_time_zone(client, world, inbox):
    client.force_login(world.viewer_a)
    page = client.get(url("notification_settings"))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<option value="" selected>The organization&#x27;s: UTC</option>' in html
    assert 'name="email_sessions" id="id_email_sessions" checked' in html
    assert 'name="email_daily_digest" id="id_email_daily_digest" checked' in html
    assert "Daily digest: KPI values and action items due and overdue" in html
    assert "email_kpi_data" not in html and "email_action_items" not in html

    response = client.post(
        url("notification_settings"),
        {"email_sessions": "on", "time_zone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    world.viewer_a.refresh_from_db()
    assert world.viewer_a.time_zone == "Asia/Tokyo"
    preference = NotificationPreference.objects.for_organization(world.org_a).get()
    assert preference.membership.user == world.viewer_a
    assert (preference.email_daily_digest, preference.email_sessions, preference.email_coach_weekly) == (
        False, True, False,
    )  # fmt: skip
    assert 'value="Asia/Tokyo" selected' in client.get(url("notification_settings")).content.decode()


def test_an_unknown_time_zone_is_refused_and_nothing_changes(client, world):
    client.force_login(world.viewer_a)
    response = client.post(url("notification_settings"), {"email_daily_digest": "on", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "time_zone": ["Select a valid choice. Mars/Olympus is not one of the available choices."]
    }
    world.viewer_a.refresh_from_db()
    assert world.viewer_a.time_zone == ""
    assert not NotificationPreference.objects.for_organization(world.org_a).exists()


def test_the_service_refuses_an_unknown_time_zone_with_a_clear_message(world):
    from django.core.exceptions import ValidationError

    from coaching.notifications import notification_settings_update

    membership = factories.membership_of(world.viewer_a, world.org_a)
    with pytest.raises(ValidationError) as error:
        notification_settings_update(
            membership=membership, time_zone="Mars/Olympus", email_daily_digest=False,
            email_sessions=False, email_coach_weekly=False,
        )  # fmt: skip
    assert error.value.message_dict == {
        "time_zone": ["'Mars/Olympus' is not a known time zone (for example Europe/Berlin)."]
    }
    assert not NotificationPreference.objects.for_organization(world.org_a).exists()
