"""The strategy-map editor in a real browser: an executive builds a map with the mouse and the keyboard, it
survives a reload and matches the SVG export; a viewer reads it without edit controls; a stale edit is refused
and the map refreshes."""

import re

import pytest
from playwright.sync_api import expect

from bsc import strategy
from bsc.models import CauseEffectLink, Initiative, Objective, Perspective, Role
from bsc.tenancy import organization_scope
from tests.conftest import log_in, screenshot
from tests.strategy_map_page import card, centre, drag, saved, settled

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

STALE = "Someone else changed this map since you loaded it; the map has been refreshed, please redo your change."


def add_by_button(page, band: str, name: str) -> None:
    page.get_by_role("button", name=f"Add objective to {band}").click()
    field = page.get_by_label(f"Name of the new objective in {band}")
    field.type(name)
    field.press("Enter")
    saved(page)
    expect(card(page, name)).to_have_count(1)


def draw_arrow_with_mouse(page, source: str, target: str) -> None:
    settled(page)
    drag(page, centre(card(page, source).locator(".connector")), centre(card(page, target).locator(".card-body")))


def add_arrow_in_panel(page, source: str, target: str, target_band: str) -> None:
    card(page, source).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=source, level=2)).to_be_focused()
    page.get_by_label("Add arrow to…").select_option(label=f"{target} ({target_band})")
    page.get_by_role("button", name="Add arrow", exact=True).press("Enter")
    saved(page)


def map_scale(page) -> float:
    """CSS pixels per map unit: the map is drawn to fit its frame."""
    return float(page.locator("#strategy-map").get_attribute("data-scale"))


def map_point(page, x: float, y: float) -> tuple[float, float]:
    """Where a point given in map units is on the screen."""
    box = page.locator("#strategy-map svg").bounding_box()
    scale = map_scale(page)
    return box["x"] + x * scale, box["y"] + y * scale


def objective_named(world, name: str) -> Objective:
    return Objective.objects.for_organization(world.org_a).select_related("perspective").get(name=name)


