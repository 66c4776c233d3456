"""Review packs (issue 16): a pack for a unit and period made by a real Celery worker, its PDF's pages and its
spreadsheet's cells against the stored scores; a second request while one is being made gets the first; bad
input (a period outside the data, another organization's unit, a unit without a map) refused with its reason and
nothing made; a failed build ends failed with the reason; roles; the page and the API."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bsc.tenancy import organization_scope
from coaching import review_packs
from coaching.models import ReviewPack
from kpis.models import KpiScore, PerspectiveScore, ScorecardScore
from kpis.scorecard_display import percent
from tests.conftest import SCREENSHOTS
from tests.review_pack_data import FORMULA_COMMENT, OCTOBER, review_pack_world

API = "/api/v1/o/acme/"


@pytest.fixture
def pack_world(world):
    return review_pack_world(
        organization=world.org_a, unit=world.company_a, sub_units=[world.division_a, world.department_a],
        admin=world.admin_a,
    )  # fmt: skip


def pdf_pages(data: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    return int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])


def pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def pdf_to_screenshots(data: bytes, name: str) -> list[Path]:
    """The PDF's pages as PNGs under tests/screenshots/ (name_p1.png …), to look at as the board would."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}_p*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-", str(SCREENSHOTS / f"{name}_p")], input=data, check=True)
    pages = sorted(SCREENSHOTS.glob(f"{name}_p-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    for number, path in enumerate(pages, start=1):
        path.rename(SCREENSHOTS / f"{name}_p{number}.png")
    return [SCREENSHOTS / f"{name}_p{n}.png" for n in range(1, len(pages) + 1)]


def request_pack(world, unit=None, *, kind="month", period=OCTOBER, by=None):
    with organization_scope(world.org_a):
        return review_packs.review_pack_request(
            organization=world.org_a, unit=unit or world.company_a, kind=kind, period=period, by=by or world.admin_a
        )


def build(world, pack) -> ReviewPack:
    with organization_scope(world.org_a):
        return review_packs.review_pack_build(organization=world.org_a, pack_id=pack.pk)


def test_a_pack_holds_every_section_with_the_stored_figures(world, pack_world):
    pack = build(world, request_pack(world).pack)
    assert (pack.status, pack.progress, pack.error) == ("done", 100, "")
    assert pack.pdf_pages == pdf_pages(bytes(pack.pdf)) >= 6
    text = pdf_text(bytes(pack.pdf))
    pdf_to_screenshots(bytes(pack.pdf), "review_pack_integration")
    for heading in ("1. Strategy map", "2. Scorecard", "3. Sub-units", "4. Red and amber KPIs",
                    "5. Open action items", "6. The coach's last notes", "7. Accountability"):  # fmt: skip
        assert heading in text
    assert "Page 2 of" in text and "Oct 2026" in text
    assert "Call the supplier" in text and "Supplier lead times." in text
    assert "Behind plan on measure 2: supplier late." in text

    book = load_workbook(io.BytesIO(bytes(pack.xlsx)))
    assert book.sheetnames == ["Summary", "Scorecard", "Sub-units", "Red and amber KPIs", "Open action items",
                               "Coaching notes", "Accountability"]  # fmt: skip
    with organization_scope(world.org_a):
        stored = {
            s.kpi.code: s
            for s in KpiScore.objects.filter(
                kpi__unit=world.company_a, period_kind="month", period=OCTOBER
            ).select_related("kpi")
        }
        card = ScorecardScore.objects.get(scorecard__unit=world.company_a, period_kind="month", period=OCTOBER)
        division = PerspectiveScore.objects.filter(
            perspective__scorecard__unit=world.division_a, period_kind="month", period=OCTOBER, score__isnull=False
        ).get()
    assert book["Summary"]["B5"].value == percent(card.score)
    kpi_rows = [row for row in book["Scorecard"].iter_rows(min_row=2, values_only=True) if row[2]]
    assert len(kpi_rows) == 20
    for row in kpi_rows:
        assert row[6] == percent(stored[row[2]].score if row[2] in stored else None)
    red_amber = list(book["Red and amber KPIs"].iter_rows(min_row=2, values_only=True))
    expected = sorted(code for code, s in stored.items() if s.status in ("red", "amber"))
    assert sorted(row[1] for row in red_amber) == expected and len(expected) == 10
    assert [row[0] for row in red_amber] == sorted((row[0] for row in red_amber), key=["Off track", "At risk"].index)
    formula_row = next(row for row in red_amber if row[1] == "K003")
    assert formula_row[8] == "'" + FORMULA_COMMENT  # neutralised, and a string cell
    assert book["Red and amber KPIs"]["I2"].data_type == "s"
    sub_units = {row[0]: row for row in book["Sub-units"].iter_rows(min_row=2, values_only=True)}
    assert list(sub_units) == ["Operations", "Assembly"]
    columns = [cell.value for cell in book["Sub-units"][1]]
    assert sub_units["Operations"][columns.index(division.perspective.name)].startswith(percent(division.score))
    assert [row[0] for row in book["Open action items"].iter_rows(min_row=2, values_only=True)] == [
        "Call the supplier", "Re-plan the line",
    ]  # fmt: skip
    notes = list(book["Coaching notes"].iter_rows(min_row=2, values_only=True))
    assert notes[0][4] == "Two green months in a row on quality."
