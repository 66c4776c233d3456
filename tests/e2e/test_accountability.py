"""A coach holds a session ticking who attended, and reads the accountability figures of their units on the
coaching page: the chart, the table per unit and the table per person."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc.models import Role
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from coaching import services as coaching
from coaching.models import SessionAttendance
from tests import accountability_data, factories
from tests.accountability_data import BERLIN
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


def test_a_coach_takes_attendance_and_reads_the_accountability_figures(world, page):
    carla = factories.add_member(
        world.org_a, Role.COACH, user=factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    ).user
    last = month_shift(timezone.localtime(timezone.now(), BERLIN).date().replace(day=1), -1)
    example = accountability_data.build(world, last, coach=carla)
    with organization_scope(world.org_a):
        session = coaching.session_schedule(
            unit=world.department_a, coach=carla, kind="check_in", scheduled_at=timezone.now() + timedelta(days=1),
            participants=[example.hugo, example.petra],
        )  # fmt: skip

    log_in(page, carla.email)
    page.goto(reverse("coaching_session", args=["acme", session.pk]))
    attendance = page.get_by_role("group", name="Who attended")
    expect(attendance.get_by_role("checkbox")).to_have_count(2)
    expect(attendance.get_by_label("Petra Planner (petra@acme.example.com)")).to_be_checked()
    attendance.get_by_label("Petra Planner (petra@acme.example.com)").uncheck()
    screenshot(page, "coaching_session_hold_form")
    page.get_by_role("button", name="Hold the session now").click()
    expect(page.get_by_role("status")).to_have_text("Session held; the values of 3 KPIs were captured.")
    expect(page.locator("#attendance")).to_contain_text("1 of 2 attended")
    expect(page.locator("#attendance")).to_contain_text("Petra Planner · absent")
    screenshot(page, "coaching_session_attendance")
    rows = SessionAttendance.objects.for_organization(world.org_a).filter(session=session)
    assert dict(rows.values_list("user__full_name", "attended")) == {"Hugo Head": True, "Petra Planner": False}

    page.goto(reverse("coaching_index", args=["acme"]))
    expect(page.locator("#accountability-chart")).to_have_attribute("data-rendered", "true")
    units = page.locator("#accountability-units tbody tr")
    expect(units).to_have_count(2)
    assembly = units.filter(has_text="Assembly")
    previous = month_shift(last, -1)
    expect(assembly.locator("[data-metric=action_items] .figure-value")).to_have_text("33%")
    expect(assembly.locator("[data-metric=action_items] .figure-note")).to_have_text(f"1 of 3 · {previous:%b %Y}")
    operations = units.filter(has_text="Operations")
    expect(operations.locator("[data-metric=attendance] .figure-value")).to_have_text("no data")
    expect(operations.locator("[data-metric=attendance] .figure-note")).to_have_text("no attendance taken")
    people = page.locator("#accountability-people tbody tr")
    expect(people).to_have_count(3)
    expect(people.filter(has_text="Petra Planner").locator("[data-metric=kpi_values] .figure-value")).to_have_text(
        "no data"
    )
    expect(page.locator("#accountability-units thead .axis-span").first).to_contain_text(f"{last:%b %Y}")
    page.locator("#accountability").scroll_into_view_if_needed()
    screenshot(page, "coaching_accountability")
