"""The bounds of an import upload (kpis.imports): a small .xlsx that unpacks to hundreds of megabytes is refused
from its zip directory before anything is unpacked, and a process importing it stays small; rows, cells and
numbers are bounded too, and problem messages quote at most 60 characters of what they echo."""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from kpis.imports import MAX_BYTES, read_rows
from kpis.models import ImportBatch
from tests.conftest import PROJECT_DIR
from tests.integration.test_import import client_for, table, text_of, upload

MB = 1024 * 1024
UNPACKS_TOO_FAR = "The file unpacks to more than 50 MB; split it into smaller files."
TOO_MANY_ROWS = "The file has more than 50,000 rows; split it into smaller files."
UNREADABLE = "The file could not be read as an Excel workbook (.xlsx)."

# --- Workbooks built part by part, so that a test can make a part as large or as odd as it needs ------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>kpi code</t></is></c><c r="B1" t="inlineStr"><is><t>period</t></is>'
    '</c><c r="C1" t="inlineStr"><is><t>value</t></is></c></row>'
)
SHARED_CODE_ROW = '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is><t>2026-01</t></is></c><c r="C2"><v>1</v></c></row>'  # noqa: E501


def workbook(*, rows: str = HEADER_ROW + SHARED_CODE_ROW, shared_string_bytes: int = 3) -> bytes:
    """An .xlsx whose only sheet holds `rows` and whose shared string 0 (the code of row 2) is that many 'A's,
    streamed into the zip a megabyte at a time (200 MB of them pack to about 200 KB)."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{CONTENT_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{CONTENT_TYPE}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{CONTENT_TYPE}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELATIONSHIPS}"><Relationship Id="rId1" '
            f'Type="{OFFICE_RELATIONSHIPS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE_RELATIONSHIPS}">'
            '<sheets><sheet name="Values" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELATIONSHIPS}">'
            f'<Relationship Id="rId1" Type="{OFFICE_RELATIONSHIPS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{OFFICE_RELATIONSHIPS}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/sharedStrings.xml", "w") as part:
            part.write(
                f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}" count="1" uniqueCount="1"><si><t>'.encode()
            )
            megabyte = b"A" * MB
            for _ in range(shared_string_bytes // MB):
                part.write(megabyte)
            part.write(b"A" * (shared_string_bytes % MB) + b"</t></si></sst>")
    return out.getvalue()


@pytest.fixture(scope="module")
def hostile_xlsx() -> bytes:
    """One shared string of 200 MB used as a KPI code, in a file of about 200 KB."""
    return workbook(shared_string_bytes=200 * MB)


def test_the_workbook_builder_makes_files_the_import_reads(world):
    rows, has_comment = read_rows(workbook(shared_string_bytes=5), "values.xlsx")
    assert [(r.number, r.code, r.period, r.value) for r in rows] == [(2, "AAAAA", "2026-01", 1)]
    assert has_comment is False


def test_a_small_workbook_that_unpacks_to_200_mb_is_refused_at_once(world, hostile_xlsx):
    assert len(hostile_xlsx) < 300 * 1024
    started = time.monotonic()
    with pytest.raises(ValidationError) as refused:
        read_rows(hostile_xlsx, "values.xlsx")
    assert time.monotonic() - started < 1  # read from the zip's directory: nothing was unpacked
    assert refused.value.messages == [UNPACKS_TOO_FAR]

    response = upload(client_for(world.admin_a), world.org_a, hostile_xlsx, name="values.xlsx")
    assert response.status_code == 200
    assert UNPACKS_TOO_FAR in text_of(response)
    assert not ImportBatch.objects.for_organization(world.org_a).exists()


def test_an_upload_over_5_mb_is_refused_by_the_form_naming_the_limit(world):
    """The form refuses a file over the upload cap before anything reads it; one byte less passes the cap (and is
    then read: here its rows are too many, a different message)."""
    row = "OTD,2026-01,1," + "x" * 85 + "\n"  # 100 bytes
    header = "kpi code,period,value,comment\n"
    body = row * ((MAX_BYTES - len(header)) // len(row) + 1)
    over = (header + body)[: MAX_BYTES + 1]
    client = client_for(world.admin_a)
    response = upload(client, world.org_a, over)
    assert response.status_code == 200
    assert "The file is larger than 5 MB; split it into smaller files." in text_of(response)
    at_cap = upload(client, world.org_a, over[:MAX_BYTES])
    assert "larger than 5 MB" not in text_of(at_cap) and TOO_MANY_ROWS in text_of(at_cap)
    assert not ImportBatch.objects.for_organization(world.org_a).exists()


PEAK_SCRIPT = """
import json, sys
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from bsc.models import User
setup_test_environment()
client = Client()
client.force_login(User.objects.get(email=sys.argv[2]))
with open(sys.argv[1], "rb") as file:
    response = client.post(reverse("kpi_import", args=[sys.argv[3]]), {"file": file, "decimal_separator": "."})
