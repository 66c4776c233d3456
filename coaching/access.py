"""The one door to coaching sessions, cadences, action items and notifications for views and the API: 404
for another organization's id, 403 for a role that may not read or change it."""

from __future__ import annotations

from django.http import Http404

from bsc.permissions import Action, require, require_review_packs
from coaching.models import ActionItem, Cadence, CoachingSession, Notification, ReviewPack


def get_session_for_member(request, pk: int, *, write: bool = False) -> CoachingSession:
    session = (
        CoachingSession.objects.for_organization(request.organization)
        .select_related("unit", "coach", "unit__organization", "cadence")
        .filter(pk=pk)
        .first()
    )
    if session is None:
        raise Http404("No such coaching session.")
    action = Action.WRITE_COACHING if write else Action.READ_COACHING
    require(request.membership, action, unit=session.unit_id, coach_id=session.coach_id)
    return session


def get_action_item_for_member(request, pk: int, *, action: Action = Action.WRITE_ACTION_ITEMS) -> ActionItem:
    item = (
        ActionItem.objects.for_organization(request.organization)
        .select_related("owner", "unit", "organization")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404("No such action item.")
    require(request.membership, action, unit=item.unit_id, owner_id=item.owner_id)
    return item


def get_cadence_for_member(request, pk: int, *, write: bool = False) -> Cadence:
    cadence = (
        Cadence.objects.for_organization(request.organization)
        .select_related("unit", "coach", "unit__organization")
        .filter(pk=pk)
        .first()
    )
    if cadence is None:
        raise Http404("No such cadence.")
    action = Action.WRITE_COACHING if write else Action.READ_COACHING
    require(request.membership, action, unit=cadence.unit_id, coach_id=cadence.coach_id)
    return cadence


def get_notification_for_member(request, pk: int) -> Notification:
    """One of the user's own notifications in this organization (anyone else's is a 404)."""
    notification = (
        Notification.objects.for_organization(request.organization).filter(pk=pk, recipient=request.user).first()
    )
    if notification is None:
        raise Http404("No such notification.")
    return notification


def get_review_pack_for_member(request, pk: int) -> ReviewPack:
    """One of the organization's review packs (without its files): 404 for another organization's id, 403 for a
    role that may not request or download packs."""
    pack = (
        ReviewPack.objects.for_organization(request.organization)
        .select_related("unit", "requested_by")
        .defer("pdf", "xlsx")
        .filter(pk=pk)
        .first()
    )
    if pack is None:
        raise Http404("No such review pack.")
    require_review_packs(request.membership)
    return pack