# The refused cycle is the API's 400, which Chromium logs.
@pytest.mark.allow_console_errors(r"status of 400 \(Bad Request\) \(http://[^)]*/api/v1/o/acme/links/:")
def test_an_executive_builds_a_map_with_mouse_and_keyboard(world, member_of_role, page):
    executive = member_of_role(Role.EXECUTIVE)
    log_in(page, executive.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(page.locator("#strategy-map .band")).to_have_count(4)
    page.on("dialog", lambda dialog: dialog.accept())

    # Objectives: by button and typing, by the keyboard alone, and by a double-click on a band spot.
    add_by_button(page, "Financial", "Grow revenue")
    add_by_button(page, "Financial", "Improve margins")
    add_by_button(page, "Customer", "Delight customers")
    page.mouse.dblclick(*map_point(page, 700, 160 + 80))
    page.keyboard.type("Win key accounts")
    page.keyboard.press("Enter")
    saved(page)
    page.get_by_role("button", name="Add objective to Internal Process").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("Shorten lead time")
    page.keyboard.press("Enter")
    saved(page)
    add_by_button(page, "Internal Process", "Zero defects")
    add_by_button(page, "Internal Process", "Digital tools")  # in the wrong band: dragged below next
    add_by_button(page, "Learning & Growth", "Build lean skills")
    expect(page.locator("#strategy-map .objective")).to_have_count(8)
    assert objective_named(world, "Win key accounts").x == 450  # the double-clicked spot, card centred on it

    # Move: drag a card into the band below (and a little to the right); nudge another with arrow keys.
    start = centre(card(page, "Digital tools").locator(".card-body"))
    scale = map_scale(page)
    drag(page, start, (start[0] + 20 * scale, start[1] + 160 * scale))
    moved = objective_named(world, "Digital tools")
    assert (moved.perspective.name, moved.x, moved.y) == ("Learning & Growth", 480, 50)
    card(page, "Zero defects").focus()
    for key in ["ArrowRight", "ArrowRight", "ArrowRight", "ArrowDown", "ArrowDown"]:
        page.keyboard.press(key)
    expect(card(page, "Zero defects")).to_be_focused()
    saved(page)
    nudged = objective_named(world, "Zero defects")
    assert (nudged.x, nudged.y) == (270, 70)

    # Rename in place with F2.
    card(page, "Improve margins").focus()
    page.keyboard.press("F2")
    rename = page.get_by_label("Rename “Improve margins”")
    rename.fill("Improve operating margin")
    rename.press("Enter")
    saved(page)
    expect(card(page, "Improve operating margin")).to_be_focused()

    # Arrows: three drawn with the mouse, three with the keyboard in the side panel.
    draw_arrow_with_mouse(page, "Build lean skills", "Shorten lead time")
    draw_arrow_with_mouse(page, "Digital tools", "Zero defects")
    draw_arrow_with_mouse(page, "Delight customers", "Grow revenue")
    add_arrow_in_panel(page, "Shorten lead time", "Delight customers", "Customer")
    add_arrow_in_panel(page, "Zero defects", "Delight customers", "Customer")
    add_arrow_in_panel(page, "Win key accounts", "Grow revenue", "Financial")
    expect(page.locator("#strategy-map line.link")).to_have_count(6)
    expect(page.get_by_role("button", name="Remove arrow to Grow revenue")).to_be_visible()

    # A cycle is refused with the reason; the map stays as it was.
    add_arrow_in_panel(page, "Grow revenue", "Build lean skills", "Learning & Growth")
    expect(page.get_by_role("alert")).to_have_text(
        "This arrow would close a cycle: “Build lean skills” already leads back to “Grow revenue”."
    )
    expect(page.locator("#strategy-map line.link")).to_have_count(6)

    # A wrong arrow and a spare objective, removed again: click the arrow and press Delete; Delete on a card.
    page.get_by_role("button", name="Close details").click()
    draw_arrow_with_mouse(page, "Win key accounts", "Improve operating margin")
    expect(page.locator("#strategy-map line.link")).to_have_count(7)
    wrong = CauseEffectLink.objects.for_organization(world.org_a).get(target__name="Improve operating margin")
    line = page.locator(f'#strategy-map line.link[data-link="{wrong.pk}"]')
    x1, y1, x2, y2 = (float(line.get_attribute(a)) for a in ("x1", "y1", "x2", "y2"))
    page.mouse.click(*map_point(page, (x1 + x2) / 2, (y1 + y2) / 2))
    expect(line).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("Delete")
    saved(page)
    expect(page.locator("#strategy-map line.link")).to_have_count(6)
    add_by_button(page, "Customer", "Spare")
    card(page, "Spare").focus()
    page.keyboard.press("Delete")
    saved(page)
    expect(page.locator("#strategy-map .objective")).to_have_count(8)
    screenshot(page, "strategy_map_editor")

    # Details in the side panel: owner, weight, description, an initiative added and edited.
    card(page, "Delight customers").click()
    side = page.locator("#map-panel")
    details = side.locator(".panel-form")
    details.get_by_label("Owner").select_option(label="Executive")
    saved(page)
    details.get_by_label("Weight").fill("2")
    details.get_by_label("Weight").press("Tab")
    saved(page)
    details.get_by_label("Description").fill("Customers recommend us to their peers.")
    details.get_by_label("Description").press("Tab")
    saved(page)
    expect(details.get_by_role("status")).to_have_text("Saved.")
    side.get_by_text("+ New initiative", exact=True).click()
    new = side.get_by_role("form", name="New initiative")
    new.get_by_label("Name").fill("Customer survey")
    new.get_by_label("Owner").select_option(label="Executive")
    new.get_by_label("Start").fill("2025-01-01")
    new.get_by_label("End").fill("2025-03-31")
    new.get_by_label("Status").select_option(label="On track")
    new.get_by_label("Progress").fill("40")
    new.get_by_role("button", name="Add initiative").click()
    saved(page)
    expect(side.locator(".initiatives li")).to_have_count(1)
    side.get_by_role("button", name="Edit initiative Customer survey").click()
    edit = side.get_by_role("form", name="Edit initiative Customer survey")
    edit.get_by_label("Progress").fill("60")
    edit.get_by_role("button", name="Save initiative").click()
    saved(page)
    expect(side.locator(".initiatives li")).to_contain_text("On track · 60% · Executive · 2025-01-01 → 2025-03-31")
    screenshot(page, "strategy_map_panel")
    delight = objective_named(world, "Delight customers")
    assert (delight.owner, str(delight.weight), delight.description) == (
        executive,
        "2.00",
        "Customers recommend us to their peers.",
    )
    assert list(Initiative.objects.for_organization(world.org_a).values_list("name", "status", "progress")) == [
        ("Customer survey", "on_track", 60)
    ]

    # Everything survives a reload.
    page.reload()
    names = sorted(page.locator("#strategy-map .objective").evaluate_all("cards => cards.map(c => c.ariaLabel)"))
    assert names == [
        "Build lean skills",
        "Delight customers",
        "Digital tools",
        "Grow revenue",
        "Improve operating margin",
        "Shorten lead time",
        "Win key accounts",
        "Zero defects",
    ]
    expect(page.locator("#strategy-map line.link")).to_have_count(6)
    body = card(page, "Digital tools").locator(".card-body")
    assert (body.get_attribute("x"), body.get_attribute("y")) == (str(150 + 480), str(3 * 160 + 50))
    pairs = sorted(CauseEffectLink.objects.for_organization(world.org_a).values_list("source__name", "target__name"))
    assert pairs == [
        ("Build lean skills", "Shorten lead time"),
        ("Delight customers", "Grow revenue"),
        ("Digital tools", "Zero defects"),
        ("Shorten lead time", "Delight customers"),
        ("Win key accounts", "Grow revenue"),
        ("Zero defects", "Delight customers"),
    ]

    # The SVG export holds the same map.
    svg = page.request.get(f"/o/acme/map/{world.company_a.pk}.svg").text()
    assert svg.count('class="objective"') == 8
    assert svg.count('class="link"') == 6
    assert f'<rect x="{150 + 480}" y="{3 * 160 + 50}" width="200" height="70"' in svg


def build_company_map(world):
    with organization_scope(world.org_a):
        band = {p.name: p for p in Perspective.objects.filter(scorecard__unit=world.company_a)}
        grow = strategy.objective_create(
            perspective=band["Financial"], name="Grow revenue", x=20, y=45, owner=world.admin_a, weight=2
        )
        delight = strategy.objective_create(
            perspective=band["Customer"], name="Delight customers", x=240, y=45, description="Be recommended."
        )
        lead = strategy.objective_create(perspective=band["Internal Process"], name="Shorten lead time", x=20, y=45)
        strategy.link_create(source=delight, target=grow)
        strategy.link_create(source=lead, target=delight)
        strategy.initiative_create(objective=delight, name="Customer survey", status="on_track", progress=30)
        division_goal = strategy.objective_create(
            perspective=Perspective.objects.get(scorecard__unit=world.division_a, name="Customer"),
            name="Deliver on time",
            aligned_to=delight,
        )
    return {"grow": grow, "delight": delight, "lead": lead, "division_goal": division_goal}


def test_a_viewer_reads_the_map_without_edit_controls(world, page):
    build_company_map(world)
    log_in(page, world.viewer_a.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")

    expect(page.locator("#strategy-map .objective")).to_have_count(3)
    expect(page.locator("#strategy-map line.link")).to_have_count(2)
    assert page.locator(".band-add").count() == 0
    assert page.locator("#strategy-map .connector").count() == 0
    assert page.get_by_role("button", name=re.compile("Add objective")).count() == 0

    card(page, "Delight customers").click()
    side = page.locator("#map-panel")
    expect(side.get_by_role("heading", name="Delight customers")).to_be_visible()
    expect(side.locator(".panel-facts")).to_contain_text("Be recommended.")
    expect(side.locator(".initiatives")).to_contain_text("Customer survey")
    expect(side).to_contain_text("Drives →")
    expect(side.get_by_role("link", name="Deliver on time")).to_have_attribute(
        "href", f"/o/acme/map/{world.division_a.pk}/"
    )
    assert side.locator("input, select, textarea").count() == 0
    assert side.get_by_role("button", name=re.compile("Remove|Delete|Edit|Add")).count() == 0
    screenshot(page, "strategy_map_viewer")

    card(page, "Grow revenue").focus()
    page.keyboard.press("Enter")
    expect(side.get_by_role("heading", name="Grow revenue")).to_be_focused()
    expect(side.locator(".panel-facts")).to_contain_text("Admin of acme")
    card(page, "Grow revenue").focus()
    page.keyboard.press("Delete")  # nothing to delete for a viewer
    page.mouse.move(*centre(card(page, "Shorten lead time")))
    page.mouse.down()
    page.mouse.move(600, 600, steps=5)
    page.mouse.up()
    page.reload()
    expect(page.locator("#strategy-map .objective")).to_have_count(3)
    assert objective_named(world, "Shorten lead time").x == 20

    # On a phone the map scrolls inside its frame; the page itself does not scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    widths = page.evaluate(
        """() => { const canvas = document.getElementById("strategy-map");
        return [document.documentElement.scrollWidth, window.innerWidth, canvas.scrollWidth, canvas.clientWidth]; }"""
    )
    page_width, viewport, map_width, frame = widths
    assert page_width <= viewport and map_width > frame, widths
    screenshot(page, "strategy_map_phone")


# The stale edit is the API's 409, which Chromium logs.
@pytest.mark.allow_console_errors(r"status of 409 \(Conflict\) \(http://[^)]*/api/v1/o/acme/objectives/")
def test_a_stale_edit_is_refused_with_a_message_and_the_map_refreshes(world, member_of_role, page):
    made = build_company_map(world)
    log_in(page, member_of_role(Role.EXECUTIVE).email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(page.locator("#strategy-map .objective")).to_have_count(3)

    with organization_scope(world.org_a):  # someone else edits the map meanwhile
        strategy.objective_update(objective=made["grow"], name="Grow recurring revenue")

    page.get_by_role("button", name="Add objective to Learning & Growth").click()
    page.keyboard.type("Build lean skills")
    page.keyboard.press("Enter")
    saved(page)

    expect(page.get_by_role("alert")).to_have_text(STALE)
    expect(card(page, "Grow recurring revenue")).to_have_count(1)  # the other person's change is shown
    expect(card(page, "Build lean skills")).to_have_count(0)
    assert not Objective.objects.for_organization(world.org_a).filter(name="Build lean skills").exists()

    add_by_button(page, "Learning & Growth", "Build lean skills")  # redone against the fresh map
    expect(page.get_by_role("alert")).to_have_count(0)
    assert Objective.objects.for_organization(world.org_a).filter(name="Build lean skills").count() == 1


def test_an_empty_department_map_starts_as_a_copy_of_its_parent(world, member_of_role, page):
    made = build_company_map(world)
    log_in(page, member_of_role(Role.EXECUTIVE).email)
    page.goto(f"/o/acme/map/{world.department_a.pk}/")

    page.get_by_role("button", name="Copy parent map").click()
    saved(page)

    expect(card(page, "Deliver on time")).to_have_count(1)
    expect(page.get_by_role("button", name="Copy parent map")).to_have_count(0)
    card(page, "Deliver on time").click()
    expect(page.locator("#map-panel").get_by_label("Aligned to")).to_have_value(str(made["division_goal"].pk))
