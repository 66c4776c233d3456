"""An admin, in a real browser, adds a unit, invites a department head for it and reviews the settings."""

import pytest
from playwright.sync_api import expect

from bsc.models import Invitation, OrgUnit, Role
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_admin_adds_a_unit_and_invites_its_head(world, page):
    log_in(page, world.admin_a.email)
    page.get_by_role("link", name="Acme Manufacturing").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page.get_by_role("heading", name="Members", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=world.viewer_a.email)).to_be_visible()
    screenshot(page, "admin_members")

    tabs = page.get_by_role("navigation", name="Organization admin")
    tabs.get_by_role("link", name="Units").click()
    page.get_by_label("Name").fill("Quality")
    page.get_by_label("Parent unit").select_option(str(world.division_a.pk))
    page.get_by_label("Head").select_option(label=f"Admin of acme ({world.admin_a.email})")
    page.get_by_role("button", name="Add unit").click()
    expect(page.get_by_role("status")).to_have_text("Unit “Quality” added under “Operations”.")
    assert page.locator(".tree .unit-name").all_inner_texts() == [
        "Acme Manufacturing",
        "Operations",
        "Assembly",
        "Quality",
    ]
    screenshot(page, "admin_units")
    quality = OrgUnit.objects.for_organization(world.org_a).get(name="Quality")
    assert (quality.parent_id, quality.head_id) == (world.division_a.pk, world.admin_a.pk)

    page.get_by_role("link", name="Operations").click()
    page.get_by_role("button", name="Delete “Operations”").click()
    expect(page.get_by_role("alert")).to_have_text(
        "“Operations” cannot be deleted: it has 2 sub-units; move or delete them first."
    )
    screenshot(page, "admin_unit_edit")

    tabs.get_by_role("link", name="Invitations").click()
    page.get_by_label("Email").fill("quinn@example.com")
    page.get_by_label("Role").select_option(label="Department head")
    page.get_by_role("checkbox", name="Quality").check()
    page.get_by_label("Email").press("Enter")  # the keyboard submits the form
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_have_text("Invitation sent to quinn@example.com.")
    row = page.get_by_role("row", name="quinn@example.com")
    assert "Department head" in row.inner_text() and "Quality" in row.inner_text()
    screenshot(page, "admin_invitations")
    invitation = Invitation.objects.for_organization(world.org_a).get()
    assert (invitation.email, invitation.role) == ("quinn@example.com", Role.DEPARTMENT_HEAD)

    tabs.get_by_role("link", name="Members").click()
    page.get_by_role("link", name=f"Edit {world.admin_a.display_name}").click()
    page.get_by_label("Role", exact=True).select_option(label="Viewer")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_role_error")).to_have_text(
        "The organization needs at least one admin; make someone else admin first."
    )
    screenshot(page, "admin_member_edit")

    tabs.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Green at or above (%)")).to_have_value("90")
    screenshot(page, "admin_settings")
    page.get_by_label("Amber at or above (%)").fill("95")
    page.get_by_role("button", name="Save settings").click()
    error = page.locator("#id_amber_threshold_error")
    assert error.inner_text() == "The amber threshold must be below the green threshold (90%)."
    screenshot(page, "admin_settings_error")


def test_on_a_phone_the_members_are_cards_with_every_column_in_sight(world, page):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, world.admin_a.email)
    page.goto(f"/o/{world.org_a.slug}/admin/members/")
    viewer_card = page.locator("table.admin-table tbody tr").filter(has_text=world.viewer_a.email)
    role = viewer_card.locator("td[data-label='Role']")
    assert role.inner_text() == "Viewer"
    box = role.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390  # the role is on screen, not past a sideways scroll
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    assert page.evaluate(
        "document.querySelector('.table-wrap').scrollWidth <= document.querySelector('.table-wrap').clientWidth"
    )
    screenshot(page, "admin_members_phone")
