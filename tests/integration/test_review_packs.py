"""Review packs (issue 16): a pack for a unit and period made by a real Celery worker, its PDF's pages and its
spreadsheet's cells against the stored scores; a second request while one is being made gets the first; bad
input (a period outside the data, another organization's unit, a unit without a map) refused with its reason and
nothing made; a failed build ends failed with the reason; roles; the page and the API."""

from __future__ import annotations

import io
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from openpyxl import load_workbook

from bsc.models import Role
from bsc.tenancy import organization_scope
from coaching import review_packs
from coaching.models import ReviewPack
from kpis.models import KpiScore, PerspectiveScore, ScorecardScore
from kpis.scorecard_display import percent
from tests import factories
from tests.conftest import SCREENSHOTS, wait_for
from tests.review_pack_data import FORMULA_COMMENT, OCTOBER, acme_review_pack_world

API = "/api/v1/o/acme/"


@pytest.fixture
def pack_world(world):
    return acme_review_pack_world(world)


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
    assert len(expected) == 10
    # The sub-units' red and amber KPIs too (Operations amber, Assembly red), with their unit: the board sees what
    # the heat map's colours are made of.
    assert sorted(row[1] for row in red_amber) == sorted([*expected, "S1", "S2"])
    assert {row[1]: row[3] for row in red_amber if row[1].startswith("S")} == {"S1": "Operations", "S2": "Assembly"}
    assert [row[0] for row in red_amber] == sorted((row[0] for row in red_amber), key=["Off track", "At risk"].index)
    formula_row = next(row for row in red_amber if row[1] == "K003")
    assert formula_row[9] == "'" + FORMULA_COMMENT  # neutralised, and a string cell
    assert book["Red and amber KPIs"]["J2"].data_type == "s"
    assert formula_row[11].startswith("Call the supplier (Admin of acme, due ")  # its open action items
    assert formula_row[12] == "Monthly review of 18 Nov 2026 with Admin of acme"  # the session that looked at it
    assert next(row for row in red_amber if row[1] == "K002")[11:13] in (("", ""), (None, None))
    assert "Last discussed: Monthly review of 18 Nov 2026 with Admin of acme." in text
    sub_units = {row[0]: row for row in book["Sub-units"].iter_rows(min_row=2, values_only=True)}
    assert list(sub_units) == ["Operations", "Assembly"]
    columns = [cell.value for cell in book["Sub-units"][1]]
    assert sub_units["Operations"][columns.index(division.perspective.name)].startswith(percent(division.score))
    assert [row[0] for row in book["Open action items"].iter_rows(min_row=2, values_only=True)] == [
        "Call the supplier", "Re-plan the line",
    ]  # fmt: skip
    figures = list(book["Accountability"].iter_rows(min_row=2, values_only=True))
    assert figures[0][:3] == ("Acme Manufacturing", 0, "50%") and figures[0][5] == "10 of 20 · Oct 2026"
    notes = list(book["Coaching notes"].iter_rows(min_row=2, values_only=True))
    assert notes[0][4] == "Two green months in a row on quality."


def test_a_second_request_while_one_is_being_made_gets_the_first(world, pack_world):
    first = request_pack(world)
    again = request_pack(world, by=factories.add_member(world.org_a, Role.EXECUTIVE).user)
    assert first.created and not again.created and again.pack.pk == first.pack.pk
    with organization_scope(world.org_a):
        assert ReviewPack.objects.count() == 1
    build(world, first.pack)
    third = request_pack(world)  # the first is ready: a new one is made
    assert third.created and third.pack.pk != first.pack.pk


@pytest.mark.parametrize(
    ("kind", "period", "message"),
    [
        ("month", date(2027, 3, 1), "No scores are stored for Mar 2027: the organization's data runs from"),
        ("quarter", date(2026, 11, 1), "2026-11 does not start a fiscal quarter: name it by its first month, 2026-10"),
    ],
)
def test_a_period_outside_the_data_is_refused_and_nothing_is_made(world, pack_world, kind, period, message):
    with pytest.raises(ValidationError) as refused:
        request_pack(world, kind=kind, period=period)
    assert refused.value.message_dict["period"][0].startswith(message)
    with organization_scope(world.org_a):
        assert not ReviewPack.objects.exists()


def test_a_unit_without_a_map_is_refused(world, pack_world):
    lone = factories.make_unit(world.org_a, "Night shift", parent=world.company_a)
    with pytest.raises(ValidationError) as refused:
        request_pack(world, lone)
    assert refused.value.message_dict["unit"] == [
        "Night shift has no strategy map yet: add its objectives before asking for a review pack."
    ]


def test_a_failed_build_ends_failed_with_its_reason_and_no_file(world, pack_world, monkeypatch):
    pack = request_pack(world).pack

    def broken(content):
        raise RuntimeError("the layout engine ran out of paper")

    monkeypatch.setattr("coaching.review_pack_files.pack_pdf", broken)
    pack = build(world, pack)
    assert pack.status == "failed" and pack.pdf is None and pack.xlsx is None
    assert pack.error.startswith("The pack could not be made (RuntimeError: the layout engine ran out of paper).")
    assert build(world, pack) is None  # a second run of the task leaves a failed pack alone


