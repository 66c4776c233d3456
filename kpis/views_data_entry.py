"""The monthly data-entry page: list the KPI values a member must enter, preview the status a value would
give, save one row (htmx swaps the row) or every row at once (all or nothing), and keep the person's decimal
separator (switching it refreshes every row's preview in one request)."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsc.access import get_org_unit_for_member, member_view
from bsc.models import OrgUnit
from bsc.org_calendar import due_month
from bsc.permissions import Action, require_on_some
from bsc.services import user_set_decimal_separator
from bsc.validation import echo
from kpis.access import check_kpis_for_entry, get_kpi_for_entry
from kpis.data_entry import (
    EntryRefused,
    EntryRow,
    data_entry_page,
    data_entry_save,
    entry_row,
    entry_rows,
    entry_rows_show,
)
from kpis.forms_data_entry import SEPARATORS, read_kpi_ids, read_row, read_separator
from kpis.services import parse_period

TEMPLATE = "kpis/data_entry.html"


def _month(request) -> date:
    """?period=YYYY-MM (or the form's period field); otherwise the month now due."""
    text = request.POST.get("period") or request.GET.get("period")
    if text:
        try:
            return parse_period(text)
        except ValidationError:
            pass
    return due_month(request.organization)


def _unit(request) -> OrgUnit | None:
    text = request.POST.get("unit") or request.GET.get("unit")
    return get_org_unit_for_member(request, int(text)) if text and text.isdigit() else None


def _page_url(request, month: date, unit: OrgUnit | None) -> str:
    query = {"period": f"{month:%Y-%m}"} | ({"unit": unit.pk} if unit else {})
    return f"{reverse('data_entry', args=[request.organization.slug])}?{urlencode(query)}"


def _context(request, page, separator: str = ".") -> dict:
    return {"page": page, "separator": separator, "separators": SEPARATORS, "page_url": request.get_full_path()}


def _problems(rows: list[EntryRow]) -> str:
    count = len(rows)
    lines = "; ".join(f"{row.kpi.code} {row.kpi.name}: {' '.join(row.errors)}" for row in rows)
    return f"Nothing was saved: {count} {'value needs' if count == 1 else 'values need'} attention. {lines}"


@require_http_methods(["GET", "POST"])
@member_view
def data_entry(request):
    require_on_some(request.membership, Action.ENTER_MEASUREMENTS)
    month, unit = _month(request), _unit(request)
    if request.method == "GET":
        separator = request.user.decimal_separator
        page = data_entry_page(membership=request.membership, month=month, unit=unit, separator=separator)
        return render(request, TEMPLATE, _context(request, page, separator))
    try:
        ids = read_kpi_ids(request.POST)
    except ValidationError as error:
        return HttpResponseBadRequest(error.messages[0])
    check_kpis_for_entry(request, ids)
    separator = read_separator(request.POST, request.user.decimal_separator)
    rows = entry_rows(membership=request.membership, month=month, separator=separator, shown=False)
    by_id = {row.kpi.pk: row for row in rows}
    not_due = [pk for pk in ids if pk not in by_id]
    if not_due:
        messages.error(
            request, f"Nothing was saved: {len(not_due)} of the KPIs sent have no value due for {month:%B %Y}."
        )
        return redirect(_page_url(request, month, unit))
    posted = [by_id[pk] for pk in ids]
    for row in posted:
        row.take(read_row(request.POST, row.kpi.pk, separator=separator))
    try:
        changed = data_entry_save(organization=request.organization, rows=posted, by=request.user, require_value=False)
    except EntryRefused:  # the page's error summary and the rows say what was refused
        entry_rows_show(rows, organization=request.organization, user=request.user)
        page = data_entry_page(membership=request.membership, month=month, unit=unit, rows=rows)
        return render(request, TEMPLATE, _context(request, page, separator))
    label = f"{month:%B %Y}"
    messages.success(
        request,
        f"Saved {changed} {'value' if changed == 1 else 'values'} for {label}." if changed else "Nothing changed.",
    )
    return redirect(_page_url(request, month, unit))


@require_POST
@member_view
def data_entry_row_save(request, kpi_id: int):
    kpi = get_kpi_for_entry(request, kpi_id)
    month, unit = _month(request), _unit(request)
    separator = read_separator(request.POST, request.user.decimal_separator)
    rows = entry_rows(membership=request.membership, month=month, separator=separator)
    row = next((r for r in rows if r.kpi.pk == kpi.pk), None)
    if row is None:
        return HttpResponseBadRequest(f"{kpi.code} has no value due for {month:%B %Y}.")
    row.take(read_row(request.POST, kpi.pk, separator=separator))
    try:
        data_entry_save(organization=request.organization, rows=[row], by=request.user, require_value=True)
        messages.success(request, f"Saved {kpi.code} for {month:%B %Y}.")
    except EntryRefused:
        if not request.htmx:  # with htmx the row itself shows why
            messages.error(request, _problems([row]))
    if request.htmx:
        page = data_entry_page(membership=request.membership, month=month, unit=unit, rows=rows)
        context = _context(request, page, separator) | {"row": row, "oob": True}
        return render(request, f"{TEMPLATE}#entry-row", context)
    return redirect(_page_url(request, month, unit))


@require_GET
@member_view
def data_entry_status(request, kpi_id: int):
    """The status the typed value would give (htmx, as the person types), and, out of band, the action item a red
    value asks for."""
    kpi = get_kpi_for_entry(request, kpi_id)
    row = entry_row(kpi=kpi, month=_month(request), organization=request.organization, user=request.user)
    if row is None:
        return HttpResponseBadRequest(f"{kpi.code} has no value due for this period.")
    row.take(read_row(request.GET, kpi.pk, separator=read_separator(request.GET, request.user.decimal_separator)))
    return render(request, f"{TEMPLATE}#entry-status", {"row": row, "preview": True})


@require_POST
@member_view
def data_entry_separator(request):
    """Switch the person's decimal separator (kept across log-ins) and answer every posted row's status preview
    as read with it, in one response (htmx swaps each row's status out of band)."""
    require_on_some(request.membership, Action.ENTER_MEASUREMENTS)
    try:
        ids = read_kpi_ids(request.POST)
    except ValidationError as error:
        return HttpResponseBadRequest(error.messages[0])
    if ids:  # a page with no rows still keeps the choice
        check_kpis_for_entry(request, ids)
    separator = request.POST.get("decimal_separator", "")
    try:
        user_set_decimal_separator(user=request.user, decimal_separator=separator)
    except ValidationError:
        return HttpResponseBadRequest(f"Choose '.' or ',' as the decimal separator, not “{echo(separator)}”.")
    by_id = {row.kpi.pk: row for row in entry_rows(membership=request.membership, month=_month(request))}
    rows = [by_id[pk] for pk in ids if pk in by_id]
    for row in rows:
        row.take(read_row(request.POST, row.kpi.pk, separator=separator))
    return render(request, f"{TEMPLATE}#entry-statuses", {"rows": rows, "preview": True, "status_oob": True})
