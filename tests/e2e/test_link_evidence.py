"""The evidence table of a map's links in a real browser, at 1280x800 and 390x844: a strong link and one without
data, each in words, with the caution."""

from datetime import UTC, datetime

import pytest
import time_machine
from playwright.sync_api import expect

from kpis import tasks
from tests.conftest import log_in, screenshot
from tests.integration.test_link_evidence import linked  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("name", "viewport"), [("desktop", (1280, 800)), ("phone", (390, 844))])
def test_the_evidence_table_reads_in_words(linked, open_page, name, viewport):  # noqa: F811
    world, strong, empty = linked
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        tasks.link_evidence_refresh(organization_id=world.org_a.pk)
        page = open_page(viewport={"width": viewport[0], "height": viewport[1]})
        log_in(page, world.viewer_a.email)
        page.goto(f"/o/acme/map/{world.company_a.pk}/evidence/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Evidence for the links of Acme Manufacturing's map")
        row = page.locator(f"#link-{strong.pk}")
        expect(row).to_contain_text(
            "Strong: the effect moved with the cause 1 month later (rho +1.00, 22 paired months)."
        )
        expect(row.locator("td").nth(4)).to_have_text("1.00")
        expect(page.locator(f"#link-{empty.pk}")).to_contain_text("No data to compare")
        expect(page.locator("#evidence-caution")).to_contain_text("Correlation is not proof of cause")
        screenshot(page, f"link_evidence_{name}")


@pytest.mark.parametrize(("name", "viewport"), [("desktop", (1280, 800)), ("phone", (390, 844))])
def test_the_map_shows_the_evidence_on_its_arrows_when_switched_on(linked, open_page, name, viewport):  # noqa: F811
    world, strong, empty = linked
    with time_machine.travel(datetime(2026, 11, 18, 10, 30, tzinfo=UTC), tick=True):
        tasks.link_evidence_refresh(organization_id=world.org_a.pk)
        page = open_page(viewport={"width": viewport[0], "height": viewport[1]})
        log_in(page, world.admin_a.email)
        page.goto(f"/o/acme/map/{world.company_a.pk}/")
        legend = page.locator("#map-evidence-legend")
        expect(legend).to_be_hidden()
        strong_line = page.locator(f'#strategy-map line.link[data-link="{strong.pk}"]')
        expect(strong_line).to_have_class("link evidence-strong")
        assert strong_line.evaluate("line => getComputedStyle(line).strokeWidth") == "2px"  # off: as before
        page.get_by_label("Show the evidence for the arrows").check()
        expect(legend).to_be_visible()
        assert strong_line.evaluate("line => getComputedStyle(line).strokeWidth") == "5px"
        empty_line = page.locator(f'#strategy-map line.link[data-link="{empty.pk}"]')
        assert empty_line.evaluate("line => getComputedStyle(line).strokeDasharray") == "1px, 6px"
        screenshot(page, f"strategy_map_evidence_{name}")
        legend.get_by_role("link", name="Evidence for each arrow, in words").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Evidence for the links of Acme Manufacturing's map")
        page.go_back()
        page.get_by_label("Show the evidence for the arrows").uncheck()
        expect(legend).to_be_hidden()
