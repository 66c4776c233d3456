"""A department head finds the morning's reminders in the inbox (the badge in the navigation counts them),
reads the daily digest (KPI values and action items in one), marks it read and then all, and turns off the
digest emails."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import Notification, NotificationPreference
from coaching.reminders import reminders_decide
from kpis import services as kpis
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


def test_a_department_head_reads_and_clears_the_inbox(world, page):
    org = world.org_a
    org.reminder_hour = 0
    org.save()
    head = factories.add_member(
        org, Role.DEPARTMENT_HEAD, units=[world.division_a],
        user=factories.make_user("hugo@acme.example.com", full_name="Hugo Head"),
    ).user  # fmt: skip
    coach = factories.add_member(
        org, Role.COACH, user=factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    ).user
    with organization_scope(org):
        for code, name in (("OTD", "On-time delivery"), ("SCRAP", "Scrap rate")):
            kpis.kpi_create(unit=world.department_a, name=name, code=code, baseline=Decimal(0), owner=head)
        coaching.action_item_create(
            organization=org, title="Call the press supplier", owner=head, due_date=timezone.localdate(),
            created_by=coach, unit=world.department_a,
        )  # fmt: skip
        coaching.session_schedule(
            unit=world.division_a, coach=coach, kind="monthly_review", participants=[head],
            scheduled_at=timezone.now() + timedelta(hours=6), agenda="OTD trend\nOpen items",
        )  # fmt: skip
    assert reminders_decide(queue_sending=False).written == {"daily_digest": 1, "session_soon": 2}

    log_in(page, head.email)
    page.goto(reverse("org_overview", args=["acme"]))
    inbox_link = page.get_by_role("link", name="Inbox 2 unread")
    expect(inbox_link).to_be_visible()
    inbox_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    rows = page.locator("ul.inbox > li")
    expect(rows).to_have_count(2)
    expect(page.locator("ul.inbox > li.is-unread")).to_have_count(2)
    digest = rows.filter(has_text="Acme Manufacturing: 2 KPI values due, 1 action item due today")
    expect(digest.locator(".meta")).to_contain_text("Daily digest")
    digest.locator("summary").click()
    body = digest.locator(".notification-body")
    expect(body).to_contain_text("KPI values due / overdue")
    expect(body).to_contain_text("- OTD · On-time delivery (Assembly):")
    expect(body).to_contain_text("Action items due / overdue")
    expect(body).to_contain_text("- Call the press supplier (Assembly), due ")
    screenshot(page, "inbox")

    digest.get_by_role("button", name="Mark read").click()
    expect(digest).to_have_class("notification is-read")
    expect(page.get_by_role("link", name="Inbox 1 unread")).to_be_visible()
    expect(page.locator("#inbox-summary")).to_have_text("1 unread")
    expect(digest.get_by_role("button", name="Mark read")).to_have_count(0)

    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("#inbox-summary")).to_have_text("Nothing unread.")
    expect(page.locator("ul.inbox > li.is-unread")).to_have_count(0)
    expect(page.get_by_role("link", name="Inbox", exact=True)).to_be_visible()
    screenshot(page, "inbox_all_read")
    assert not Notification.objects.for_organization(org).filter(recipient=head, read_at__isnull=True).exists()

    page.get_by_role("link", name="Notification settings").first.click()
    page.get_by_label("Daily digest: KPI values and action items due and overdue").uncheck()
    page.get_by_label("Your time zone").select_option("Asia/Tokyo")
    screenshot(page, "notification_settings")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status")).to_have_text("Notification settings saved.")
    preference = NotificationPreference.objects.for_organization(org).get(membership__user=head)
    assert (preference.email_daily_digest, preference.email_sessions) == (False, True)
    head.refresh_from_db()
    assert head.time_zone == "Asia/Tokyo"
