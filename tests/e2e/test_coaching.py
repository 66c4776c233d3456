"""A coach schedules a monthly review for a unit (by hand, or from a cadence found in the month calendar),
holds it, writes notes and adds two action items for a department head; the department head sees them on the
organization's home page and marks one done."""

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import cadences, services
from coaching.models import ActionItem, CoachingSession
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


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

    # Two days ahead: the hold asks first.
    page.get_by_role("button", name="Hold the session now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hold this session early?")
    expect(page.locator("#hold-early-warning")).to_contain_text("2 days from now")
    page.get_by_role("button", name="Hold it now anyway").click()
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


def test_a_coach_sets_up_a_cadence_and_holds_its_first_review_from_the_calendar(world, page):
    coach = factories.add_member(
        world.org_a, Role.COACH, user=factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    ).user
    head = factories.add_member(
        world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a],
        user=factories.make_user("hugo@acme.example.com", full_name="Hugo Head"),
    ).user  # fmt: skip
    tz = ZoneInfo(world.org_a.time_zone)
    today = timezone.localtime(timezone.now(), tz).date()
    first = today + timedelta(days=1)  # the review falls on tomorrow: its weekday, in its week of the month
    week = (first.day - 1) // 7 + 1
    with organization_scope(world.org_a):  # another cadence, whose first check-in is called off
        check_ins = cadences.cadence_create(
            unit=world.department_a, coach=coach, kind="check_in", frequency="biweekly", weekday=first.weekday(),
            time_of_day=time(15, 0), starts_on=today,
        )  # fmt: skip
        services.session_cancel(session=check_ins.sessions.get(occurrence=first))

    log_in(page, coach.email)
    page.goto(reverse("coaching_index", args=["acme"]))
    page.get_by_role("link", name="Cadences").click()
    page.get_by_role("link", name="New cadence").click()
    page.get_by_label("Unit").select_option(str(world.division_a.pk))
    page.get_by_label("Kind").select_option("monthly_review")
    page.get_by_label("Monthly", exact=True).check()
    page.get_by_label("Weekday").select_option(label=first.strftime("%A"))
    page.get_by_label("Week of the month").select_option(str(week) if week < 5 else "-1")
    page.get_by_label("Time", exact=True).fill("09:00")
    page.get_by_label("Starts on").fill(today.isoformat())
    page.get_by_label("Hugo Head (hugo@acme.example.com)").check()
    page.get_by_label("Agenda").fill("KPI updates, wins and challenges, open items")
    page.get_by_role("button", name="Create cadence").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly review · Operations")
    expect(page.get_by_role("status")).to_contain_text("upcoming sessions generated.")
    first_link = page.locator("#cadence-upcoming li").first
    expect(first_link).to_contain_text(f"{first:%a} {first.day} {first:%b %Y}, 09:00")
    screenshot(page, "coaching_cadence")

    page.goto(reverse("coaching_calendar", args=["acme"]))
    if first.month != today.month:
        page.get_by_role("link", name=f"{first:%B %Y} ›").click()
    # Today is marked wherever the month's grid shows it: its first week may begin in the month before.
    grid_start = first.replace(day=1) - timedelta(days=first.replace(day=1).weekday())
    expect(page.locator("td[aria-current=date]")).to_have_count(1 if grid_start <= today else 0)
    if grid_start <= today:
        expect(page.locator(f'td[data-date="{today.isoformat()}"]')).to_have_attribute("aria-current", "date")
    day = page.locator(f'td[data-date="{first.isoformat()}"]')
    expect(day.locator("s")).to_have_text("15:00 Check-in · Assembly")
    review = day.get_by_role("link", name="09:00 Monthly review · Operations")
    review.focus()
    expect(review).to_be_focused()
    screenshot(page, "coaching_calendar")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly review · Operations")
    expect(page.locator("#part-of")).to_contain_text("Part of Monthly review of Operations")
    with page.expect_navigation():  # the answer: held, or the question whether to hold it this early
        page.get_by_role("button", name="Hold the session now").click()
    if page.get_by_role("button", name="Hold it now anyway").count():  # tomorrow 09:00 can be over a day away
        page.get_by_role("button", name="Hold it now anyway").click()
    expect(page.get_by_role("status")).to_have_text("Session held; the values of 0 KPIs were captured.")
    page.get_by_role("link", name="Edit agenda and notes").click()
    page.get_by_label("Notes").fill("Scrap is **down**; OTD flat.")
    page.get_by_role("button", name="Save notes").click()
    expect(page.locator("#session-notes strong")).to_have_text("down")
    due = today + timedelta(days=14)
    for title in ("Share the scrap Pareto", "Book the supplier audit"):
        page.get_by_label("Title").fill(title)
        page.get_by_label("Owner").select_option(label="Hugo Head (hugo@acme.example.com)")
        page.get_by_label("Due date").fill(due.isoformat())
        page.get_by_role("button", name="Add action item").click()
        expect(page.locator("#session-items")).to_contain_text(title)
    expect(page.locator("#session-items li")).to_have_count(2)
    screenshot(page, "coaching_session_from_cadence")

    page.goto(reverse("coaching_calendar", args=["acme"]) + f"?month={first:%Y-%m}")
    expect(day.get_by_role("link", name="09:00 Monthly review · Operations (held)")).to_be_visible()
    page.get_by_role("button", name="Get a subscription link").click()
    expect(page.get_by_label("Your subscription link")).to_have_value(re.compile(r"^http://.*/calendar/\d+-\w+\.ics$"))
    feed = page.request.get(page.get_by_label("Your subscription link").input_value())
    assert feed.ok and b"SUMMARY:Monthly review \xc2\xb7 Operations" in feed.body()
    page.goto(reverse("coaching_cadences", args=["acme"]))
    expect(page.locator(".cadence-table tbody tr")).to_have_count(2)
    screenshot(page, "coaching_cadences")

    page.context.clear_cookies()
    log_in(page, head.email)
    page.goto(reverse("org_overview", args=["acme"]))
    mine = page.locator("#my-actions")
    expect(mine.locator("li")).to_have_count(2)
    mine.locator("li", has_text="Book the supplier audit").get_by_role("button", name="Mark done").click()
    expect(mine.locator("li")).to_have_count(1)
    expect(mine).to_contain_text("Share the scrap Pareto")

    held = CoachingSession.objects.for_organization(world.org_a).get(status="held")
    assert CoachingSession.objects.for_organization(world.org_a).filter(cadence=check_ins).count() == 4
    assert (held.occurrence, held.cadence.coach, held.notes) == (first, coach, "Scrap is **down**; OTD flat.")
    statuses = dict(ActionItem.objects.for_organization(world.org_a).values_list("title", "status"))
    assert statuses == {"Share the scrap Pareto": "open", "Book the supplier audit": "done"}
