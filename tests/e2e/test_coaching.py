"""A coach schedules a monthly review for a unit, holds it, writes notes and adds two action items for a
department head; the department head sees them on the organization's home page and marks one done."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc.models import Role
from coaching.models import ActionItem, CoachingSession
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_coach_runs_a_review_and_the_department_head_closes_an_item(world, page):
    coach = factories.add_member(
        world.org_a, Role.COACH, user=factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    ).user
    head = factories.add_member(
        world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a],
        user=factories.make_user("hugo@acme.example.com", full_name="Hugo Head"),
    ).user  # fmt: skip

    log_in(page, coach.email)
    page.goto(reverse("coaching_index", args=["acme"]))
    page.get_by_role("link", name="Schedule a session").click()
    page.get_by_label("Unit").select_option(str(world.division_a.pk))
    page.get_by_label("Kind").select_option("monthly_review")
    when = timezone.localtime(timezone.now() + timedelta(days=2), ZoneInfo(world.org_a.time_zone))
    page.get_by_label("Date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Hugo Head (hugo@acme.example.com)").check()
    page.get_by_label("Agenda").fill("OTD trend, scrap, open items")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly review · Operations")

    page.get_by_role("button", name="Hold the session now").click()
    expect(page.get_by_role("status")).to_have_text("Session held; the values of 0 KPIs were captured.")
    page.get_by_role("link", name="Edit agenda and notes").click()
    page.get_by_label("Notes").fill("Delivery is **improving**.\n\n- Press 3 is down again")
    page.get_by_label("Wins").fill("Two weeks without a late order")
    page.get_by_role("button", name="Save notes").click()
    expect(page.locator("#session-notes strong")).to_have_text("improving")

    due = timezone.localdate() + timedelta(days=10)
    for title in ("Call the press supplier", "Retrain shift B"):
        page.get_by_label("Title").fill(title)
        page.get_by_label("Owner").select_option(label="Hugo Head (hugo@acme.example.com)")
        page.get_by_label("Due date").fill(due.isoformat())
        page.get_by_role("button", name="Add action item").click()
        expect(page.locator("#session-items")).to_contain_text(title)
    expect(page.locator("#session-items li")).to_have_count(2)
    screenshot(page, "coaching_session")

    page.goto(reverse("coaching_index", args=["acme"]))
    expect(page.get_by_role("link", name="Monthly review")).to_be_visible()
    screenshot(page, "coaching_index")
    page.goto(reverse("coaching_actions", args=["acme"]))
    expect(page.get_by_role("heading", name="Hugo Head")).to_be_visible()
    screenshot(page, "coaching_actions")

    page.context.clear_cookies()
    log_in(page, head.email)
    page.goto(reverse("org_overview", args=["acme"]))
    mine = page.locator("#my-actions")
    expect(mine.locator("li")).to_have_count(2)
    mine.locator("li", has_text="Call the press supplier").get_by_role("button", name="Mark done").click()
    expect(mine.locator("li")).to_have_count(1)
    expect(mine).to_contain_text("Retrain shift B")
    expect(page.get_by_role("status")).to_have_text("“Call the press supplier” is now done.")

    session = CoachingSession.objects.for_organization(world.org_a).get()
    assert (session.status, session.wins) == ("held", "Two weeks without a late order")
    statuses = dict(ActionItem.objects.for_organization(world.org_a).values_list("title", "status"))
    assert statuses == {"Call the press supplier": "done", "Retrain shift B": "open"}
