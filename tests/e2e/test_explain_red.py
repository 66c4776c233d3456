"""Explain the red (issue 17): a department head enters a red value, is asked for its cause and an action item, saves
both at once (desktop, then a row on a phone); the coach finds the reds on the next session's agenda."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc import org_calendar
from bsc.tenancy import organization_scope
from coaching import services as coaching_services
from coaching.models import ActionItem
from kpis import services
from kpis.data_entry import due_month
from kpis.models import KpiScore, Measurement
from tests import factories
from tests.conftest import log_in, screenshot, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_department_head_explains_a_red_value_and_the_coach_sees_it_on_the_agenda(
    world, open_page, celery_worker_process
):
    head = factories.hugo_head(world)  # head of Operations (and Assembly below it)
    coach = factories.carla_coach(world)
    month = due_month(world.org_a)
    with organization_scope(world.org_a):
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
        )
        scr = services.kpi_create(
            unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(10), direction="decrease",
            measurement_unit="%",
        )  # fmt: skip
        for kpi, target in ((otd, 100), (scr, 5)):
            services.target_create(kpi=kpi, period=month, value=Decimal(target))
    session = coaching_services.session_schedule(
        unit=world.division_a, coach=coach, kind="monthly_review", participants=[head],
        scheduled_at=timezone.now() + timedelta(days=3),
    )  # fmt: skip

    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, head.email)
    page.goto(reverse("data_entry", args=["acme"]))
    value = page.get_by_label("Value of OTD On-time delivery")
    value.press_sequentially("81")
    status = page.locator(f"#status-{otd.pk}")
    expect(status).to_contain_text("Off track")
    expect(status).to_contain_text("Give the cause of the red value.")
    action = page.locator(f"#action-{otd.pk}")
    expect(action).to_contain_text("Action item for the red value")
    expect(action.get_by_label("Owner")).to_have_value(str(head.pk))  # the person, who may own the unit's items
    cause = page.get_by_label("Cause of the value of OTD On-time delivery")
    expect(cause).to_have_attribute("placeholder", "Cause (required)")
    cause.fill("Supplier strike in week 3")
    action.get_by_label("Title").fill("Qualify a second supplier")
    action.get_by_label("Due").fill(f"{org_calendar.today(world.org_a) + timedelta(days=20):%Y-%m-%d}")
    expect(status).not_to_contain_text("Give the cause of the red value.")
    expect(action.get_by_label("Title")).to_have_value("Qualify a second supplier")  # kept through the preview
    screenshot(page, "explain_red_desktop")

    page.get_by_role("button", name="Save all").click()
    expect(page.get_by_role("status")).to_have_text(f"Saved 1 value for {month:%B %Y}.")
    expect(page.locator(f"#action-{otd.pk}")).to_be_empty()  # saved: nothing more to ask
    with organization_scope(world.org_a):
        item = ActionItem.objects.get(kpi=otd)
        assert (item.title, item.owner, item.status) == ("Qualify a second supplier", head, "open")
        assert Measurement.objects.get(kpi=otd, period=month).comment == "Supplier strike in week 3"

    # On a phone: the row's own Save, refused until the cause is given, then saved with its action item.
    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, head.email)
    phone.goto(reverse("data_entry", args=["acme"]))
    phone.get_by_label("Value of SCR Scrap rate").press_sequentially("9")
    expect(phone.locator(f"#status-{scr.pk}")).to_contain_text("Give the cause of the red value.")
    scr_action = phone.locator(f"#action-{scr.pk}")
    expect(scr_action).to_be_visible()
    expect(phone.locator(f"#entry-{scr.pk} td.comment-cell")).to_have_attribute("data-label", "Cause")
    phone.get_by_role("button", name="Save SCR").click()
    expect(phone.locator(f"#errors-{scr.pk}")).to_have_text("SCR: Give the cause of the red value.")
    screenshot(phone, "explain_red_phone_refused")
    phone.get_by_label("Cause of the value of SCR Scrap rate").fill("Old press")
    phone.get_by_role("button", name="Save SCR").click()
    expect(phone.locator(f"#entry-{scr.pk} .badge-saved")).to_have_text("saved")
    screenshot(phone, "explain_red_phone_saved")
    phone.close()

    # The coach's next session lists the month's reds with their causes (stored once the worker scored them).
    def reds():
        rows = KpiScore.objects.for_organization(world.org_a).filter(period_kind="month", period=month, status="red")
        return rows.count() == 2 or None

    wait_for(reds, timeout=60, message="the worker to score the reds")
    coaching_services.action_item_set_status(item=item, status="done")  # OTD's item done: OTD lacks an open one
    page.context.clear_cookies()
    log_in(page, coach.email)
    page.goto(reverse("coaching_session", args=["acme", session.pk]))
    agenda = page.locator("#red-agenda")
    expect(agenda.locator("li")).to_have_count(2)
    expect(agenda.locator("li").first).to_contain_text("OTD On-time delivery")
    expect(agenda.locator("li").first).to_contain_text("no open action item")
    expect(agenda.locator("li").first).to_contain_text("Cause: Supplier strike in week 3")
    expect(agenda.locator("li").nth(1)).to_contain_text("SCR Scrap rate · Assembly")
    screenshot(page, "explain_red_agenda")

    # The dashboard lists the reds without an open action item (OTD, whose item is done), with their causes.
    page.goto(f"{reverse('dashboard_unit', args=['acme', world.division_a.pk])}?kind=month&period={month:%Y-%m}")
    reds = page.locator("#red-kpis tbody tr")
    expect(reds).to_have_count(1)
    expect(reds.first).to_contain_text("OTD On-time delivery")
    expect(reds.first).to_contain_text("Supplier strike in week 3")
    page.locator("#red-kpis").scroll_into_view_if_needed()
    screenshot(page, "explain_red_dashboard")
