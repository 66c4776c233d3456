"""A department head, in a real browser, uploads a file of mixed good and bad rows, reads the preview and
imports the valid rows."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from bsc.models import Role
from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import Measurement
from tests import factories
from tests.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FILE = """kpi code,period,value,comment
OTD,2026-01,92.5,Two late trucks
OTD,2026-02,91,
SCRAP,2026-01,1.8,
SCRAP,2026-02,n/a,Machine down
NOPE,2026-02,4,
REV,2026-02,1000,
OTD,2026-13,90,
"""


def test_a_department_head_imports_the_valid_rows_of_a_mixed_file(world, page):
    head = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user
    with organization_scope(world.org_a):
        otd = services.kpi_create(unit=world.department_a, name="On-time delivery", code="OTD", baseline=Decimal(80))
        services.kpi_create(unit=world.department_a, name="Scrap rate", code="SCRAP", baseline=Decimal(5))
        services.kpi_create(unit=world.company_a, name="Revenue", code="REV", baseline=Decimal(0))
        services.measurement_record(
            kpi=otd, period=date(2026, 1, 1), value=Decimal(90), by=world.admin_a, schedule=False
        )
    log_in(page, head.email)
    page.goto(f"/o/{world.org_a.slug}/kpis/")
    page.get_by_role("link", name="Import values").click()
    screenshot(page, "import_upload")
    page.get_by_label("File (.csv or .xlsx)").set_input_files(
        {"name": "march.csv", "mimeType": "text/csv", "buffer": FILE.encode()}
    )
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", name="Import of march.csv")).to_be_visible()
    problems = page.locator("#import-problems tbody tr")
    assert [" ".join(text.split()) for text in problems.all_inner_texts()] == [
        "5 SCRAP 2026-02 n/a “n/a” is not a number.",
        "6 NOPE 2026-02 4 Unknown KPI code “NOPE”.",
        f"7 REV 2026-02 1000 You may not enter values for REV of {world.company_a.name}.",
        "8 OTD 2026-13 90 “2026-13” is not a period; write it as YYYY-MM, e.g. 2026-03.",
    ]
    assert " ".join(page.locator("#import-counts").inner_text().split()) == (
        "3 valid rows (of which 1 changes an existing value), 4 rows with problems."
    )
    with organization_scope(world.org_a):
        assert Measurement.objects.count() == 1
    screenshot(page, "import_preview")

    page.get_by_role("button", name="Import the 3 valid rows").click()
    expect(page.get_by_role("status").filter(has_text="Imported")).to_have_text(
        "Imported 3 rows (1 changed an existing value). Scores are being recomputed."
    )
    screenshot(page, "import_done")
    with organization_scope(world.org_a):
        assert sorted(
            (m.kpi.code, f"{m.period:%Y-%m}", m.value) for m in Measurement.objects.select_related("kpi")
        ) == [
            ("OTD", "2026-01", Decimal("92.5")),
            ("OTD", "2026-02", Decimal(91)),
            ("SCRAP", "2026-01", Decimal("1.8")),
        ]
