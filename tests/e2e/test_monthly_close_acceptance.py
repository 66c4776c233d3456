"""Issue 17's acceptance flow: a department head enters a red value and is asked for its cause and an action item;
the coach sees the red on the next session's agenda; an executive closes the month; the data-entry page (a tab
opened before the close) and the API then refuse a change to it; an admin reopens it with a reason, and the value
takes changes again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect
from rest_framework.test import APIClient

from bsc import org_calendar
from bsc.tenancy import organization_scope
from coaching import services as coaching_services
from kpis import services
from kpis.data_entry import due_month
from kpis.models import Measurement
from kpis.outbox import scores_rebuild
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]


def test_a_red_value_is_explained_reviewed_closed_refused_and_reopened(world, open_page):
    head = factories.hugo_head(world)  # head of Operations
    coach = factories.carla_coach(world)
    executive = factories.make_user("eve@acme.example.com", full_name="Eve Exec")
    factories.add_member(world.org_a, "executive", user=executive)
    month = due_month(world.org_a)
    label = org_calendar.month_label(month)
    today = org_calendar.today(world.org_a)
    closed = (
        f"{label} is closed for Acme Manufacturing (closed by Eve Exec on {today.day} "
        f"{org_calendar.month_label(today)}): OTD's values and targets of that period cannot change. An admin can "
        "reopen it."
    )
    with organization_scope(world.org_a):
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
        )
        services.target_create(kpi=otd, period=month, value=Decimal(100))
    session = coaching_services.session_schedule(
        unit=world.division_a, coach=coach, kind="monthly_review", participants=[head],
        scheduled_at=timezone.now() + timedelta(days=3),
    )  # fmt: skip

    # 1. The department head enters a red value: asked for its cause and an action item, saves both.
    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, head.email)
    page.goto(reverse("data_entry", args=["acme"]))
    page.get_by_label("Value of OTD On-time delivery").press_sequentially("81")
    status = page.locator(f"#status-{otd.pk}")
    expect(status).to_contain_text("Give the cause of the red value.")
    page.get_by_label("Cause of the value of OTD On-time delivery").fill("Supplier strike in week 3")
    action = page.locator(f"#action-{otd.pk}")
    action.get_by_label("Title").fill("Qualify a second supplier")
    action.get_by_label("Due").fill(f"{today + timedelta(days=20):%Y-%m-%d}")
    page.get_by_role("button", name="Save all").click()
    expect(page.get_by_role("status")).to_have_text(f"Saved 1 value for {month:%B %Y}.")
    scores_rebuild(organization=world.org_a)  # what the worker does after the save

    # 2. The coach sees the red on the next session's agenda.
    coach_page = open_page(viewport={"width": 1280, "height": 800})
    log_in(coach_page, coach.email)
    coach_page.goto(reverse("coaching_session", args=["acme", session.pk]))
    agenda = coach_page.locator("#red-agenda")
    expect(agenda).to_contain_text("OTD On-time delivery")
    expect(agenda).to_contain_text("Cause: Supplier strike in week 3")
    screenshot(coach_page, "acceptance_close-agenda")
    coach_page.close()

    # The head keeps a data-entry tab open while the month is closed (reloaded: the saved value and its version).
    page.goto(reverse("data_entry", args=["acme"]))

    # 3. An executive closes the month for the whole organization, from the scorecard.
    exec_page = open_page(viewport={"width": 1280, "height": 800})
    log_in(exec_page, executive.email)
    exec_page.goto(reverse("scorecard_detail", args=["acme", world.company_a.pk]))
    exec_page.get_by_role("link", name=f"Close {label}").click()
    expect(exec_page.locator("#checklist-summary")).to_have_text(
        "1 KPI value due: 0 without a value, 0 red without a cause."
    )
    exec_page.get_by_role("button", name=f"Close {label} for Acme Manufacturing").click()
    expect(exec_page.locator("#close-state")).to_contain_text("closed by Eve Exec")
    exec_page.close()

    # 4. The data-entry page refuses a change (the tab opened before the close), and then shows the month read-only.
    page.get_by_role("textbox", name="Value of OTD On-time delivery", exact=True).fill("100")  # a recount: green
    page.get_by_role("button", name="Save all").click()
    expect(page.locator("#entry-errors")).to_contain_text(closed)
    screenshot(page, "acceptance_close-refused")
    page.goto(reverse("data_entry", args=["acme"]))
    expect(page.locator(f"#entry-{otd.pk} .closed-note")).to_contain_text("Closed by Eve Exec")
    expect(page.get_by_role("textbox", name="Value of OTD On-time delivery", exact=True)).not_to_be_editable()

    # ... and so does the API.
    api = APIClient()
    api.force_login(head)
    with organization_scope(world.org_a):
        measurement = Measurement.objects.get(kpi=otd, period=month)
    answer = api.patch(
        f"/api/v1/o/acme/measurements/{measurement.pk}/",
        {"value": "100", "version": measurement.version},
        format="json",
    )
    assert (answer.status_code, answer.json()) == (400, {"period": [closed]})
    with organization_scope(world.org_a):
        assert Measurement.objects.get(kpi=otd, period=month).value == Decimal(81)

    # 5. An admin reopens it with a reason; the value takes changes again.
    admin_page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(admin_page, world.admin_a.email)
    admin_page.goto(reverse("period_close", args=["acme", world.company_a.pk]) + f"?period={month:%Y-%m}")
    admin_page.get_by_label(f"Reason to reopen {label}").fill("Supplier credit note arrived late")
    admin_page.get_by_role("button", name="Reopen").click()
    expect(admin_page.locator("#close-state")).to_have_text(f"{label} is open for Acme Manufacturing.")
    expect(admin_page.locator("#close-list")).to_contain_text("“Supplier credit note arrived late”")
    screenshot(admin_page, "acceptance_close-reopened-phone")
    page.goto(reverse("data_entry", args=["acme"]))
    expect(page.get_by_role("textbox", name="Value of OTD On-time delivery", exact=True)).to_be_editable()
