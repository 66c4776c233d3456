"""A department head, in a real browser, adds a PDF to a KPI value on the KPI page and opens it; a renamed program is
refused with a message; the panel on a phone (screenshots evidence_files-*.png)."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc.org_calendar import month_shift, this_month
from bsc.tenancy import organization_scope
from kpis import services
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.dates, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def test_a_department_head_adds_a_pdf_to_a_value_and_opens_it(world, open_page):
    hugo = factories.hugo_head(world)
    month = month_shift(this_month(world.org_a), -1)
    with organization_scope(world.org_a):
        kpi = services.kpi_create(unit=world.division_a, code="OTD", name="On-time delivery", baseline=Decimal(80))
        services.measurement_record(kpi=kpi, period=month, value=Decimal(71), by=hugo, schedule=False)
    label = f"{date(month.year, month.month, 1):%b %Y}"

    page = open_page()
    log_in(page, hugo.email)
    page.goto(f"/o/acme/kpis/{kpi.pk}/")
    row = page.locator("table.kpi-values tbody tr", has=page.get_by_role("rowheader", name=label))
    row.get_by_text("Files").click()
    panel = row.locator(".evidence-panel")
    expect(panel.get_by_text("No files yet.")).to_be_visible()

    panel.get_by_label("Add a file").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": EXE}
    )
    panel.get_by_role("button", name="Add file").click()
    expect(row.locator(".evidence-panel .error")).to_contain_text("“report.pdf” is not what its name says")

    panel = row.locator(".evidence-panel")
    panel.get_by_label("Add a file").set_input_files(
        {"name": "Line 3 audit.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    panel.get_by_role("button", name="Add file").click()
    link = row.get_by_role("link", name="Line 3 audit.pdf")
    expect(link).to_be_visible()
    expect(row.locator(".evidence-meta")).to_contain_text("PDF, 77\u00a0bytes · Hugo Head")
    screenshot(page, "evidence_files-kpi-desktop")

    with page.expect_download() as caught:
        link.click()
    download = caught.value
    assert download.suggested_filename == "Line 3 audit.pdf"
    with open(download.path(), "rb") as handle:
        assert handle.read() == PDF

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log_in(phone, hugo.email)
    phone.goto(f"/o/acme/kpis/{kpi.pk}/")
    row = phone.locator("table.kpi-values tbody tr", has=phone.get_by_role("rowheader", name=label))
    row.get_by_text("Files").click()
    expect(row.get_by_role("link", name="Line 3 audit.pdf")).to_be_visible()
    row.scroll_into_view_if_needed()
    screenshot(phone, "evidence_files-kpi-phone")
