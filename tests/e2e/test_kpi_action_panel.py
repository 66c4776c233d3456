"""Every red owned (issue 17): an executive follows a red KPI without an action from the dashboard to its page, lands at
its "Action items" panel, gives it an action item with the keyboard alone, and the dashboard no longer lists it; the
KPI page with the panel at 1280x800 and 390x844 (kpi_actions_desktop.png, kpi_actions_phone.png)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc import org_calendar
from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching.models import ActionItem
from kpis import outbox, services
from kpis.models import KpiScore
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]
D = Decimal


def test_an_executive_gives_a_red_kpi_an_action_item_from_the_dashboard_with_the_keyboard(world, open_page):
    head = factories.hugo_head(world)  # head of Operations: the KPI's owner, who may own its unit's items
    executive = factories.add_member(world.org_a, Role.EXECUTIVE).user
    month = org_calendar.due_month(world.org_a)
    with organization_scope(world.org_a):
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=D(80), measurement_unit="%",
            owner=head,
        )  # fmt: skip
        # 82 % against a target of 100 % from a baseline of 80 %: a tenth of the way, red; its scores stored.
        services.target_create(kpi=otd, period=month, value=D(100))
        services.measurement_record(
            kpi=otd, period=month, value=D(82), by=head, comment="Late supplier", schedule=False
        )
        outbox.scores_rebuild(organization=world.org_a)
        assert KpiScore.objects.get(kpi=otd, period_kind="month", period=month).status == "red"

    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, executive.email)
    page.wait_for_url("**/o/acme/")  # an executive's home is the dashboard
    reds = page.locator("#red-kpis tbody tr")
    expect(reds).to_have_count(1)
    reds.first.get_by_role("link", name="OTD On-time delivery").click()
    page.wait_for_url(f"**/o/acme/kpis/{otd.pk}/#actions")

    panel = page.locator("section#actions")
    expect(panel.get_by_role("heading", name="Action items (0 open)")).to_be_visible()
    expect(panel).to_be_in_viewport()  # the page scrolled to the panel once it arrived
    expect(panel).to_contain_text("No open action item.")
    owner = panel.get_by_label("Owner")
    expect(owner).to_have_value(str(head.pk))  # the KPI's owner to begin with
    due = panel.get_by_label("Due date")
    in_two_weeks = org_calendar.today(world.org_a) + timedelta(days=14)
    expect(due).to_have_value(f"{in_two_weeks:%Y-%m-%d}")

    title = panel.get_by_label("Title")
    title.focus()
    page.keyboard.press("Enter")  # no title yet: refused on the field, nothing saved
    expect(panel.locator("#kpi-action-title_error")).to_have_text("Give the action item a title.")
    expect(title).to_be_focused()
    screenshot(page, "kpi_actions_refused")
    page.keyboard.type("Qualify a second supplier")
    page.keyboard.press("Tab")
    expect(owner).to_be_focused()
    page.keyboard.press("Tab")
    expect(due).to_be_focused()
    page.keyboard.press("Enter")  # submits the form

    due_text = f"{in_two_weeks:%-d %b %Y}"
    expect(panel.get_by_role("status")).to_have_text(
        f"Action item added: “Qualify a second supplier”, owned by Hugo Head, due {due_text}."
    )
    expect(panel.get_by_role("heading", name="Action items (1 open)")).to_be_visible()
    expect(panel.locator("#kpi-action-items li")).to_have_count(1)
    expect(panel.locator("#kpi-action-items li")).to_contain_text(
        f"Qualify a second supplier · Hugo Head · due {due_text}"
    )
    expect(panel.get_by_label("Title")).to_have_value("")  # a fresh form for the next one, the cursor in it
    expect(panel.get_by_label("Title")).to_be_focused()
    with organization_scope(world.org_a):
        item = ActionItem.objects.get()
        assert (item.kpi, item.unit, item.owner, item.created_by) == (otd, world.division_a, head, executive)
    panel.scroll_into_view_if_needed()
    screenshot(page, "kpi_actions_desktop")

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, executive.email)
    phone.goto(f"{reverse('kpi_detail', args=['acme', otd.pk])}#actions")
    phone_panel = phone.locator("section#actions")
    expect(phone_panel.locator("#kpi-action-items li")).to_have_count(1)
    expect(phone_panel).to_be_in_viewport()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the KPI page scrolls sideways on a phone ({width}px wide)"
    screenshot(phone, "kpi_actions_phone")
    phone.close()

    page.goto("/o/acme/")  # back to the dashboard
    expect(page.locator("#red-kpis")).to_have_count(0)
    label = org_calendar.period_label("month", month, world.org_a.fiscal_year_start_month)
    expect(page.get_by_text(f"No red KPI without an open action item in {label}.")).to_be_visible()
