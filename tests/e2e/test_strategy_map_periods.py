"""The strategy map for any period in a real browser: changing the period with the keyboard (a plain form) recolours
the cards from the stored scores, names the period in the heading and on each card's status, and the Download SVG
link carries it (the file says the period and has a legend); a bad period in the address shows a message and the
month now due. Saved at 1280x800 and 390x844, and checked with axe."""

import re

import pytest
from playwright.sync_api import expect

from bsc import org_calendar as cal
from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis.models import ObjectiveScore
from kpis.scorecard_display import percent
from tests.a11y import assert_accessible, page_width_problem
from tests.conftest import log_in, screenshot
from tests.map_period_data import scored_map_months
from tests.strategy_map_page import card

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]
COLOURS = {"green": "#1e8a4c", "amber": "#c98a00", "red": "#c0392b", "grey": "#9aa1ad"}
SHAPES = {"green": "●", "amber": "▲", "red": "■", "grey": "○"}


@pytest.fixture
def months(world):
    """'Grow sales' red two months before the month now due, amber the month before, green in it; 'Keep customers'
    green two months back only; 'Unscored' without KPIs. Stored scores rebuilt."""
    return scored_map_months(world, second="Keep customers")


def status_of(page, name: str) -> str:
    """The card's status as drawn: its border colour, which must agree with its shape and its description."""
    colour = card(page, name).locator(".card-body").get_attribute("stroke")
    status = {c: s for s, c in COLOURS.items()}[colour]
    expect(card(page, name).locator(".status-shape")).to_have_text(SHAPES[status])
    return status


def stored(world, kind: str, start, name: str) -> str:
    with organization_scope(world.org_a):
        row = ObjectiveScore.objects.filter(
            objective__scorecard__unit=world.company_a, objective__name=name, period_kind=kind, period=start
        ).first()
    return row.status if row else "grey"


def score_text(world, kind: str, start, name: str) -> str:
    """The stored score as the card and its description print it."""
    with organization_scope(world.org_a):
        row = ObjectiveScore.objects.get(
            objective__scorecard__unit=world.company_a, objective__name=name, period_kind=kind, period=start
        )
    return percent(row.score)


def choose(page, kind: str, month) -> None:
    """The period form with the keyboard: the kind from its list, the month typed, Enter sends it."""
    page.get_by_label("Colour by the").select_option(kind)
    field = page.get_by_label("containing")
    field.focus()
    field.fill(f"{month:%Y-%m}")
    field.press("Enter")
    page.wait_for_load_state()


