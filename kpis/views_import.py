"""Import of measurements (upload, preview, import or cancel, progress) and export of a scorecard's data."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsc import org_calendar
from bsc.access import get_org_unit_for_member, member_view
from bsc.permissions import Action, can_on_some
from kpis import exports, imports
from kpis.forms_import import ImportUploadForm, read_causes
from kpis.models import ImportBatch, ImportStatus
from kpis.services import parse_period

PROBLEMS_SHOWN = 1_000
ROWS_SHOWN = 200
UNCAUSED_SHOWN = 200  # the reds without a cause given a cause field in the preview; the rest take the choice


def _require_importer(request) -> None:
    if not can_on_some(request.membership, Action.ENTER_MEASUREMENTS):
        raise PermissionDenied(f"Your role may not {Action.ENTER_MEASUREMENTS.value}.")


def get_import_batch_for_importer(request, pk: int) -> ImportBatch:
    """One of the person's own import batches: 404 for anyone else's, 403 for roles that enter no values."""
    batch = ImportBatch.objects.for_organization(request.organization).filter(pk=pk, created_by=request.user).first()
    if batch is None:
        raise Http404("No such import.")
    _require_importer(request)
    return batch


@require_http_methods(["GET", "POST"])
@member_view
def kpi_import(request):
    _require_importer(request)
    initial = {"decimal_separator": request.user.decimal_separator}  # as the person types numbers elsewhere
    form = ImportUploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = imports.import_batch_preview(
                organization=request.organization,
                membership=request.membership,
                data=upload.read(),
                filename=upload.name,
                decimal_separator=form.cleaned_data["decimal_separator"],
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("kpi_import_batch", org_slug=request.organization.slug, pk=batch.pk)
    recent = ImportBatch.objects.for_organization(request.organization).filter(created_by=request.user)[:5]
    return render(request, "kpis/import.html", {"form": form, "recent": recent, "max_rows": imports.MAX_ROWS})


@require_GET
@member_view
def kpi_import_batch(request, pk: int):
    batch = get_import_batch_for_importer(request, pk)
    context = {
        "batch": batch,
        "problems": batch.problems[:PROBLEMS_SHOWN],
        "problems_hidden": max(0, len(batch.problems) - PROBLEMS_SHOWN),
        "task_threshold": imports.TASK_THRESHOLD,
    }
    if batch.status == ImportStatus.PREVIEWED:  # the reds lacking a cause, to add in the preview (kpis/causes.py)
        uncaused = imports.import_batch_uncaused(batch=batch)
        context |= {"uncaused": uncaused[:UNCAUSED_SHOWN], "uncaused_total": len(uncaused)}
        context["uncaused_hidden"] = len(uncaused) - len(context["uncaused"])
    if request.htmx:
        return render(request, "kpis/import_batch.html#status", context)
    context["rows"] = imports.import_batch_rows(batch=batch, limit=ROWS_SHOWN)
    context["rows_hidden"] = max(0, len(batch.rows) - ROWS_SHOWN)
    return render(request, "kpis/import_batch.html", context)


@require_POST
@member_view
def kpi_import_confirm(request, pk: int):
    batch = get_import_batch_for_importer(request, pk)
    given, cause_missing = read_causes(request.POST)
    try:
        imports.import_batch_confirm(batch=batch, causes_given=given, cause_missing=cause_missing)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("kpi_import_batch", org_slug=request.organization.slug, pk=batch.pk)


@require_POST
@member_view
def kpi_import_cancel(request, pk: int):
    batch = get_import_batch_for_importer(request, pk)
    try:
        imports.import_batch_cancel(batch=batch)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("kpi_import_batch", org_slug=request.organization.slug, pk=batch.pk)
    messages.success(request, f"Import of {batch.filename} cancelled; nothing was written.")
    return redirect("kpi_import", org_slug=request.organization.slug)


# --- Export ---------------------------------------------------------------------------------------


def _export_month(request) -> date:
    """?period=YYYY-MM (the last month exported), or this month in the organization's time zone."""
    try:
        return parse_period(request.GET["period"])
    except (KeyError, ValidationError):
        return org_calendar.this_month(request.organization)


def _export(request, unit_id: int, extension: str) -> HttpResponse:
    unit = get_org_unit_for_member(request, unit_id)
    until = _export_month(request)
    rows = exports.scorecard_export_rows(organization=request.organization, unit=unit, until=until)
    filename = f"scorecard-{slugify(unit.name) or unit.pk}-{until:%Y-%m}.{extension}"
    if extension == "csv":
        response = HttpResponse(exports.export_csv(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.export_xlsx(rows, title=unit.name),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
@member_view
def scorecard_export_csv(request, unit_id: int):
    return _export(request, unit_id, "csv")


@require_GET
@member_view
def scorecard_export_xlsx(request, unit_id: int):
    return _export(request, unit_id, "xlsx")
