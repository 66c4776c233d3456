"""A new person accepts an invitation in a real browser, creates an API token, logs out and back in."""

import re

import pytest
from playwright.sync_api import expect

from bsc import services
from bsc.models import Role
from bsc.tenancy import organization_scope
from tests.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_new_person_joins_by_invitation_and_creates_an_api_token(world, page):
    with organization_scope(world.org_a):
        _, token = services.invitation_create(
            organization=world.org_a,
            email="dana.head@example.com",
            role=Role.DEPARTMENT_HEAD,
            units=[world.department_a],
            invited_by=world.admin_a,
        )

    page.goto(f"/accounts/invitations/{token}/")
    expect(page.get_by_role("heading", name="Join Acme Manufacturing")).to_be_visible()
    expect(page.get_by_text("Admin of acme invited dana.head@example.com to join Acme Manufacturing")).to_be_visible()
    page.get_by_label("Your name").fill("Dana Head")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Join Acme Manufacturing").click()
    expect(page.get_by_text("This password is too short. It must contain at least 8 characters.")).to_be_visible()
    # The keyboard alone completes the form: labels lead to the fields, Enter submits.
    page.get_by_label("Password", exact=True).fill("orbit-lantern-57")
    page.keyboard.press("Tab")
    page.keyboard.type("orbit-lantern-57")
    screenshot(page, "invitation_accept")
    page.keyboard.press("Enter")

    page.wait_for_url("**/o/acme/")
    assert page.get_by_role("status").inner_text() == "Welcome to Acme Manufacturing."
    expect(page.get_by_role("heading", name="Acme Manufacturing")).to_be_visible()

    page.get_by_text("Dana Head", exact=True).click()  # the account menu
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Token name").fill("Monthly import")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"bsc_[\w-]{40}", key)
    expect(page.get_by_text("Copy it now: it won't be shown again.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Monthly import"))
    expect(row.get_by_role("cell", name=f"{key[:8]}…")).to_be_visible()
    expect(row.get_by_role("cell", name="Never")).to_be_visible()
    screenshot(page, "personal_tokens")

    page.get_by_text("Dana Head", exact=True).click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")
    page.get_by_label("Email").fill("Dana.Head@example.com")
    page.get_by_label("Password").fill("orbit-lantern-57")
    screenshot(page, "login")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/o/acme/")  # their only organization
    assert "You are department head here, responsible for Assembly" in page.locator("main").inner_text()
    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome, Dana Head")).to_be_visible()
    card = page.locator(".card", has_text="Acme Manufacturing")
    expect(card.get_by_text("Your role: Department head")).to_be_visible()
    assert "Assembly" in card.inner_text()  # the unit the invitation scoped them to