def test_changing_the_period_recolours_the_map_and_the_svg_link_carries_it(world, months, open_page, tmp_path):
    fiscal_start = world.org_a.fiscal_year_start_month
    due_label = cal.month_label(months[-1])
    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"strategy map · {due_label}")
    expect(page.locator("#map-legend li")).to_have_text(["● On track", "▲ At risk", "■ Off track", "○ No data"])
    assert status_of(page, "Grow sales") == stored(world, "month", months[-1], "Grow sales") == "green"
    assert status_of(page, "Keep customers") == "grey"
    due_score = score_text(world, "month", months[-1], "Grow sales")
    expect(card(page, "Grow sales").locator("title")).to_have_text(f"On track · {due_score} in {due_label}")
    expect(card(page, "Grow sales").locator(".score-text")).to_have_text(due_score)
    expect(card(page, "Unscored").locator(".score-text")).to_have_count(0)
    screenshot(page, "strategy_map_period_default_1280")

    # Two months back, with the keyboard: the colours and the labels change.
    first_label = cal.month_label(months[0])
    choose(page, "month", months[0])
    expect(heading).to_contain_text(f"strategy map · {first_label}")
    expect(page.locator("#period-label")).to_have_text(first_label)
    assert status_of(page, "Grow sales") == stored(world, "month", months[0], "Grow sales") == "red"
    assert status_of(page, "Keep customers") == "green"
    first_score = score_text(world, "month", months[0], "Grow sales")
    expect(card(page, "Grow sales").locator("title")).to_have_text(f"Off track · {first_score} in {first_label}")
    expect(card(page, "Grow sales").locator(".score-text")).to_have_text(first_score)
    link = page.get_by_role("link", name="Download SVG")
    expect(link).to_have_attribute("href", re.compile(rf"\.svg\?kind=month&period={months[0]:%Y-%m}$"))
    card(page, "Grow sales").click()
    expect(page.locator("#map-panel .panel-sub .badge")).to_have_text(f"■ Off track · {first_score} in {first_label}")

    # The quarter of that month: each card as its stored quarter row says.
    start = cal.window_start("quarter", months[0], fiscal_start)
    label = cal.period_label("quarter", start, fiscal_start)
    choose(page, "quarter", months[0])
    expect(heading).to_contain_text(f"strategy map · {label}")
    for name in ("Grow sales", "Keep customers", "Unscored"):
        assert status_of(page, name) == stored(world, "quarter", start, name), name
    expect(page.get_by_label("Colour by the")).to_have_value("quarter")
    expect(page.get_by_label("containing")).to_have_value(f"{start:%Y-%m}")
    expect(link).to_have_attribute("href", re.compile(rf"\.svg\?kind=quarter&period={start:%Y-%m}$"))
    screenshot(page, "strategy_map_period_quarter_1280")
    assert_accessible(page, "strategy map, a quarter")

    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "map.svg"
    download.value.save_as(saved)
    svg = saved.read_text()
    assert f">{label}</text>" in svg and "▲ At risk</text>" in svg and "○ No data</text>" in svg
    file_page = open_page(viewport={"width": 1350, "height": 724})
    file_page.goto(saved.as_uri())  # the file as someone opens it: the period at the top right, the legend below
    file_page.screenshot(
        path=str(screenshot(page, "strategy_map_period_quarter_1280").with_name("strategy_map_period_svg.png"))
    )

    # "Previous" steps back one quarter, as the scorecard pages do.
    previous = cal.month_shift(start, -3)
    if page.get_by_role("link", name=re.compile("←")).count():
        page.get_by_role("link", name=re.compile("←")).click()
        expect(heading).to_contain_text(cal.period_label("quarter", previous, fiscal_start))


def test_a_bad_period_in_the_address_says_so_and_shows_the_month_now_due(world, months, open_page):
    due_label = cal.month_label(months[-1])
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/?kind=fortnight&period=2026-13")
    expect(page.get_by_role("alert")).to_have_text(
        f"“fortnight” is not a kind of period: month, quarter or year. Showing {due_label}, the month now due."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(due_label)
    assert status_of(page, "Grow sales") == "green"
    assert not page_width_problem(page, 390), page_width_problem(page, 390)
    screenshot(page, "strategy_map_period_error_390")
    choose(page, "year", months[0])
    fiscal_start = world.org_a.fiscal_year_start_month
    expect(page.get_by_role("heading", level=1)).to_contain_text(cal.period_label("year", months[0], fiscal_start))
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "strategy_map_period_year_390")
    assert_accessible(page, "strategy map on a phone, a year")


def test_the_editor_reloads_the_statuses_of_the_period_it_shows(world, months, member_of_role, page):
    """After a recompute (the badge's scoresRecomputed event) the editor asks the API for the page's period, so a
    map of an earlier month keeps that month's colours rather than taking the month now due's."""
    log_in(page, member_of_role(Role.EXECUTIVE).email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/?kind=month&period={months[0]:%Y-%m}")
    assert status_of(page, "Grow sales") == "red"
    with page.expect_response(re.compile(rf"/scorecards/\d+/\?kind=month&period={months[0]:%Y-%m}$")) as answer:
        page.evaluate("document.body.dispatchEvent(new Event('scoresRecomputed'))")
    assert answer.value.ok
    page.wait_for_selector('#strategy-map[data-pending="0"]', state="attached")
    assert status_of(page, "Grow sales") == "red"  # the month now due's is green
    assert status_of(page, "Keep customers") == "green"