# VmHWM: this program's own peak (getrusage's ru_maxrss keeps the forking test process's peak across exec)
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"status": response.status_code, "page": response.content.decode(), "peak_mb": peak_kb / 1024}))
"""


@pytest.mark.django_db(transaction=True)
def test_a_process_importing_the_hostile_workbook_stays_under_300_mb(world, hostile_xlsx, tmp_path):
    """The upload, through the import page, in a process of its own (its peak resident size is its own); before
    the bounds it peaked far above a gigabyte. Address space is capped at 2 GB so that a regression fails
    instead of taking the machine's memory."""
    path = tmp_path / "values.xlsx"
    path.write_bytes(hostile_xlsx)
    env = {**os.environ, "BSC_DATABASE_NAME": settings.DATABASES["default"]["NAME"], "REDIS_URL": settings.REDIS_URL}
    command = [sys.executable, "-c", PEAK_SCRIPT, str(path), world.admin_a.email, world.org_a.slug]
    done = subprocess.run(
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2048 * MB, 2048 * MB)),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 200
    assert UNPACKS_TOO_FAR in " ".join(outcome["page"].split())
    assert outcome["peak_mb"] < 300, outcome["peak_mb"]
    print(f"\nhostile workbook refused; the importing process peaked at {outcome['peak_mb']:.0f} MB (limit 300 MB)")


def test_a_part_that_unpacks_to_more_than_100_times_its_packed_size_is_refused(world):
    data = workbook(shared_string_bytes=20 * MB)  # within 50 MB, but 20 MB of one letter pack to 20 KB
    with pytest.raises(ValidationError) as refused:
        read_rows(data, "values.xlsx")
    assert refused.value.messages == [
        "The part “xl/sharedStrings.xml” of the file unpacks to more than 100 times its packed size, which a "
        "workbook saved by a spreadsheet program does not; save it again and upload that."
    ]


def test_a_sheet_that_claims_a_million_rows_is_refused_without_reading_them(world):
    far_row = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>X</t></is></c></row>'
    with pytest.raises(ValidationError) as refused:
        read_rows(workbook(rows=HEADER_ROW + SHARED_CODE_ROW + far_row), "values.xlsx")
    assert refused.value.messages == [TOO_MANY_ROWS]


def test_blank_rows_count_toward_the_row_limit_of_a_csv(world):
    with pytest.raises(ValidationError) as refused:
        read_rows(("code,period,value\n" + ",,\n" * 50_000 + "OTD,2026-01,1\n").encode(), "values.csv")
    assert refused.value.messages == [TOO_MANY_ROWS]
    rows, _ = read_rows(("code,period,value\n" + ",,\n" * 49_999 + "OTD,2026-01,1\n").encode(), "values.csv")
    assert [r.number for r in rows] == [50_001]


def test_a_number_cell_of_5000_digits_makes_the_workbook_unreadable_not_a_server_error(world):
    row = f'<row r="2"><c r="A2" t="inlineStr"><is><t>OTD</t></is></c><c r="B2"><v>{"9" * 5000}</v></c></row>'
    response = upload(client_for(world.admin_a), world.org_a, workbook(rows=HEADER_ROW + row), name="values.xlsx")
    assert response.status_code == 200
    assert UNREADABLE in text_of(response)


def test_a_csv_cell_over_the_csv_field_limit_is_refused_with_its_line(world):
    content = "code,period,value,comment\nOTD,2026-01,1,fine\nOTD,2026-02,1," + "x" * 200_000 + "\n"
    response = upload(client_for(world.admin_a), world.org_a, content)
    assert response.status_code == 200
    assert (
        "Line 3 of the file has a cell longer than 131,072 characters; a cell holds at most 1,000 (a comment 2,000)."
        in text_of(response)
    )
    assert not ImportBatch.objects.for_organization(world.org_a).exists()


def test_long_cells_are_problems_of_their_row_and_are_echoed_cut_to_60_characters(world):
    long_code, long_period, digits = "K" * 5_000, "2026-" + "0" * 2_000, "9" * 500
    content = (
        "code,period,value,comment\n"
        f"{long_code},2026-01,1,\n"
        f"OTD,{long_period},{'1' * 1_001},\n"
        f"{'N' * 200},2026-01,{digits},\n"
        f"OTD,2026-01,5,{'c' * 2_001}\n"
    )
    client = client_for(world.admin_a)
    response = upload(client, world.org_a, content)
    page = client.get(response["Location"])
    cut = lambda text, length=60: text[: length - 1] + "…"  # noqa: E731
    shown = lambda text: cut(text, 40)  # noqa: E731 (the value column of the page cuts at 40)
    assert table(page, "import-problems") == [
        ["2", cut(long_code), "2026-01", "1", "The kpi code cell is longer than 1,000 characters."],
        ["3", "OTD", cut(long_period), shown("1" * 1_001),
         "The period cell is longer than 1,000 characters. | The value cell is longer than 1,000 characters. | "
         "Unknown KPI code “OTD”."],
        ["4", cut("N" * 200), "2026-01", shown(digits),
         f"Unknown KPI code “{cut('N' * 200)}”. | “{cut(digits)}” has too many digits: a value has at most 14 "
         "before the decimal point and 6 after."],
        ["5", "OTD", "2026-01", "5", "Unknown KPI code “OTD”. | Keep the comment under 2000 characters."],
    ]  # fmt: skip
    batch = ImportBatch.objects.for_organization(world.org_a).get()
    assert [problem["value"] for problem in batch.problems] == ["1", cut("1" * 1_001), cut(digits), "5"]
    assert max(len(json.dumps(problem)) for problem in batch.problems) < 1_000  # nothing long is kept either
