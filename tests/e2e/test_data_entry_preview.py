"""The data-entry status preview under fast typing: a preview still on its way when the next one is due is not
aborted (htmx logged every aborted request as a console error) but followed by one request for the latest value,
whose status is the one shown; leaving the page by "Save all" while a preview is on its way saves and logs no
error. The status requests are held back by the test, so the overlap happens every time, not by chance."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc.tenancy import organization_scope
from kpis import services
from kpis.data_entry import due_month
from kpis.models import Measurement
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

STATUS_REQUESTS = "**/data-entry/*/status/**"


@pytest.fixture
def otd(world):
    """On-time delivery, baseline 80 % and target 100 %: 20 is red, 96 amber, 100 green."""
    month = due_month(world.org_a)
    with organization_scope(world.org_a):
        kpi = services.kpi_create(
            unit=world.company_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
        )
        services.target_create(kpi=kpi, period=month, value=Decimal(100))
    return kpi


class HeldPreviews:
    """Holds the first status request back until released; lets the others through. Records each one's value."""

    def __init__(self, page, kpi):
        self.page, self.kpi, self.held, self.values = page, kpi, [], []
        page.route(STATUS_REQUESTS, self.handle)

    def handle(self, route):
        self.values.append(parse_qs(urlsplit(route.request.url).query)[f"value-{self.kpi.pk}"][0])
        if len(self.values) == 1:
            self.held.append(route)
        else:
            route.continue_()

    def wait_until_held(self):
        for _ in range(100):  # the page's event loop runs while Playwright waits, not during time.sleep
            if self.held:
                return
            self.page.wait_for_timeout(50)
        raise AssertionError("no status preview was requested")


@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
def test_typing_on_while_a_preview_is_on_its_way_shows_the_last_values_status(world, open_page, otd, viewport):
    page = open_page(viewport=viewport)
    log_in(page, world.admin_a.email)
    page.goto(reverse("data_entry", args=["acme"]))
    previews = HeldPreviews(page, otd)
    status = page.locator(f"#status-{otd.pk}")
    value = page.get_by_label("Value of OTD On-time delivery")

    value.click()
    page.keyboard.type("20")
    previews.wait_until_held()  # the preview of 20 is on its way (held) ...
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("96")  # ... while the person types on: the next preview is due after 400 ms
    page.wait_for_timeout(600)
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("100")
    page.wait_for_timeout(600)
    assert previews.values == ["20"]  # waiting behind the first: nothing sent, nothing aborted
    previews.held.pop().continue_()

    expect(status).to_contain_text("On track")  # the last value's status wins over the first answer's
    expect(status).not_to_contain_text("Off track")
    assert previews.values == ["20", "100"]  # one request for the latest value; the intermediate 96 skipped
    screenshot(page, f"data_entry_preview_typed_on_{'phone' if viewport['width'] < 600 else 'desktop'}")
    # The open_page fixture fails the test on any console error (htmx logged an aborted one as such).


def test_save_all_while_a_preview_is_on_its_way_saves_without_errors(world, page, otd):
    log_in(page, world.admin_a.email)
    page.goto(reverse("data_entry", args=["acme"]))
    previews = HeldPreviews(page, otd)
    page.get_by_label("Value of OTD On-time delivery").click()
    page.keyboard.type("96")
    previews.wait_until_held()

    page.get_by_role("button", name="Save all").click()  # leaves the page with the preview still on its way
    expect(page.get_by_role("status")).to_contain_text("Saved 1 value")
    expect(page.locator(f"#status-{otd.pk}")).to_contain_text("At risk")
    with organization_scope(world.org_a):
        assert Measurement.objects.get(kpi=otd).value == Decimal(96)
    page.unroute_all(behavior="ignoreErrors")
