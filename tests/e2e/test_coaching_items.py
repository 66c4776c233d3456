"""A coach holds a review three days early (a warning, then the confirmation), reads the KPIs of the unit and its
sub-units red first, adds an action item and edits its title, owner and due date; the session page and the
action items read on a phone without scrolling sideways."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import services
from coaching.models import ActionItem
from kpis import services as kpi_services
from kpis.data_entry import due_month
from kpis.recompute import scores_recompute
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def review(world):
    """A review of Operations three days ahead, with KPIs of Operations and of Assembly (below it) in every
    status, and a head and a second head as participants."""
    coach = factories.add_member(
        world.org_a, Role.COACH, user=factories.make_user("carla@acme.example.com", full_name="Carla Coach")
    ).user
    heads = [
        factories.add_member(
            world.org_a,
            Role.DEPARTMENT_HEAD,
            units=[world.division_a],
            user=factories.make_user(f"{name.split()[0].lower()}@acme.example.com", full_name=name),
        ).user  # fmt: skip
        for name in ("Hugo Head", "Dana Deputy")
    ]
    month = due_month(world.org_a)
    kpis = {
        ("OTD", "On-time delivery to the customer's requested date", world.division_a): Decimal(95),
        ("LT", "Order lead time", world.division_a): None,
        ("SCR", "Scrap rate of the assembly lines", world.department_a): Decimal(30),
        ("FPY", "First-pass yield", world.department_a): Decimal(70),
    }
    with organization_scope(world.org_a):
        for (code, name, unit), actual in kpis.items():
            kpi = kpi_services.kpi_create(unit=unit, name=name, code=code, baseline=Decimal(0), measurement_unit="%")
            kpi_services.target_create(kpi=kpi, period=month, value=Decimal(100))
            if actual is not None:
                kpi_services.measurement_record(kpi=kpi, period=month, value=actual, by=world.admin_a)
        scores_recompute(organization=world.org_a, months={month})
        session = services.session_schedule(
            unit=world.division_a, coach=coach, kind="monthly_review", participants=heads,
            scheduled_at=timezone.now() + timedelta(days=3), agenda="Red KPIs first, then amber; open items.",
        )  # fmt: skip
        services.session_update(
            session=session, wins="- Two weeks without a late order\n- OTD **95%**",
            challenges="Scrap on line 2; see [the plan](javascript:alert(1)).",
        )  # fmt: skip
    return coach, heads, session


def test_a_coach_holds_early_after_the_warning_and_edits_an_action_item(world, page, review):
    coach, (hugo, dana), session = review
    log_in(page, coach.email)
    page.goto(reverse("coaching_session", args=["acme", session.pk]))
    expect(page.locator("#session-wins li")).to_have_text(["Two weeks without a late order", "OTD 95%"])
    expect(page.locator("#session-challenges")).to_have_text("Scrap on line 2; see the plan.")
    expect(page.locator("#session-challenges a")).to_have_count(0)

    page.get_by_role("button", name="Hold the session now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hold this session early?")
    expect(page.locator("#hold-early-warning")).to_contain_text("3 days from now")
    expect(page.get_by_label("Hugo Head")).to_be_checked()
    page.get_by_label("Dana Deputy").uncheck()
    screenshot(page, "coaching_session_hold_early")
    page.get_by_role("button", name="Hold it now anyway").click()
    expect(page.get_by_role("status")).to_have_text("Session held; the values of 4 KPIs were captured.")
    expect(page.locator("#attendance")).to_contain_text("1 of 2 attended")
    rows = page.locator(".snapshot-table tbody tr")
    expect(rows.locator("td:first-child")).to_have_text(
        [
            "SCR Scrap rate of the assembly lines · Assembly",
            "FPY First-pass yield · Assembly",
            "OTD On-time delivery to the customer's requested date",
            "LT Order lead time",
        ]
    )

    owner = page.get_by_label("Owner")
    expect(owner.locator("option").first).to_have_text("Choose an owner")
    expect(owner.locator("option", has_text=world.viewer_a.email)).to_have_count(0)
    page.get_by_label("Title").fill("Call the press supplier")
    page.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Add action item").click()
    expect(page.locator("#new-item-owner_error")).to_have_text("Choose who owns this action item.")
    owner.select_option(label="Hugo Head (hugo@acme.example.com)")
    page.get_by_role("button", name="Add action item").click()
    expect(page.locator("#session-items li")).to_have_count(1)

    page.locator("#session-items li").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit the action item")
    expect(page.get_by_label("Owner")).to_have_value(str(hugo.pk))
    page.get_by_label("Title").fill("")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_title_error")).to_have_text("Give the action item a title.")
    screenshot(page, "coaching_action_item_edit_error")
    page.get_by_label("Title").fill("Call the press supplier about line 2")
    page.get_by_label("Owner").select_option(label="Dana Deputy (dana@acme.example.com)")
    due = timezone.localdate() + timedelta(days=30)
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text(
        f"Action item saved: “Call the press supplier about line 2”, owned by Dana Deputy, due {due:%-d %b %Y}."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Monthly review · Operations")
    expect(page.locator("#session-items")).to_contain_text(f"Dana Deputy · due {due:%-d %b %Y}")
    screenshot(page, "coaching_session_desktop")
    page.goto(reverse("coaching_actions", args=["acme"]))
    expect(page.get_by_role("heading", name="Dana Deputy")).to_be_visible()
    screenshot(page, "coaching_actions_desktop")

    item = ActionItem.objects.for_organization(world.org_a).get()
    assert (item.title, item.owner, item.due_date) == ("Call the press supplier about line 2", dana, due)


def test_the_session_and_the_action_items_read_on_a_phone(world, open_page, review):
    coach, (hugo, _), session = review
    with organization_scope(world.org_a):
        services.session_hold(session=session, confirm_early=True)
        services.action_item_create(
            organization=world.org_a, title="Share the scrap Pareto with the line leads", owner=hugo,
            due_date=timezone.localdate() + timedelta(days=7), created_by=coach, session=session,
        )  # fmt: skip
    page = open_page(viewport=PHONE, is_mobile=True)
    log_in(page, coach.email)
    for name, path in (
        ("coaching_session_phone", reverse("coaching_session", args=["acme", session.pk])),
        ("coaching_actions_phone", reverse("coaching_actions", args=["acme"])),
    ):
        page.goto(path)
        screenshot(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px wide)"
    expect(page.get_by_role("link", name=re.compile(r"^Edit\W+Share the scrap Pareto"))).to_be_visible()
