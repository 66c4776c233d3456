"""Coaching pages: the session list, a session (notes, KPI snapshot, action items), scheduling, and the
action-item board. Thin views: the access helper, one form, one service call, render or redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsc import org_calendar
from bsc.access import member_view
from bsc.forms import add_service_error
from bsc.permissions import (
    Action,
    can,
    can_on_some,
    may_review_packs,
    may_schedule,
    require,
    require_on_some,
    scope,
)
from bsc.validation import error_text
from coaching import services
from coaching.access import get_action_item_for_member, get_session_for_member
from coaching.accountability_display import accountability_page
from coaching.forms import ActionItemForm, AttendanceForm, SessionNotesForm, SessionScheduleForm
from coaching.models import ActionItemStatus, SessionAttendance
from coaching.selectors import (
    accountability,
    action_item_board,
    action_item_list,
    action_item_open_for_user,
    session_previous,
    session_red_kpis,
    session_snapshot_list,
    session_upcoming_and_recent,
)
from kpis.scorecard_display import light, number, percent


@require_GET
@member_view
def coaching_index(request):
    membership = request.membership
    require_on_some(membership, Action.READ_COACHING)
    upcoming, recent = session_upcoming_and_recent(organization=request.organization, membership=membership)
    figures = accountability_page(accountability(organization=request.organization, membership=membership))
    context = {
        "may_schedule": may_schedule(membership), "upcoming": upcoming, "recent": recent, "figures": figures,
        "may_review_packs": may_review_packs(membership),
    }  # fmt: skip
    return render(request, "coaching/index.html", context)


@require_http_methods(["GET", "POST"])
@member_view
def session_schedule(request):
    if not may_schedule(request.membership):
        raise PermissionDenied("Only coaches and admins schedule coaching sessions.")
    form = SessionScheduleForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = services.session_schedule(
                unit=data["unit"], coach=request.user, kind=data["kind"], scheduled_at=data["scheduled_at"],
                participants=data["participants"], agenda=data["agenda"],
            )  # fmt: skip
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Scheduled: {session}.")
            return redirect("coaching_session", org_slug=request.organization.slug, pk=session.pk)
    return render(request, "coaching/session_schedule.html", {"form": form})


def _session_actions_context(request, session, form=None):
    items = list(action_item_list(organization=request.organization).filter(session=session))
    today = org_calendar.today(request.organization)
    for item in items:
        item.overdue = item.is_overdue(today)
        item.may_set_status = can(
            request.membership, Action.UPDATE_ACTION_ITEM_STATUS, unit=item.unit_id, owner_id=item.owner_id
        )
        item.may_edit = can(request.membership, Action.WRITE_ACTION_ITEMS, unit=item.unit_id)
    may_add = can(request.membership, Action.WRITE_ACTION_ITEMS, unit=session.unit_id)
    if may_add and form is None:
        form = ActionItemForm(organization=request.organization, auto_id="new-item-%s")
    return {"session": session, "items": items, "action_form": form, "may_add": may_add}


def _snapshot_row(snapshot, session) -> dict:
    kpi = snapshot.kpi
    return {
        "code": kpi.code,
        "name": kpi.name,
        "unit": kpi.unit.name if kpi.unit_id != session.unit_id else "",
        "actual": number(snapshot.actual, kpi.decimals, kpi.measurement_unit),
        "target": number(snapshot.target, kpi.decimals, kpi.measurement_unit),
        "score": percent(snapshot.score),
        "light": light(snapshot.status),
    }


@require_GET
@member_view
def session_detail(request, pk):
    session = get_session_for_member(request, pk)
    previous = session_previous(session=session)
    snapshots = list(session_snapshot_list(session=session))
    today = org_calendar.today(request.organization)
    review = []
    if previous is not None:
        review = list(
            action_item_list(organization=request.organization).filter(session=previous, status=ActionItemStatus.OPEN)
        )
        for item in review:
            item.overdue = item.is_overdue(today)
    participants = list(session.participants.all())
    attended = dict(
        SessionAttendance.objects.for_organization(request.organization)
        .filter(session=session)
        .values_list("user_id", "attended")
    )
    for person in participants:
        person.attended = attended.get(person.pk)
    may_write = can(request.membership, Action.WRITE_COACHING, unit=session.unit_id, coach_id=session.coach_id)
    context = {
        **_session_actions_context(request, session),
        "participants": participants,
        "attendance_taken": bool(attended),
        "attended_count": sum(attended.values()),
        "attendance_form": AttendanceForm(
            participants=participants,
            initial={"attendees": [p.pk for p in participants if attended.get(p.pk)]} if attended else None,
            auto_id="attendee-%s",
        )
        if may_write and participants and session.status != "cancelled"
        else None,
        "snapshot_rows": [_snapshot_row(s, session) for s in snapshots],
        "snapshot_has_sub_units": any(s.kpi.unit_id != session.unit_id for s in snapshots),
        "snapshots": snapshots,
        "previous": previous,
        "review": review,
        "may_write": may_write,
        "red_kpis": session_red_kpis(session=session),
        "red_month": org_calendar.due_month(request.organization),
    }
    return render(request, "coaching/session.html", context)


@require_http_methods(["GET", "POST"])
@member_view
def session_edit(request, pk):
    session = get_session_for_member(request, pk, write=True)
    initial = {name: getattr(session, name) for name in services.SESSION_TEXT_FIELDS}
    form = SessionNotesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(session=session, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Notes saved.")
            return redirect("coaching_session", org_slug=request.organization.slug, pk=session.pk)
    return render(request, "coaching/session_edit.html", {"session": session, "form": form})


@require_POST
@member_view
def session_hold(request, pk):
    """Hold the session; more than a day before its time the service asks for a confirmation, and this view
    answers the confirmation page (the warning, and the same form again with confirm_early)."""
    session = get_session_for_member(request, pk, write=True)
    attendees = None
    participants = list(session.participants.all())
    form = None
    if request.POST.get("attendance") == "taken":  # the hold form ticks who attended
        form = AttendanceForm(request.POST, participants=participants, auto_id="attendee-%s")
        if not form.is_valid():
            messages.error(request, "The session was not held: " + _form_errors(form))
            return redirect("coaching_session", org_slug=request.organization.slug, pk=pk)
        attendees = form.cleaned_data["attendees"]
    confirm_early = request.POST.get("confirm_early") == "yes"
    try:
        session = services.session_hold(session=session, attendees=attendees, confirm_early=confirm_early)
    except ValidationError as error:
        if hasattr(error, "error_dict") and "confirm_early" in error.error_dict:
            context = {
                "session": session, "attendance_form": form, "warning": services.session_hold_early_warning(session),
            }  # fmt: skip
            return render(request, "coaching/session_hold_confirm.html", context)
        messages.error(request, error_text(error))
    else:
        count = session.snapshots.count()
        messages.success(request, f"Session held; the values of {count} KPI{'s' if count != 1 else ''} were captured.")
    return redirect("coaching_session", org_slug=request.organization.slug, pk=pk)


@require_POST
@member_view
def session_attendance(request, pk):
    session = get_session_for_member(request, pk, write=True)
    form = AttendanceForm(request.POST, participants=list(session.participants.all()))
    if not form.is_valid():
        messages.error(request, "Attendance was not saved: " + _form_errors(form))
        return redirect("coaching_session", org_slug=request.organization.slug, pk=pk)
    try:
        services.session_attendance_set(session=session, attendees=form.cleaned_data["attendees"])
    except ValidationError as error:
        messages.error(request, "Attendance was not saved: " + error_text(error))
    else:
        count = len(form.cleaned_data["attendees"])
        messages.success(request, f"Attendance saved: {count} of {session.participants.count()} attended.")
    return redirect("coaching_session", org_slug=request.organization.slug, pk=pk)


def _form_errors(form) -> str:
    return "; ".join(error for errors in form.errors.values() for error in errors)


@require_POST
@member_view
def session_cancel(request, pk):
    session = get_session_for_member(request, pk, write=True)
    try:
        services.session_cancel(session=session)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, "Session cancelled.")
    return redirect("coaching_session", org_slug=request.organization.slug, pk=pk)


@require_POST
@member_view
def session_action_add(request, pk):
    session = get_session_for_member(request, pk)
    require(request.membership, Action.WRITE_ACTION_ITEMS, unit=session.unit_id)
    form = ActionItemForm(request.POST, organization=request.organization, auto_id="new-item-%s")
    created = None
    if form.is_valid():
        try:
            created = services.action_item_create(
                organization=request.organization, session=session, created_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
    if created is not None:
        messages.success(request, f"Action item added: {_item_summary(created)}.")
        form = None
    if request.htmx:  # a refused item comes back as the form with its errors (htmx swaps only 2xx answers)
        context = _session_actions_context(request, session, form)
        return render(request, "coaching/session.html#session-actions", context)
    if created is None:
        messages.error(
            request, "The action item was not added: " + "; ".join(e for es in form.errors.values() for e in es)
        )
    return redirect("coaching_session", org_slug=request.organization.slug, pk=pk)


def _item_summary(item) -> str:
    """“Title”, owned by Name, due 18 Dec 2026: what a confirmation says of an item."""
    return f"“{item.title}”, owned by {item.owner.display_name}, due {item.due_date:%-d %b %Y}"


@require_http_methods(["GET", "POST"])
@member_view
def action_item_edit(request, pk):
    item = get_action_item_for_member(request, pk)
    form = ActionItemForm(request.POST or None, organization=request.organization, item=item)
    back = _next_url(request, reverse("coaching_actions", args=[request.organization.slug]))
    if request.method == "POST" and form.is_valid():
        try:
            item = services.action_item_update(item=item, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Action item saved: {_item_summary(item)}.")
            return redirect(back)
    return render(request, "coaching/action_item_edit.html", {"item": item, "form": form, "back": back})


def _next_url(request, default: str) -> str:
    target = request.POST.get("next", "") or request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@require_POST
@member_view
def action_item_status(request, pk):
    item = get_action_item_for_member(request, pk, action=Action.UPDATE_ACTION_ITEM_STATUS)
    try:
        services.action_item_set_status(item=item, status=request.POST.get("status", ""))
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"“{item.title}” is now {item.get_status_display().lower()}.")
    if request.htmx:
        swap = request.POST.get("swap")
        if swap == "session" and item.session_id:
            session = get_session_for_member(request, item.session_id)
            return render(request, "coaching/session.html#session-actions", _session_actions_context(request, session))
        if swap == "overview":
            items = action_item_open_for_user(organization=request.organization, user=request.user)
            return render(request, "coaching/includes/my_actions.html", {"my_actions": items})
    return redirect(_next_url(request, reverse("coaching_actions", args=[request.organization.slug])))


@require_GET
@member_view
def action_board(request):
    membership = request.membership
    if not can_on_some(membership, Action.WRITE_ACTION_ITEMS):  # a viewer: DESIGN.md section 8, no action items
        raise PermissionDenied("Your role may not read action items.")
    group_by = "unit" if request.GET.get("group") == "unit" else "owner"
    show_closed = request.GET.get("closed") == "1"
    today = org_calendar.today(request.organization)
    groups = action_item_board(
        organization=request.organization, group_by=group_by, today=today, show_closed=show_closed,
        only_units=scope(membership, Action.WRITE_ACTION_ITEMS).only_units,
        or_owner=request.user,
    )  # fmt: skip
    for group in groups:
        for item in group.items:
            item.may_set_status = can(
                membership, Action.UPDATE_ACTION_ITEM_STATUS, unit=item.unit_id, owner_id=item.owner_id
            )
            item.may_edit = can(membership, Action.WRITE_ACTION_ITEMS, unit=item.unit_id)
    context = {
        "groups": groups, "group_by": group_by, "show_closed": show_closed,
        "overdue_total": sum(g.overdue for g in groups),
    }  # fmt: skip
    return render(request, "coaching/actions.html", context)
