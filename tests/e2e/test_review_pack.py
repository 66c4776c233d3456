"""An executive, in a real browser, asks for the review pack of the month, watches its progress bar while a real
Celery worker makes it, and downloads the PDF; its pages are saved as PNGs with the screenshots
(tests/screenshots/review_pack_p1.png …) to be looked at as the board would."""

from pathlib import Path

import pytest

from bsc.models import Role
from tests import factories
from tests.a11y import assert_accessible, page_width_problem
from tests.conftest import log_in, screenshot
from tests.integration.test_review_packs import pdf_pages, pdf_to_screenshots
from tests.review_pack_data import acme_review_pack_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_executive_makes_the_pack_watches_it_and_downloads_the_pdf(world, open_page, celery_worker_process):
    acme_review_pack_world(world)
    executive = factories.add_member(world.org_a, Role.EXECUTIVE).user
    page = open_page()
    log_in(page, executive.email)
    page.goto("/o/acme/coaching/")
    page.get_by_role("link", name="Review packs").click()
    page.get_by_label("Unit").select_option(label="Acme Manufacturing")
    page.get_by_label("Period", exact=True).select_option("month")
    page.get_by_label("Starting with").fill("2026-10")
    screenshot(page, "review_packs_form")
    page.get_by_role("button", name="Make the pack").click()
    page.get_by_text("The review pack of Acme Manufacturing, Oct 2026 is being made").wait_for()
    row = page.locator("#pack-table tbody tr").first
    # The bar is polled while the worker makes the pack, then the links replace it without a reload.
    pdf = row.get_by_role("link", name="PDF")
    pdf.wait_for(timeout=90_000)
    assert "Ready" in row.inner_text() and "pages" in row.inner_text()
    screenshot(page, "review_packs_ready")
    assert_accessible(page, "review packs")
    with page.expect_download() as download:
        pdf.click()
    path = download.value.path()
    assert download.value.suggested_filename == "review-pack-acme-manufacturing-month-2026-10.pdf"
    data = Path(path).read_bytes()
    pages = pdf_pages(data)
    assert pages >= 6
    saved = pdf_to_screenshots(data, "review_pack")
    assert len(saved) == pages

    phone = open_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    log_in(phone, executive.email)
    phone.goto("/o/acme/review-packs/")
    phone.get_by_role("link", name="PDF").wait_for()
    assert not page_width_problem(phone, 390)
    screenshot(phone, "review_packs_phone")
    assert_accessible(phone, "review packs on a phone")
