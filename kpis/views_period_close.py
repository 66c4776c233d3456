"""The monthly close page (issue 17) of a unit and the units below it (the root unit: the whole organization): the
checklist of the month, the button that closes it (executives and admins), the unit's closes with who closed and
reopened them when, and reopening with a reason (admins). Every write is one call to kpis.period_close."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from bsc import org_calendar
from bsc.access import get_org_unit_for_member, member_view
from bsc.permissions import may_close_periods, may_reopen_periods
from kpis import period_close
from kpis.models import PeriodClose


def _month(request, source) -> date:
    """?period=YYYY-MM (or the form's), or the month now due."""
    try:
        return org_calendar.parse_period(source.get("period"))
    except (TypeError, ValueError):
        return org_calendar.due_month(request.organization)


def _page_url(request, unit_id: int, month: date) -> str:
    return f"{reverse('period_close', args=[request.organization.slug, unit_id])}?period={month:%Y-%m}"


def _render(request, unit, month: date, *, errors: dict | None = None, reopen_errors: dict | None = None, status=200):
    membership = request.membership
    checklist = period_close.close_checklist(unit=unit, month=month)
    closes = list(period_close.period_close_list(organization=request.organization, unit=unit)[:60])
    current = period_close.unit_month_close(unit, month)
    for close in closes:
        close.note = period_close.closed_note(close)
    context = {
        "unit": unit,
        "month": month,
        "month_label": org_calendar.month_label(month),
        "previous": org_calendar.month_shift(month, -1),
        "next": org_calendar.month_shift(month, 1),
        "checklist": checklist,
        "due": sum(row.due for row in checklist),
        "missing": sum(len(row.missing) for row in checklist),
        "reds": sum(len(row.reds_without_cause) for row in checklist),
        "without_cause": "red or amber" if request.organization.amber_requires_cause else "red",
        "current": current,
        "current_note": period_close.closed_note(current) if current else "",
        "closes": closes,
        "can_close": may_close_periods(membership),
        "can_reopen": may_reopen_periods(membership),
        "future": month > org_calendar.this_month(request.organization),
        "errors": errors or {},
        "reopen_errors": reopen_errors or {},
    }
    return render(request, "kpis/period_close.html", context, status=status)


@require_http_methods(["GET", "POST"])
@member_view
def period_close_page(request, unit_id: int):
    unit = get_org_unit_for_member(request, unit_id)
    if request.method == "GET":
        return _render(request, unit, _month(request, request.GET))
    if not may_close_periods(request.membership):
        raise PermissionDenied("Only executives and admins close a month.")
    month = _month(request, request.POST)
    try:
        period_close.period_close(unit=unit, month=month, by=request.user)
    except ValidationError as error:
        return _render(request, unit, month, errors=error.message_dict, status=400)
    messages.success(
        request,
        f"{org_calendar.month_label(month)} is closed for {unit.name} and the units below it: its values, targets "
        "and scores no longer change.",
    )
    return redirect(_page_url(request, unit.pk, month))


@require_POST
@member_view
def period_reopen_page(request, pk: int):
    close = PeriodClose.objects.for_organization(request.organization).select_related("unit").filter(pk=pk).first()
    if close is None:
        raise Http404("No such close.")
    if not may_reopen_periods(request.membership):
        raise PermissionDenied("Only admins reopen a closed month.")
    unit_id = int(request.POST.get("unit") or close.unit_id)
    unit = get_org_unit_for_member(request, unit_id)
    try:
        period_close.period_reopen(close=close, reason=request.POST.get("reason", ""), by=request.user)
    except ValidationError as error:
        return _render(request, unit, close.month, reopen_errors={close.pk: error.messages}, status=400)
    messages.success(
        request,
        f"{org_calendar.month_label(close.month)} is reopened for {close.unit.name}: its values and targets take "
        "changes again, and its scores are recomputed.",
    )
    return redirect(_page_url(request, unit.pk, close.month))
