"""The KPI's approver in a real browser: an executive names the head of Operations approver of an Assembly KPI on
the KPI form (the list offers only members who may enter the unit's values), saves, and finds it chosen again on a
phone."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import Kpi
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_executive_names_the_approver_on_the_kpi_form(world, open_page):
    executive = factories.add_member(
        world.org_a, Role.EXECUTIVE, user=factories.make_user("eve@acme.test", full_name="Eve Exec")
    ).user
    hugo = factories.hugo_head(world)
    factories.carla_coach(world)
    with organization_scope(world.org_a):
        otd = services.kpi_create(
            unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80), owner=executive
        )

    page = open_page(viewport={"width": 1280, "height": 800})
    log_in(page, executive.email)
    page.goto(f"/o/acme/kpis/{otd.pk}/edit/")
    approver = page.get_by_label("Approver")
    expect(approver.locator("option")).to_have_text(
        ["The owner", f"{world.admin_a.full_name} ({world.admin_a.email})" if world.admin_a.full_name
         else world.admin_a.email, "Eve Exec (eve@acme.test)", "Hugo Head (hugo@acme.example.com)"]
    )  # fmt: skip
    approver.select_option(label="Hugo Head (hugo@acme.example.com)")
    approver.scroll_into_view_if_needed()
    screenshot(page, "kpi_form-approver")
    page.get_by_role("button", name="Save KPI").click()
    expect(page.get_by_text("KPI OTD “On-time delivery” saved.")).to_be_visible()
    with organization_scope(world.org_a):
        assert Kpi.objects.get(pk=otd.pk).approver_id == hugo.pk

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, executive.email)
    phone.goto(f"/o/acme/kpis/{otd.pk}/edit/")
    chosen = phone.get_by_label("Approver")
    expect(chosen).to_have_value(str(hugo.pk))
    chosen.scroll_into_view_if_needed()
    screenshot(phone, "kpi_form-approver-phone")