def test_packs_older_than_90_days_are_deleted_and_lost_builds_end_failed(world, pack_world):
    done = build(world, request_pack(world).pack)
    lost = request_pack(world, world.division_a).pack
    with organization_scope(world.org_a):
        ReviewPack.objects.filter(pk=done.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        ReviewPack.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(days=1))
        assert review_packs.review_packs_expire(organization=world.org_a) == 1
        lost.refresh_from_db()
        assert not ReviewPack.objects.filter(pk=done.pk).exists()
    assert (lost.status, lost.error) == ("failed", "The pack was never finished (its task was lost); ask for it again.")


# --- The page ----------------------------------------------------------------------------------------------


def page_url(world, *parts) -> str:
    return "/o/acme/review-packs/" + "".join(f"{part}/" for part in parts)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.EXECUTIVE, Role.COACH])
def test_admins_executives_and_coaches_ask_for_a_pack_on_the_page(client, world, pack_world, member_of_role, role):
    client.force_login(member_of_role(role))
    assert client.get(page_url(world)).status_code == 200
    response = client.post(
        page_url(world), {"unit": world.company_a.pk, "kind": "month", "period": "2026-10"}, follow=True
    )
    assert "The review pack of Acme Manufacturing, Oct 2026 is being made" in response.content.decode()
    again = client.post(
        page_url(world), {"unit": world.company_a.pk, "kind": "month", "period": "2026-10"}, follow=True
    )
    assert "is already being made: its progress is below." in again.content.decode()
    with organization_scope(world.org_a):
        pack = ReviewPack.objects.get()
    row = client.get(page_url(world, pack.pk), HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in row and "Waiting for a worker" in row
    assert client.get(page_url(world, pack.pk, "pdf")).status_code == 404  # not ready yet
    build(world, pack)
    row = client.get(page_url(world, pack.pk), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in row and "Ready" in row
    download = client.get(page_url(world, pack.pk, "pdf"))
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="review-pack-acme-manufacturing-month-2026-10.pdf"' in download["Content-Disposition"]
    assert pdf_pages(download.content) >= 6


def test_the_form_names_what_is_wrong(client, world, pack_world):
    client.force_login(world.admin_a)
    response = client.post(page_url(world), {"unit": world.company_a.pk, "kind": "month", "period": "2030-01"})
    assert response.status_code == 400
    assert "No scores are stored for Jan 2030: the organization&#x27;s data runs from" in response.content.decode()
    response = client.post(page_url(world), {"unit": world.unit_b.pk, "kind": "month", "period": "2026-10"})
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
    with organization_scope(world.org_a):
        assert not ReviewPack.objects.exists()


@pytest.mark.parametrize("role", [Role.DEPARTMENT_HEAD, Role.VIEWER])
def test_department_heads_and_viewers_may_not(client, world, pack_world, member_of_role, role):
    pack = build(world, request_pack(world).pack)
    client.force_login(member_of_role(role))
    assert client.get(page_url(world)).status_code == 403
    assert client.post(page_url(world), {"unit": world.company_a.pk, "period": "2026-10"}).status_code == 403
    assert client.get(page_url(world, pack.pk, "pdf")).status_code == 403


def test_another_organizations_pack_is_a_404(client, world, pack_world):
    pack = build(world, request_pack(world).pack)
    client.force_login(world.member_b)
    assert client.get(f"/o/globex/review-packs/{pack.pk}/pdf/").status_code == 404
    assert client.get(f"/o/globex/review-packs/{pack.pk}/").status_code == 404


# --- With a real Celery worker -----------------------------------------------------------------------------


def test_a_worker_makes_the_pack_reporting_its_progress(world, pack_world, celery_worker_process):
    asked = request_pack(world)  # committed at once (transactional test): its build is published
    seen = set()

    def ready():
        with organization_scope(world.org_a):
            pack = ReviewPack.objects.defer("pdf", "xlsx").get(pk=asked.pack.pk)
        seen.add((pack.status, pack.progress))
        return pack if pack.status in ("done", "failed") else None

    pack = wait_for(ready, timeout=120, interval=0.05, message="the worker to make the pack")
    assert (pack.status, pack.error) == ("done", "")
    assert {status for status, _ in seen} <= {"queued", "running", "done"}
    assert any(0 < progress < 100 for status, progress in seen if status == "running")  # the page had a bar to show
    with organization_scope(world.org_a):
        pack = ReviewPack.objects.get(pk=pack.pk)
    assert pdf_pages(bytes(pack.pdf)) == pack.pdf_pages >= 6
    assert load_workbook(io.BytesIO(bytes(pack.xlsx))).sheetnames[0] == "Summary"
