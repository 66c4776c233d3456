"""On a phone (390x844) the scorecard, a held coaching session and the strategy map read without the page
scrolling sideways (a wide table or the map may scroll inside its own frame), with long names, a year of
values, notes, a KPI snapshot and action items; each page also passes the accessibility check there."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from bsc import strategy
from bsc.models import Perspective, Role
from bsc.org_calendar import month_shift
from bsc.tenancy import organization_scope
from coaching import services as coaching
from kpis import services
from kpis.models import PendingRecompute
from kpis.recompute import scores_recompute
from tests import factories
from tests.a11y import assert_accessible, page_width_problem
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _on_18_november_2026(pinned_clock):
    """The pages are read with a year of fixed months (MONTHS, October 2026 the month due): the day is pinned
    here whatever BSC_TEST_NOW says, as the layout, not the calendar, is under test."""
    pinned_clock.move_to(datetime(2026, 11, 18, 10, 30, tzinfo=UTC))


PHONE = {"width": 390, "height": 844}
MONTHS = [month_shift(date(2025, 11, 1), i) for i in range(12)]  # November 2025 to October 2026, the month due


def band(unit, name: str) -> Perspective:
    return Perspective.objects.get(scorecard__unit=unit, name=name)


@pytest.fixture
def seeded(world):
    """The company's map with long objective names and arrows, KPIs with a year of values and stored scores,
    and a held monthly review with notes, a snapshot and two action items."""
    admin = world.admin_a
    coach = factories.add_member(world.org_a, Role.COACH, user=factories.make_user(full_name="Carla Coach")).user
    head = factories.add_member(
        world.org_a, Role.DEPARTMENT_HEAD, units=[world.company_a], user=factories.make_user(full_name="Hugo Head")
    ).user
    with organization_scope(world.org_a):
        delight = strategy.objective_create(
            perspective=band(world.company_a, "Customer"), name="Delight customers in every market we serve"
        )
        output = strategy.objective_create(
            perspective=band(world.company_a, "Internal Process"), name="Grow output without growing overtime"
        )
        strategy.objective_create(perspective=band(world.company_a, "Financial"), name="Improve operating margin")
        strategy.objective_create(
            perspective=band(world.company_a, "Learning & Growth"), name="Build lean and quality skills on every shift"
        )
        strategy.link_create(source=output, target=delight)
        kpis = [
            services.kpi_create(
                unit=world.company_a, name="Orders from key accounts (rolling twelve months)", code="ORD-KEY",
                baseline=Decimal(100), decimals=0, objective=delight,
            ),
            services.kpi_create(
                unit=world.company_a, name="Customer complaint rate per thousand deliveries", code="CMP-RATE",
                baseline=Decimal(10), direction="decrease", measurement_unit="%", objective=delight,
            ),
            services.kpi_create(
                unit=world.company_a, name="Units shipped", code="SHIP", baseline=Decimal(0), decimals=0,
                time_aggregation="sum", objective=output,
            ),
        ]  # fmt: skip
        for kpi, target in zip(kpis, (250, 5, 100), strict=True):
            for year in (2025, 2026):
                services.target_set_year(kpi=kpi, fiscal_year=year, mode="same", value=Decimal(target), by=admin)
        for i, month in enumerate(MONTHS):
            for kpi, value in zip(kpis, (100 + 10 * i, Decimal(9) - Decimal("0.25") * i, 90 + 5 * i), strict=True):
                services.measurement_record(kpi=kpi, period=month, value=Decimal(value), by=admin, schedule=False)
        scores_recompute(organization=world.org_a, unit_ids={world.company_a.pk}, months=set(MONTHS))
        PendingRecompute.objects.for_organization(world.org_a).delete()  # computed above: nothing waits

        session = coaching.session_schedule(
            unit=world.company_a, coach=coach, kind="monthly_review", participants=[head],
            scheduled_at=timezone.now() + timedelta(hours=2), agenda="Complaint trend, key accounts, open items",
        )  # fmt: skip
        session = coaching.session_hold(session=session, attendees=[head])
        coaching.session_update(
            session=session,
            notes="Complaints are **falling** for the sixth month.\n\n- Key-account orders still below target",
            wins="- Two weeks without a late delivery",
            challenges="- Press 3 is down again",
        )
        for title, days in (("Call the three largest key accounts about the spring orders", 10), ("Retrain B", 3)):
            coaching.action_item_create(
                organization=world.org_a, title=title, owner=head, due_date=timezone.localdate() + timedelta(days=days),
                created_by=coach, session=session, unit=world.company_a,
            )  # fmt: skip
    return {"coach": coach, "session": session}


@pytest.fixture
def phone(open_page):
    return open_page(viewport=PHONE, is_mobile=True, has_touch=True)


def check_phone_page(page, name: str) -> None:
    screenshot(page, f"phone_{name}")
    problem = page_width_problem(page, PHONE["width"])
    assert not problem, f"{name}: {problem}"
    assert_accessible(page, name)


def test_the_scorecard_reads_on_a_phone(world, seeded, phone):
    log_in(phone, world.viewer_a.email)
    phone.goto(reverse("scorecard_detail", args=["acme", world.company_a.pk]))
    expect(phone.locator("#scorecard-total")).to_contain_text("Oct 2026")
    expect(phone.locator("tr.kpi-row", has_text="ORD-KEY")).to_be_visible()
    check_phone_page(phone, "scorecard")


def test_a_held_session_reads_on_a_phone(world, seeded, phone):
    log_in(phone, seeded["coach"].email)
    phone.goto(reverse("coaching_session", args=["acme", seeded["session"].pk]))
    expect(phone.locator("#session-notes strong")).to_have_text("falling")
    expect(phone.locator("#session-items li")).to_have_count(2)
    expect(phone.get_by_text("Customer complaint rate per thousand deliveries")).to_be_visible()  # in the snapshot
    check_phone_page(phone, "session")


def test_the_strategy_map_reads_on_a_phone(world, seeded, phone):
    log_in(phone, world.viewer_a.email)
    phone.goto(reverse("strategy_map", args=["acme", world.company_a.pk]))
    expect(phone.locator("svg g.objective")).to_have_count(4)
    check_phone_page(phone, "strategy_map")
