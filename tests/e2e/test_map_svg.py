"""The strategy map's SVG in a real browser, for a unit and an objective named to break out of an attribute: an
admin who opens the map page, its SVG link or the downloaded file sees no script run (no dialog)."""

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from bsc import services, strategy
from bsc.models import Perspective
from bsc.tenancy import organization_scope
from tests.conftest import SCREENSHOTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAYLOAD = 'x" onload="alert(1)" y="'


def test_a_unit_named_to_break_out_of_the_svg_runs_no_script_for_an_admin(world, page, tmp_path):
    with organization_scope(world.org_a):
        services.org_unit_update(unit=world.company_a, name=PAYLOAD)
        band = Perspective.objects.get(scorecard__unit=world.company_a, name="Customer")
        strategy.objective_create(perspective=band, name=PAYLOAD)
    dialogs = []

    def record(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    log_in(page, world.admin_a.email)
    page.goto(f"/o/acme/map/{world.company_a.pk}/")
    expect(page.locator("#strategy-map .objective")).to_have_count(1)

    # The SVG's own URL is a download, never a document the browser shows.
    with page.expect_download() as clicked:
        page.get_by_role("link", name="Download SVG").click()
    with page.expect_download() as opened, pytest.raises(PlaywrightError, match="Download is starting"):
        page.goto(f"/o/acme/map/{world.company_a.pk}.svg")
    assert opened.value.suggested_filename == clicked.value.suggested_filename == "strategy-map-x-onloadalert1-y.svg"

    # Opened from disk (no headers, no Content-Security-Policy), the file shows the name and runs nothing.
    saved = tmp_path / "map.svg"
    opened.value.save_as(saved)
    page.goto(saved.as_uri())
    expect(page.locator("svg")).to_have_attribute("aria-label", f"{PAYLOAD}: strategy map")
    expect(page.locator("svg > text").first).to_have_text(f"{PAYLOAD}: strategy map")
    page.wait_for_timeout(300)  # an onload handler would have run by now
    page.screenshot(path=str(SCREENSHOTS / "strategy_map_svg_file.png"))  # full_page times out on an SVG document
    assert dialogs == []
