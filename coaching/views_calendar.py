"""Cadence pages (list, create, edit, deactivate), moving one session, the month calendar and the member's
.ics feed (its link on the calendar page, and the feed itself, opened by calendar programs without a login)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bsc import org_calendar
from bsc.access import member_view
from bsc.forms import add_service_error
from bsc.org_calendar import month_shift
from bsc.permissions import Action, can, may_schedule, may_schedule_for_any_coach, require_on_some
from bsc.tenancy import organization_scope
from coaching import cadences, calendar_feed, services
from coaching.access import get_cadence_for_member, get_session_for_member
from coaching.forms import CadenceForm, SessionMoveForm
from coaching.models import CoachingSession, SessionStatus
from coaching.selectors import cadence_list, cadence_sessions, session_calendar_month


def _generated_text(count: int) -> str:
    return f"{count} upcoming session{'s' if count != 1 else ''} generated"


# --- Cadences ----------------------------------------------------------------------------------------------


@require_GET
@member_view
def cadence_index(request):
    membership = request.membership
    require_on_some(membership, Action.READ_COACHING)
    rows = list(cadence_list(organization=request.organization, membership=membership))
    upcoming = {}
    if rows:
        for session in (
            CoachingSession.objects.for_organization(request.organization)
            .filter(cadence__in=rows, status=SessionStatus.SCHEDULED, scheduled_at__gt=timezone.now())
            .order_by("-scheduled_at")
        ):
            upcoming[session.cadence_id] = session  # the earliest wins: ordered latest first
    for cadence in rows:
        cadence.next_session = upcoming.get(cadence.pk)
    context = {"may_create": may_schedule(membership), "cadences": rows}
    return render(request, "coaching/cadences.html", context)


def _cadence_fields(data: dict) -> dict:
    return {
        name: data.get(name)
        for name in ("kind", "frequency", "weekday", "week_of_month", "time_of_day", "starts_on", "ends_on")
    } | {"agenda": data.get("agenda") or ""}


@require_http_methods(["GET", "POST"])
@member_view
def cadence_create(request):
    if not may_schedule(request.membership):
        raise PermissionDenied("Only coaches and admins set up cadences.")
    may_choose_coach = may_schedule_for_any_coach(request.membership)
    initial = {"starts_on": org_calendar.today(request.organization), "coach": request.user.pk}
    form = CadenceForm(
        request.POST or None, initial=initial, organization=request.organization, may_choose_coach=may_choose_coach
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            cadence = cadences.cadence_create(
                unit=data["unit"], coach=data.get("coach") or request.user, participants=data["participants"],
                created_by=request.user, **_cadence_fields(data),
            )  # fmt: skip
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Cadence created: {cadence.rule_text}; {_generated_text(cadence.generated)}.")
            return redirect("coaching_cadence", org_slug=request.organization.slug, pk=cadence.pk)
    return render(request, "coaching/cadence_form.html", {"form": form, "cadence": None})


@require_http_methods(["GET", "POST"])
@member_view
def cadence_detail(request, pk):
    """The cadence, its sessions, and (for its coach and admins) the form that changes it."""
    write = request.method == "POST"
    cadence = get_cadence_for_member(request, pk, write=write)
    may_write = can(request.membership, Action.WRITE_COACHING, unit=cadence.unit_id, coach_id=cadence.coach_id)
    may_choose_coach = may_schedule_for_any_coach(request.membership)
    form = None
    if may_write:
        initial = {
            name: getattr(cadence, name)
            for name in ("kind", "frequency", "weekday", "week_of_month", "time_of_day", "starts_on", "ends_on")
        } | {"agenda": cadence.agenda, "coach": cadence.coach_id, "participants": list(cadence.participants.all())}
        form = CadenceForm(
            request.POST or None, initial=initial, organization=request.organization,
            may_choose_coach=may_choose_coach, editing=True,
        )  # fmt: skip
    if write and form.is_valid():
        data = form.cleaned_data
        extra = {"coach": data["coach"]} if may_choose_coach else {}
        try:
            cadence = cadences.cadence_update(
                cadence=cadence, participants=data["participants"], **_cadence_fields(data), **extra
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            change = cadence.regenerated
            messages.success(
                request,
                f"Cadence saved: {change['updated']} upcoming session(s) moved to the new rule, "
                f"{change['removed']} removed, {change['created']} added.",
            )
            return redirect("coaching_cadence", org_slug=request.organization.slug, pk=cadence.pk)
    now = timezone.now()
    sessions = list(cadence_sessions(cadence=cadence))
    context = {
        "cadence": cadence,
        "participants": list(cadence.participants.all()),
        "upcoming": [s for s in sessions if s.scheduled_at >= now],
        "past": [s for s in sessions if s.scheduled_at < now][::-1][:12],
        "form": form,
        "may_write": may_write,
    }
    return render(request, "coaching/cadence.html", context)


@require_POST
@member_view
def cadence_deactivate(request, pk):
    cadence = get_cadence_for_member(request, pk, write=True)
    cadence = cadences.cadence_deactivate(cadence=cadence)
    removed = cadence.regenerated["removed"]
    messages.success(
        request, f"Cadence stopped; {removed} untouched upcoming session{'s' if removed != 1 else ''} removed."
    )
    return redirect("coaching_cadence", org_slug=request.organization.slug, pk=pk)


@require_POST
@member_view
def cadence_activate(request, pk):
    cadence = get_cadence_for_member(request, pk, write=True)
    cadence = cadences.cadence_update(cadence=cadence, active=True)
    messages.success(request, f"Cadence restarted; {_generated_text(cadence.regenerated['created'])}.")
    return redirect("coaching_cadence", org_slug=request.organization.slug, pk=pk)


# --- Moving one session ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_view
def session_move(request, pk):
    session = get_session_for_member(request, pk, write=True)
    initial = {"scheduled_at": timezone.localtime(session.scheduled_at)}
    form = SessionMoveForm(request.POST or None, initial=initial, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_move(session=session, scheduled_at=form.cleaned_data["scheduled_at"])
        except ValidationError as error:
            add_service_error(form, error)
        else:
            when = timezone.localtime(session.scheduled_at)
            messages.success(request, f"Session moved to {when:%A %-d %B %Y, %H:%M}.")
            return redirect("coaching_session", org_slug=request.organization.slug, pk=session.pk)
    return render(request, "coaching/session_move.html", {"session": session, "form": form})


# --- Month calendar and feed -------------------------------------------------------------------------------


def _month(request) -> date | None:
    text = request.GET.get("month", "")
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


@require_GET
@member_view
def calendar_month(request):
    membership = request.membership
    require_on_some(membership, Action.READ_COACHING)
    today = org_calendar.today(request.organization)
    month = org_calendar.month_start(today)
    if "month" in request.GET:
        month = _month(request)
        if month is None:
            messages.error(request, f"“{request.GET['month']}” is not a month; use YYYY-MM, e.g. {today:%Y-%m}.")
            return redirect("coaching_calendar", org_slug=request.organization.slug)
    weeks = session_calendar_month(organization=request.organization, membership=membership, month=month, today=today)
    feed = calendar_feed.calendar_feed_get(organization=request.organization, user=request.user)
    feed_url = (
        request.build_absolute_uri(reverse("calendar_feed", args=[calendar_feed.feed_token(feed)])) if feed else None
    )
    context = {
        "weeks": weeks,
        "month": month,
        "previous_month": month_shift(month, -1),
        "next_month": month_shift(month, 1),
        "this_month": org_calendar.month_start(today),
        "feed_url": feed_url,
        "weekday_names": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    }
    return render(request, "coaching/calendar.html", context)


@require_POST
@member_view
def calendar_feed_reset(request):
    """Create the member's feed link, or replace it (the old link stops working)."""
    require_on_some(request.membership, Action.READ_COACHING)
    existed = calendar_feed.calendar_feed_get(organization=request.organization, user=request.user) is not None
    calendar_feed.calendar_feed_reset(organization=request.organization, user=request.user)
    messages.success(
        request,
        "New subscription link created; the old link no longer works."
        if existed
        else "Subscription link created: add it to your calendar program.",
    )
    return redirect(reverse("coaching_calendar", args=[request.organization.slug]) + "#feed")


@require_GET
def calendar_feed_ics(request, token):
    """The .ics feed (no login: the link is the secret). A wrong or reset link answers 404."""
    feed = calendar_feed.calendar_feed_for_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    with organization_scope(feed.organization):
        sessions = calendar_feed.feed_sessions(feed=feed)
        slug = feed.organization.slug
        body = calendar_feed.feed_ics(
            feed=feed,
            sessions=sessions,
            link_for=lambda s: request.build_absolute_uri(reverse("coaching_session", args=[slug, s.pk])),
        )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="coaching.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
