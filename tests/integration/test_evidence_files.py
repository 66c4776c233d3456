"""Evidence files (issue 18, deliverable 4): type and size limits, the type read from the content (a renamed file is
refused), tenancy (another organization's file is a 404), the roles that may read, add and remove, and the row and the
file on disk saved both or neither."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from attachments import services
from attachments.models import EvidenceFile
from bsc.models import Role
from bsc.org_calendar import this_month
from bsc.tenancy import dangerously_unscoped, organization_scope
from coaching import services as coaching_services
from kpis import services as kpi_services
from tests import factories

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def url(name: str, org: str = "acme", **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": org, **kwargs})


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def xlsx() -> bytes:
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>", "word/document.xml": b"<w/>"})
ODT = zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office/>"})
ZIP = zipped({"notes.txt": b"hello"})


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def stored(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file())


def rows() -> list[EvidenceFile]:
    with dangerously_unscoped():
        return list(EvidenceFile.objects.order_by("id"))


@pytest.fixture
def kpi(world):
    with organization_scope(world.org_a):
        return kpi_services.kpi_create(
            unit=world.division_a, code="OTD", name="On-time delivery", baseline=Decimal(80), measurement_unit="%"
        )


@pytest.fixture
def measurement(world, kpi):
    with organization_scope(world.org_a):
        return kpi_services.measurement_record(
            kpi=kpi, period=this_month(world.org_a), value=Decimal(90), by=world.admin_a, schedule=False
        )


@pytest.fixture
def head(world):
    return factories.hugo_head(world)


@pytest.fixture
def coach(world):
    return factories.carla_coach(world)


@pytest.fixture
def session(world, coach):
    with organization_scope(world.org_a):
        return coaching_services.session_schedule(
            unit=world.division_a, coach=coach, kind="monthly_review", scheduled_at=timezone.now() + timedelta(days=2)
        )


@pytest.fixture
def item(world, head):
    with organization_scope(world.org_a):
        return coaching_services.action_item_create(
            organization=world.org_a, title="Fix the press", owner=head, unit=world.division_a,
            due_date=timezone.localdate() + timedelta(days=7), created_by=world.admin_a,
        )  # fmt: skip


def add(target, kind: str, by, name: str = "report.pdf", content: bytes = PDF) -> EvidenceFile:
    with organization_scope(target.organization_id):
        return services.evidence_file_add(target=target, kind=kind, upload=upload(name, content), by=by)


def post_file(client, kind: str, pk: int, name: str, content: bytes, **headers):
    return client.post(url("evidence_upload", kind=kind, pk=pk), {"file": upload(name, content)}, **headers)


def errors(response) -> str:
    return response.content.decode()


# --- Types: read from the content -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("chart.png", PNG, "image/png"),
        ("minutes.docx", DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("figures.xlsx", None, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("notes.odt", ODT, "application/vnd.oasis.opendocument.text"),
        ("values.csv", "period;value\n2026-10;93,5 €\n".encode(), "text/csv"),
    ],
)
def test_each_allowed_type_is_stored_with_the_type_its_content_has(
    world, measurement, media, name, content, content_type
):
    evidence = add(measurement, "measurement", world.admin_a, name=name, content=content or xlsx())
    assert (evidence.name, evidence.content_type) == (name, content_type)
    [path] = stored(media)
    assert path.parent == media / "evidence" / str(world.org_a.pk)  # the organization's folder
    assert path.suffix == Path(name).suffix and path.stem not in name  # a random name, nothing of the uploader's


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", EXE, "“setup.exe” is a .exe file; only PDF, PNG, JPEG, GIF, WebP, DOCX, XLSX, PPTX, ODT, ODS or "
         "CSV files may be added."),
        ("report.pdf", EXE, "“report.pdf” is not what its name says: its content is application/x-msdownload (.exe), "
         "which may not be added; only PDF, PNG, JPEG, GIF, WebP, DOCX, XLSX, PPTX, ODT, ODS or CSV files may."),
        ("report.pdf", HTML, "“report.pdf” is not a PDF: its content is of no type that may be added (a renamed file?)."),
        ("chart.png", PDF, "“chart.png” is a PDF by its content but its name ends in .png: rename it to .pdf and add "
         "it again."),
        ("minutes.docx", ZIP, "“minutes.docx” is a zip archive but not a Word, Excel, PowerPoint or OpenDocument text "
         "or spreadsheet file."),
        ("minutes.docx", b"PK\x03\x04broken", "“minutes.docx” is a damaged zip archive, not a readable office "
         "document."),
        ("values.csv", b"a,b\n1,\x002\n", "“values.csv” is not a CSV file: its content is of no type that may be "
         "added (a renamed file?)."),
        ("values.csv", "a;b\nMünchen;2\n".encode("latin-1"), "“values.csv” is not a CSV file: its content is of no "
         "type that may be added (a renamed file?)."),
        ("page.html", HTML, "“page.html” is a .html file; only PDF, PNG, JPEG, GIF, WebP, DOCX, XLSX, PPTX, ODT, ODS or "
         "CSV files may be added."),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
)  # fmt: skip
def test_a_forbidden_or_renamed_file_is_refused_with_a_clear_message(
    client, world, measurement, media, name, content, message
):
    client.force_login(world.admin_a)
    response = post_file(client, "measurement", measurement.pk, name, content, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert message in errors(response)
    assert rows() == [] and stored(media) == []


# --- Size ---------------------------------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_refused_as_it_streams_and_nothing_is_kept(
    client, settings, world, measurement, media
):
    settings.EVIDENCE_MAX_MB = 1
    client.force_login(world.admin_a)
    big = PDF + b"0" * (1024 * 1024)  # over 1 MB, within the request's envelope: stopped while it streams
    response = post_file(client, "measurement", measurement.pk, "big.pdf", big, HTTP_HX_REQUEST="true")
    assert "The file is larger than the 1 MB limit for evidence files." in errors(response)
    assert rows() == [] and stored(media) == []


def test_a_request_announced_over_the_limit_is_refused_before_its_body_is_read(client, settings, world, measurement):
    settings.EVIDENCE_MAX_MB = 1
    client.force_login(world.admin_a)
    with mock.patch("django.http.multipartparser.ChunkIter") as parse:  # never reached
        response = post_file(
            client, "measurement", measurement.pk, "big.pdf", PDF + b"0" * (3 * 1024 * 1024), HTTP_HX_REQUEST="true"
        )
    assert parse.call_count == 0
    assert "The file is larger than the 1 MB limit for evidence files." in errors(response)
    assert rows() == []


def test_the_service_refuses_a_file_over_the_limit_before_reading_it(settings, world, measurement):
    settings.EVIDENCE_MAX_MB = 1
    big = upload("big.pdf", PDF + b"0" * (1024 * 1024))
    with (
        mock.patch("attachments.services.sniff") as sniff,
        organization_scope(world.org_a),
        pytest.raises(Exception, match="“big.pdf” is larger than the 1 MB limit for evidence files."),
    ):
        services.evidence_file_add(target=measurement, kind="measurement", upload=big, by=world.admin_a)
    assert sniff.call_count == 0


# --- Nothing half-saved -------------------------------------------------------------------------------------------


def test_a_row_that_cannot_be_saved_leaves_no_file_behind(world, measurement, media):
    with mock.patch.object(EvidenceFile, "save", side_effect=IntegrityError("boom")), pytest.raises(IntegrityError):
        add(measurement, "measurement", world.admin_a)
    assert rows() == [] and stored(media) == []


def test_a_file_that_cannot_be_written_leaves_no_row(world, measurement, media):
    failing = mock.patch("django.core.files.storage.FileSystemStorage._save", side_effect=OSError("disk full"))
    with failing, pytest.raises(OSError):
        add(measurement, "measurement", world.admin_a)
    assert rows() == [] and stored(media) == []


# --- Reading: tenancy and roles -----------------------------------------------------------------------------------


def test_a_member_of_another_organization_gets_404_for_the_file_and_its_panel(client, world, measurement):
    evidence = add(measurement, "measurement", world.admin_a)
    client.force_login(world.member_b)
    factories.add_member(world.org_a, Role.VIEWER, user=factories.make_user("spy@globex.example.com"))
    assert client.get(url("evidence_download", org="globex", pk=evidence.pk)).status_code == 404
    assert client.get(url("evidence_download", pk=evidence.pk)).status_code == 404  # not a member of acme
    assert client.get(url("evidence_panel", org="globex", kind="measurement", pk=measurement.pk)).status_code == 404
    api = f"/api/v1/o/globex/files/{evidence.pk}/download/"
    assert client.get(api).status_code == 404
    assert client.get(f"/api/v1/o/globex/measurements/{measurement.pk}/files/").status_code == 404


def test_a_pdf_downloads_as_an_attachment_and_an_image_opens_sandboxed(client, world, measurement):
    pdf = add(measurement, "measurement", world.admin_a, name="Line 3 audit.pdf")
    png = add(measurement, "measurement", world.admin_a, name="chart.png", content=PNG)
    client.force_login(world.viewer_a)  # who may read the KPI may read its files
    response = client.get(url("evidence_download", pk=pdf.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Line 3 audit.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    response = client.get(url("evidence_download", pk=png.pk))
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="chart.png"'
    assert response["Content-Security-Policy"].startswith("sandbox;")


def test_a_viewer_may_read_a_measurements_files_but_not_an_action_items_or_a_sessions(
    client, world, measurement, item, session, coach
):
    files = [
        add(measurement, "measurement", world.admin_a),
        add(item, "action-item", world.admin_a),
        add(session, "session", coach),
    ]
    client.force_login(world.viewer_a)
    assert [client.get(url("evidence_download", pk=f.pk)).status_code for f in files] == [200, 403, 403]
    assert client.get(url("evidence_panel", kind="session", pk=session.pk)).status_code == 403


def test_the_panel_lists_who_added_each_file_and_when(client, world, measurement):
    evidence = add(measurement, "measurement", world.admin_a, name="audit.pdf")
    client.force_login(world.admin_a)
    page = client.get(url("evidence_panel", kind="measurement", pk=measurement.pk)).content.decode()
    added = timezone.localtime(evidence.added_at, ZoneInfo(world.org_a.time_zone))
    assert f'<a href="{url("evidence_download", pk=evidence.pk)}" class="evidence-name">audit.pdf</a>' in page
    assert f"PDF, {len(PDF)}\xa0bytes · Admin of acme, {added:%-d %b %Y %H:%M}" in page


# --- Adding: roles -----------------------------------------------------------------------------------------------


def test_who_enters_a_kpis_values_may_add_files_to_them_and_others_get_403(client, world, kpi, measurement, media):
    outsider = factories.add_member(world.org_a, Role.DEPARTMENT_HEAD, units=[world.department_a]).user
    for user, expected in [(world.viewer_a, 403), (outsider, 403)]:
        client.force_login(user)
        assert post_file(client, "measurement", measurement.pk, "a.pdf", PDF).status_code == expected
    assert rows() == [] and stored(media) == []
    client.force_login(factories.hugo_head(world))  # the division's head: the KPI's unit
    response = post_file(client, "measurement", measurement.pk, "a.pdf", PDF, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "a.pdf" in response.content.decode()
    assert [r.name for r in rows()] == ["a.pdf"]


def test_an_item_takes_files_from_who_may_set_its_status_and_a_session_from_its_coach(
    client, world, item, session, head, coach
):
    client.force_login(head)  # owns the item, reads the session (his unit) but does not write it
    assert post_file(client, "action-item", item.pk, "done.pdf", PDF).status_code == 302
    assert post_file(client, "session", session.pk, "notes.pdf", PDF).status_code == 403
    client.force_login(coach)
    assert post_file(client, "session", session.pk, "notes.pdf", PDF).status_code == 302
    assert sorted((r.name, r.target_kind) for r in rows()) == [("done.pdf", "action-item"), ("notes.pdf", "session")]


def test_adding_to_another_organizations_measurement_is_a_404(client, world, measurement):
    client.force_login(world.member_b)
    response = client.post(
        url("evidence_upload", org="globex", kind="measurement", pk=measurement.pk), {"file": upload("a.pdf", PDF)}
    )
    assert response.status_code == 404
    assert rows() == []


# --- Removing -----------------------------------------------------------------------------------------------------


def test_only_the_author_or_an_admin_removes_a_file_and_the_disk_follows_on_commit(
    client, world, measurement, head, media, django_capture_on_commit_callbacks
):
    mine = add(measurement, "measurement", head, name="mine.pdf")
    theirs = add(measurement, "measurement", head, name="theirs.pdf")
    executive = factories.add_member(world.org_a, Role.EXECUTIVE).user
    client.force_login(executive)
    assert client.post(url("evidence_remove", pk=mine.pk)).status_code == 403
    client.force_login(head)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url("evidence_remove", pk=mine.pk), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "mine.pdf" not in response.content.decode()
    assert len(stored(media)) == 2  # the file stays until the transaction commits
    for callback in callbacks:
        callback()
    assert len(stored(media)) == 1
    client.force_login(world.admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("evidence_remove", pk=theirs.pk)).status_code == 302
    assert rows() == [] and stored(media) == []


def test_deleting_a_session_takes_its_files_from_the_disk_too(
    world, session, coach, media, django_capture_on_commit_callbacks
):
    add(session, "session", coach)
    with django_capture_on_commit_callbacks(execute=True), organization_scope(world.org_a):
        session.delete()
    assert rows() == [] and stored(media) == []


# --- The pages embed the panel ------------------------------------------------------------------------------------


def test_the_kpi_action_item_and_session_pages_embed_their_files_panels(client, world, kpi, measurement, item, session):
    client.force_login(world.admin_a)
    page = client.get(url("kpi_detail", pk=kpi.pk)).content.decode()
    assert f'hx-get="{url("evidence_panel", kind="measurement", pk=measurement.pk)}"' in page
    page = client.get(url("coaching_action_edit", pk=item.pk)).content.decode()
    assert f'hx-get="{url("evidence_panel", kind="action-item", pk=item.pk)}"' in page
    page = client.get(url("coaching_session", pk=session.pk)).content.decode()
    assert f'hx-get="{url("evidence_panel", kind="session", pk=session.pk)}"' in page


# --- The API -----------------------------------------------------------------------------------------------------


def test_the_api_lists_adds_downloads_and_removes_a_measurements_files(client, world, measurement, media):
    client.force_login(world.admin_a)
    base = f"/api/v1/o/acme/measurements/{measurement.pk}/files/"
    response = client.post(base, {"file": upload("audit.pdf", PDF)})
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("kind", "target", "name", "content_type", "size", "added_by")} == {
        "kind": "measurement", "target": measurement.pk, "name": "audit.pdf", "content_type": "application/pdf",
        "size": len(PDF), "added_by": world.admin_a.pk,
    }  # fmt: skip
    assert [f["id"] for f in client.get(base).json()] == [created["id"]]
    download = client.get(created["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    response = client.post(base, {"file": upload("report.pdf", EXE)})
    assert response.status_code == 400
    assert response.json()["file"][0].startswith("“report.pdf” is not what its name says")
    with dangerously_unscoped():
        assert EvidenceFile.objects.count() == 1
    assert client.delete(f"/api/v1/o/acme/files/{created['id']}/").status_code == 204
    assert client.get(base).json() == []


def test_the_api_refuses_a_file_over_the_limit_and_a_viewers_upload(client, settings, world, measurement):
    settings.EVIDENCE_MAX_MB = 1
    client.force_login(world.admin_a)
    base = f"/api/v1/o/acme/measurements/{measurement.pk}/files/"
    response = client.post(base, {"file": upload("big.pdf", PDF + b"0" * (2 * 1024 * 1024))})
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is larger than the 1 MB limit for evidence files."]}
    client.force_login(world.viewer_a)
    assert client.post(base, {"file": upload("a.pdf", PDF)}).status_code == 403
    assert rows() == []
