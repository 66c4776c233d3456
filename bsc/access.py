"""The one door to each resource for views: resolve the organization from the URL, check membership,
activate the tenancy scope, and fetch objects answering 404 for other organizations and 403 for roles
that may not write.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from bsc import org_calendar
from bsc.models import Invitation, Membership, Organization, OrgUnit
from bsc.permissions import Action, require, two_factor_satisfied
from bsc.selectors import membership_switch_list
from bsc.tenancy import dangerously_unscoped, organization_scope
from bsc.two_factor import session_verified, user_has_two_factor

SESSION_ORG_KEY = "current_organization"
SESSION_DAY_KEY = "seen_on"  # the last day (UTC) a member page was seen: keeps the session's expiry sliding


def membership_for(user, org_slug: str) -> Membership:
    """The user's membership in the organization with this slug, or 404 (unknown slug and foreign
    organization look the same)."""
    if not user.is_authenticated:
        raise Http404("No such organization.")
    with dangerously_unscoped():  # filtered by user and slug together
        membership = (
            Membership.objects.select_related("organization", "user")
            .filter(user=user, organization__slug=org_slug)
            .first()
        )
    if membership is None:
        raise Http404("No such organization.")
    return membership


def member_view(view):
    """Decorator for views under /o/<org_slug>/: sets request.organization and request.membership and
    runs the view inside the organization's tenancy scope, with times shown in the organization's time zone.

    The person's memberships are read once, in one query, for the access check and the layout's organization
    switcher (request.user_memberships, read by bsc/context_processors.py)."""

    @login_required
    @functools.wraps(view)
    def wrapper(request: HttpRequest, org_slug: str, *args, **kwargs):
        memberships = membership_switch_list(user=request.user)
        membership = next((m for m in memberships if m.organization.slug == org_slug), None)
        if membership is None:
            raise Http404("No such organization.")  # unknown slug and foreign organization look the same
        if not two_factor_satisfied(membership, verified=session_verified(request)):
            return redirect_to_second_factor(request)
        request.membership = membership
        request.organization = membership.organization
        request.user_memberships = memberships
        remember_organization(request, memberships, org_slug)
        with organization_scope(membership.organization), timezone.override(org_calendar.zone(request.organization)):
            return view(request, *args, **kwargs)

    return wrapper


def remember_organization(request: HttpRequest, memberships: list[Membership], org_slug: str) -> None:
    """Remember the organization for the next log-in (bsc/views/home.py's switch_organization; a person with one
    organization needs no note) and the day, so that the session expires two weeks after the person's last day of
    use rather than two weeks after logging in. The session is written only when one of them changes: every member
    page used to write it, three statements and a commit per page."""
    session = request.session
    if len(memberships) > 1 and session.get(SESSION_ORG_KEY) != org_slug:
        session[SESSION_ORG_KEY] = org_slug
    note_session_day(request)


def note_session_day(request: HttpRequest | None, **_) -> None:
    """Note today (UTC) in the session if it is not noted yet: at log-in (a user_logged_in receiver, bsc/apps.py),
    so a new session's first page writes nothing, and on the first member page of each later day."""
    if request is None or not hasattr(request, "session"):
        return  # a log-in without a browser session
    today = timezone.now().date().isoformat()
    if request.session.get(SESSION_DAY_KEY) != today:
        request.session[SESSION_DAY_KEY] = today


def redirect_to_second_factor(request: HttpRequest) -> HttpResponse:
    """Where a member goes whose organization requires two factors and whose session has not passed one:
    to set the second factor up, or (an older session of someone who has one) to enter a code."""
    target = "login_verify" if user_has_two_factor(request.user) else "two_factor"
    url = f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}"
    return HttpResponseClientRedirect(url) if getattr(request, "htmx", False) else redirect(url)


def get_organization_for_admin(request: HttpRequest) -> Organization:
    require(request.membership, Action.MANAGE_ORGANIZATION)
    return request.organization


def get_org_unit_for_member(request: HttpRequest, pk: int, *, write: bool = False) -> OrgUnit:
    unit = OrgUnit.objects.for_organization(request.organization).filter(pk=pk).first()
    if unit is None:
        raise Http404("No such unit.")
    if write:
        require(request.membership, Action.EDIT_STRATEGY)
    return unit


def get_membership_for_admin(request: HttpRequest, pk: int) -> Membership:
    membership = Membership.objects.for_organization(request.organization).select_related("user").filter(pk=pk).first()
    if membership is None:
        raise Http404("No such member.")
    require(request.membership, Action.MANAGE_ORGANIZATION)
    return membership


def get_organization_for_editor(request: HttpRequest) -> Organization:
    """The organization, for pages that change its units and strategy (admins and executives)."""
    require(request.membership, Action.EDIT_STRATEGY)
    return request.organization


def get_invitation_for_admin(request: HttpRequest, pk: int) -> Invitation:
    invitation = Invitation.objects.for_organization(request.organization).filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such invitation.")
    require(request.membership, Action.MANAGE_ORGANIZATION)
    return invitation
