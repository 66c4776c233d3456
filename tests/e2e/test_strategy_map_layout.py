"""The strategy map's layout in a real browser: cards snap to a grid and never land on one another (a drop or an
arrow-key move onto a card goes to the nearest free spot), the last changes can be undone (a move, a rename, a
delete with its arrow and initiative), and the company map fits a 1280 px window while a phone shows it in a
frame that scrolls on its own, never the page."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc import strategy
from bsc.models import CauseEffectLink, Initiative, Objective, Perspective, Role
from bsc.tenancy import organization_scope
from kpis import services as kpi_services
from tests.conftest import log_in, screenshot
from tests.strategy_map_page import card, centre, drag, saved

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def position(world, name: str) -> tuple[str, int, int]:
    o = Objective.objects.for_organization(world.org_a).select_related("perspective").get(name=name)
    return o.perspective.name, o.x, o.y


def no_card_covers_another(world) -> bool:
    cards = list(Objective.objects.for_organization(world.org_a).filter(scorecard__unit=world.company_a))
    return not any(
        a.pk < b.pk and a.perspective_id == b.perspective_id and abs(a.x - b.x) < 200 and abs(a.y - b.y) < 70
        for a in cards
        for b in cards
    )


def bands(world) -> dict[str, Perspective]:
    return {p.name: p for p in Perspective.objects.filter(scorecard__unit=world.company_a)}


def test_a_card_moved_onto_another_goes_to_the_nearest_free_spot(world, member_of_role, page):
    with organization_scope(world.org_a):
        customer = bands(world)["Customer"]
        strategy.objective_create(perspective=customer, name="Win key accounts", x=20, y=50)
        strategy.objective_create(perspective=customer, name="Delight customers", x=300, y=50)
        strategy.objective_create(perspective=customer, name="Keep prices fair", x=700, y=50)
    log_in(page, member_of_role(Role.EXECUTIVE).email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(page.locator("#strategy-map .objective")).to_have_count(3)
    status = page.locator("#map-status")

    # Dropped right on top of another card: it goes to the nearest free grid spot in the band instead.
    drag(page, centre(card(page, "Keep prices fair").locator(".card-body")), centre(card(page, "Delight customers")))
    assert position(world, "Keep prices fair") == ("Customer", 510, 50)
    expect(status).to_have_text(
        "“Keep prices fair” moved to the nearest free spot: “Delight customers” is where it was dropped."
    )
    assert no_card_covers_another(world)

    # A drop between two spots snaps to the grid (10 map units).
    scale = float(page.locator("#strategy-map").get_attribute("data-scale"))
    start = centre(card(page, "Keep prices fair").locator(".card-body"))
    drag(page, start, (start[0] + 263 * scale, start[1] + 3 * scale))
    assert position(world, "Keep prices fair") == ("Customer", 770, 50)

    # With the keyboard: arrow keys step one grid square; the step that would overlap jumps past the card.
    card(page, "Win key accounts").focus()
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    expect(status).to_have_text("“Win key accounts” moved to Customer, 90, 50.")
    page.keyboard.press("ArrowRight")
    expect(status).to_have_text(
        "“Win key accounts” moved to Customer, 510, 50 (past “Delight customers”, to the next free spot)."
    )
    expect(card(page, "Win key accounts")).to_be_focused()
    saved(page)
    assert position(world, "Win key accounts") == ("Customer", 510, 50)
    assert no_card_covers_another(world)
    screenshot(page, "strategy_map_collision")


def test_undo_takes_back_a_move_a_rename_and_a_delete(world, member_of_role, page):
    with organization_scope(world.org_a):
        band = bands(world)
        grow = strategy.objective_create(perspective=band["Financial"], name="Grow revenue", x=20, y=50)
        delight = strategy.objective_create(perspective=band["Customer"], name="Delight customers", x=300, y=50)
        strategy.link_create(source=delight, target=grow)
        strategy.initiative_create(objective=delight, name="Customer survey", status="on_track", progress=30)
        measured = strategy.objective_create(perspective=band["Internal Process"], name="Cut lead time", x=20, y=50)
        kpi_services.kpi_create(
            unit=world.company_a, name="Lead time", code="LT", baseline=Decimal(10), objective=measured
        )
    log_in(page, member_of_role(Role.EXECUTIVE).email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(page.locator("#strategy-map .objective")).to_have_count(3)
    status = page.locator("#map-status")
    undo = page.get_by_role("button", name="Undo", exact=True)
    expect(undo).to_be_disabled()

    # A move, undone with the button.
    card(page, "Grow revenue").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    saved(page)
    assert position(world, "Grow revenue") == ("Financial", 30, 60)
    expect(undo).to_be_enabled()
    undo.click()
    saved(page)
    expect(status).to_have_text("Undone: moving “Grow revenue”.")
    assert position(world, "Grow revenue") == ("Financial", 20, 50)

    # A rename, undone with Ctrl+Z while a card (not a text field) has the focus.
    card(page, "Grow revenue").focus()
    page.keyboard.press("F2")
    page.get_by_label("Rename “Grow revenue”").fill("Grow recurring revenue")
    page.keyboard.press("Enter")
    saved(page)
    expect(card(page, "Grow recurring revenue")).to_be_focused()
    page.keyboard.press("Control+z")
    saved(page)
    expect(status).to_have_text("Undone: renaming “Grow revenue” to “Grow recurring revenue”.")
    expect(card(page, "Grow revenue")).to_have_count(1)
    assert Objective.objects.for_organization(world.org_a).filter(name="Grow revenue").count() == 1

    # A delete asks nothing (it can be undone) and comes back with its arrow and initiative.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    card(page, "Delight customers").focus()
    page.keyboard.press("Delete")
    saved(page)
    expect(card(page, "Delight customers")).to_have_count(0)
    expect(status).to_have_text(
        "Objective “Delight customers” deleted. Undo (Ctrl+Z) brings it back with its arrows and initiatives."
    )
    assert not Objective.objects.for_organization(world.org_a).filter(name="Delight customers").exists()
    screenshot(page, "strategy_map_deleted")
    page.keyboard.press("Control+z")
    saved(page)
    expect(status).to_have_text("Undone: deleting “Delight customers”.")
    expect(card(page, "Delight customers")).to_be_focused()
    expect(page.locator("#strategy-map line.link")).to_have_count(1)
    back = Objective.objects.for_organization(world.org_a).get(name="Delight customers")
    assert (back.x, back.y, back.perspective.name) == (300, 50, "Customer")
    assert list(CauseEffectLink.objects.for_organization(world.org_a).values_list("source__name", "target__name")) == [
        ("Delight customers", "Grow revenue")
    ]
    assert list(Initiative.objects.for_organization(world.org_a).values_list("objective", "name", "status")) == [
        (back.pk, "Customer survey", "on_track")
    ]
    assert dialogs == []

    # Everything is undone: the button is off and Ctrl+Z says so.
    expect(undo).to_be_disabled()
    page.keyboard.press("Control+z")
    expect(status).to_have_text("Nothing to undo.")

    # An objective that KPIs measure cannot be brought back by undo: the delete asks first and says so.
    card(page, "Cut lead time").focus()
    page.keyboard.press("Delete")
    expect(card(page, "Cut lead time")).to_have_count(1)
    saved(page)
    assert dialogs == [
        "Delete the objective “Cut lead time”? Its arrows and initiatives are deleted with it. "
        "This cannot be undone: 1 KPI measures it and would lose its objective."
    ]
    assert Objective.objects.for_organization(world.org_a).filter(name="Cut lead time").exists()
    screenshot(page, "strategy_map_undo")


DEMO_LIKE = [  # the demo company's layout: the right-most card ends 1280 map units in
    ("Financial", "Grow revenue profitably", 230, 50),
    ("Financial", "Improve operating margin", 830, 50),
    ("Customer", "Deliver on time, every time", 30, 50),
    ("Customer", "Win key accounts", 330, 50),
    ("Customer", "Be the quality benchmark", 630, 50),
    ("Internal Process", "Cut order-to-delivery lead time", 30, 50),
    ("Internal Process", "Develop products with customers", 330, 50),
    ("Internal Process", "Reduce scrap and rework", 630, 50),
    ("Internal Process", "Lower cost per unit", 930, 50),
    ("Learning & Growth", "Connect shop-floor data", 30, 50),
    ("Learning & Growth", "Keep key talent", 330, 50),
    ("Learning & Growth", "Build lean and quality skills", 1000, 90),
]


def page_widths(page) -> dict:
    return page.evaluate(
        """() => { const frame = document.getElementById("strategy-map");
        return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                map: frame.scrollWidth, frame: frame.clientWidth, right: frame.getBoundingClientRect().right}; }"""
    )


def test_the_company_map_fits_1280_and_a_phone_never_scrolls_the_page_sideways(world, member_of_role, open_page):
    with organization_scope(world.org_a):
        band = bands(world)
        for name_of_band, name, x, y in DEMO_LIKE:
            strategy.objective_create(perspective=band[name_of_band], name=name, x=x, y=y)
    executive = member_of_role(Role.EXECUTIVE)

    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, executive.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(page.locator("#strategy-map .objective")).to_have_count(12)
    widths = page_widths(page)
    assert widths["page"] <= widths["window"] and widths["map"] <= widths["frame"], widths
    for name in ("Lower cost per unit", "Build lean and quality skills"):
        right = card(page, name).locator(".card-body").bounding_box()
        assert right["x"] + right["width"] <= widths["right"] <= 1280, (name, right, widths)
    expect(page.locator("#map-scroll-hint")).to_be_hidden()
    scale = float(page.locator("#strategy-map").get_attribute("data-scale"))
    assert 0.85 < scale < 1  # shrunk a little to fit, never to an unreadable size
    expect(page.locator("#map-zoom-level")).to_have_text(f"{round(scale * 100)}%")
    screenshot(page, "strategy_map_fit_1280")

    # Zoomed in, the map scrolls inside its frame (the hint says so); "Fit to window" brings it back.
    page.get_by_role("button", name="Zoom in").click()
    expect(page.locator("#map-zoom-level")).to_have_text("100%")
    expect(page.locator("#map-scroll-hint")).to_be_visible()
    widths = page_widths(page)
    assert widths["page"] <= widths["window"] and widths["map"] > widths["frame"], widths
    page.get_by_role("button", name="Fit to window").click()
    expect(page.locator("#map-scroll-hint")).to_be_hidden()

    # Opening a card's details narrows the map's column: the map still fits (smaller).
    card(page, "Lower cost per unit").click()
    expect(page.locator("#map-panel")).to_be_visible()
    expect(page.locator("#map-scroll-hint")).to_be_hidden()
    # The editor refits when its frame narrows (a ResizeObserver): wait for that, then measure.
    page.wait_for_function(
        """() => { const frame = document.getElementById("strategy-map");
        return frame.scrollWidth <= frame.clientWidth; }""",
        timeout=5000,
    )
    widths = page_widths(page)
    assert widths["page"] <= widths["window"] and widths["map"] <= widths["frame"], widths

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, world.viewer_a.email)
    phone.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(phone.locator("#strategy-map .objective")).to_have_count(12)
    widths = page_widths(phone)
    assert widths["page"] <= widths["window"], widths  # the page never scrolls sideways
    assert widths["map"] > widths["frame"], widths  # the map does, inside its frame, at a readable size
    assert float(phone.locator("#strategy-map").get_attribute("data-scale")) == 0.8
    expect(phone.locator("#map-scroll-hint")).to_be_visible()
    frame = phone.locator("#strategy-map")
    expect(frame).to_have_class(re.compile(r"\boverflowing\b"))  # its right edge fades: there is more
    expect(frame).not_to_have_class(re.compile(r"scrolled-to-end"))
    screenshot(phone, "strategy_map_phone_390")
    frame.evaluate("frame => frame.scrollBy(5000, 0)")
    expect(frame).to_have_class(re.compile(r"scrolled-to-end"))
    assert page_widths(phone)["page"] <= 390
    screenshot(phone, "strategy_map_phone_390_scrolled")
