"""A department head fills the month's data-entry page with the keyboard only, sees the status lights
update before saving, saves all, and finds the values (and the worker's scores) on the KPI and scorecard
pages."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.data_entry import due_month
from kpis.models import KpiScore, Measurement
from tests import factories
from tests.conftest import log_in, screenshot, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_department_head_fills_the_month_with_the_keyboard(world, open_page, celery_worker_process):
    page = open_page(viewport={"width": 1280, "height": 800})
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user
    month = due_month(world.org_a)
    with organization_scope(world.org_a):
        nps = services.kpi_create(
            unit=world.company_a, name="Net promoter score", code="NPS", baseline=Decimal(0), owner=head
        )
        otd = services.kpi_create(
            unit=world.division_a, name="On-time delivery", code="OTD", baseline=Decimal(80), measurement_unit="%"
        )
        scr = services.kpi_create(
            unit=world.department_a, name="Scrap rate", code="SCR", baseline=Decimal(10), direction="decrease",
            measurement_unit="%", decimals=2,
        )  # fmt: skip
        services.kpi_create(unit=world.company_a, name="Revenue", code="REV", baseline=Decimal(0))  # not theirs
        for kpi, target in ((nps, 50), (otd, 100), (scr, 5)):
            services.target_create(kpi=kpi, period=month, value=Decimal(target))

    log_in(page, head.email)
    page.goto(reverse("data_entry", args=["acme"]))
    label = f"{month:%B %Y}"
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Data entry · {label}")
    expect(page.locator("#entry-summary")).to_have_text(f"3 of 3 KPIs still need a value for {label}.")
    assert page.locator(".entry-row.missing").count() == 3
    assert page.locator(".kpi-code").all_inner_texts() == ["NPS", "OTD", "SCR"]

    def status(kpi):
        return page.locator(f"#status-{kpi.pk}")

    page.get_by_label("Value of NPS Net promoter score").focus()  # the first cell; from here only keys
    page.keyboard.type("20")
    expect(status(nps)).to_contain_text("Off track")
    expect(status(nps)).to_contain_text("Give the cause of the red value.")
    page.keyboard.press("Tab")
    cause = page.get_by_label("Cause of the value of NPS Net promoter score")  # a red value's comment is its cause
    expect(cause).to_be_focused()
    page.keyboard.type("Survey delayed")
    expect(status(nps)).not_to_contain_text("Give the cause of the red value.")  # the comment explains it
    # A red value needs an action item too (tests/e2e/test_explain_red.py): NPS is of the company, outside the head's
    # units, so its owner is chosen among those who may own the company's items.
    page.locator(f"select[name='action_owner-{nps.pk}']").select_option(label="Admin of acme")
    cause.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Value of OTD On-time delivery")).to_be_focused()
    page.keyboard.type("96")
    expect(status(otd)).to_contain_text("At risk")
    expect(status(otd)).to_contain_text("80%")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Value of SCR Scrap rate")).to_be_focused()
    page.keyboard.type("4.5")
    expect(status(scr)).to_contain_text("On track")
    page.keyboard.press("Tab")  # leaving the cell refreshes the preview too
    page.keyboard.type("Best month this year")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Save all")).to_be_focused()
    assert Measurement.objects.for_organization(world.org_a).count() == 0  # nothing saved before the save
    screenshot(page, "data_entry")

    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_have_text(f"Saved 3 values for {label}.")
    expect(page.locator("#entry-summary")).to_have_text(f"All 3 KPIs have a value for {label}.")
    assert page.locator(".entry-row.missing").count() == 0
    expect(page.get_by_label("Value of OTD On-time delivery")).to_have_value("96")
    expect(page.get_by_label("Cause of the value of NPS Net promoter score")).to_have_value("Survey delayed")
    screenshot(page, "data_entry_saved")

    # The decimal separator switch converts the shown values and sends ONE request for the whole page (it keeps
    # the person's choice and answers every row's preview), not one per row.
    requests = []
    page.on("request", lambda request: requests.append((request.method, request.url)))
    separator_url = reverse("data_entry_separator", args=["acme"])
    with page.expect_response(lambda response: response.url.endswith(separator_url)) as answer:
        page.get_by_label("Decimal separator").select_option(",")
    assert answer.value.ok
    expect(page.get_by_label("Value of SCR Scrap rate")).to_have_value("4,5")
    expect(status(scr)).to_contain_text("On track")  # the previews, swapped from that one answer
    page.wait_for_timeout(600)  # longer than a preview's typing delay: a late request would show here
    assert requests == [("POST", answer.value.url)]
    head.refresh_from_db()
    assert head.decimal_separator == ","

    # It is the person's setting: another browser (a phone), after logging in again, shows and reads with it.
    other = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(other, head.email)
    other.goto(reverse("data_entry", args=["acme"]))
    expect(other.get_by_label("Decimal separator")).to_have_value(",")
    expect(other.get_by_label("Value of SCR Scrap rate")).to_have_value("4,5")
    expect(other.locator(f"#status-{scr.pk}")).to_contain_text("On track")
    screenshot(other, "data_entry_comma_phone")
    other.close()
    stored = {
        m.kpi.code: (m.value, m.comment, m.entered_by_id)
        for m in Measurement.objects.for_organization(world.org_a).select_related("kpi").filter(period=month)
    }
    assert stored == {
        "NPS": (Decimal(20), "Survey delayed", head.pk),
        "OTD": (Decimal(96), "", head.pk),
        "SCR": (Decimal("4.5"), "Best month this year", head.pk),
    }

    # A row's own Save button (htmx swaps the row): a point is refused once the comma is chosen.
    page.get_by_label("Value of OTD On-time delivery").focus()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("97.5")
    expect(status(otd)).to_contain_text("“97.5” uses '.' but your decimal separator is ','.")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save OTD")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(f"#errors-{otd.pk}")).to_have_text("OTD: “97.5” uses '.' but your decimal separator is ','.")
    expect(page.locator(f"#entry-{otd.pk}")).to_have_class("entry-row row-invalid")  # settled after the swap
    screenshot(page, "data_entry_row_error")
    page.get_by_label("Value of OTD On-time delivery").focus()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.type("97,5")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(f"#entry-{otd.pk} .badge-saved")).to_have_text("saved")
    expect(page.get_by_role("status")).to_have_text(f"Saved OTD for {label}.")
    assert Measurement.objects.for_organization(world.org_a).get(kpi=otd, period=month).value == Decimal("97.5")

    def scores():  # setting the targets already stored grey scores; wait for the ones with the values
        rows = dict(
            KpiScore.objects.for_organization(world.org_a)
            .filter(period_kind="month", period=month, kpi__in=[nps, otd, scr], actual__isnull=False)
            .values_list("kpi__code", "status")
        )
        return rows if len(rows) == 3 else None

    assert wait_for(scores, timeout=60, message="the worker to store the KPI scores") == {
        "NPS": "red",
        "OTD": "amber",  # 97.5: (97.5 - 80) / 20 = 0.875
        "SCR": "green",
    }

    page.goto(f"{reverse('kpi_detail', args=['acme', otd.pk])}")
    values_row = page.locator("table.kpi-values tbody tr", has_text=f"{month:%b %Y}")
    expect(values_row).to_contain_text("97.5%")
    expect(values_row).to_contain_text("At risk")
    page.goto(f"{reverse('scorecard_detail', args=['acme', world.department_a.pk])}?period={month:%Y-%m}")
    expect(page.locator("tr", has_text="Scrap rate")).to_contain_text("4.50%")
    expect(page.locator("tr", has_text="Scrap rate")).to_contain_text("On track")
