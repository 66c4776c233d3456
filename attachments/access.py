"""The one door to evidence files and the things they are added to, for pages and the API: 404 for another
organization's id, 403 for a role that may not read the target (or add to it, or remove the file).

Who may read a target may read its files; who may change it may add files: a measurement's files follow its KPI's
data entry, an action item's its status, a session's its notes. A file is removed by whoever added it (while they
may still read its target) or by an admin."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from attachments.models import TARGETS, EvidenceFile
from bsc.permissions import Action, can, require, visible_action_items
from coaching.models import ActionItem, CoachingSession
from kpis.models import Measurement

REMOVE = "remove an evidence file someone else added"


def _target_row(organization, kind: str, pk: int):
    if kind == "measurement":
        rows = Measurement.objects.for_organization(organization).select_related("kpi", "kpi__unit")
    elif kind == "action-item":
        rows = ActionItem.objects.for_organization(organization)
    elif kind == "session":
        rows = CoachingSession.objects.for_organization(organization)
    else:
        raise Http404("No such kind of item.")
    target = rows.filter(pk=pk).first()
    if target is None:
        raise Http404(f"No such {kind.replace('-', ' ')}.")
    return target


def check_target(membership, kind: str, target, *, write: bool = False) -> None:
    """PermissionDenied unless the member may read the target (with `write`: add files to it)."""
    if kind == "measurement":
        kpi = target.kpi
        if write:
            require(membership, Action.ENTER_MEASUREMENTS, unit=kpi.unit_id, owner_id=kpi.owner_id)
        else:
            require(membership, Action.READ)
    elif kind == "action-item":
        if write:
            require(membership, Action.UPDATE_ACTION_ITEM_STATUS, unit=target.unit_id, owner_id=target.owner_id)
        elif not visible_action_items(membership).covers(unit=target.unit_id, owner_id=target.owner_id):
            raise PermissionDenied("Your role may not read this action item.")
    else:
        action = Action.WRITE_COACHING if write else Action.READ_COACHING
        require(membership, action, unit=target.unit_id, coach_id=target.coach_id)


def get_target_for_member(organization, membership, kind: str, pk: int, *, write: bool = False):
    """The measurement, action item or session `pk` of this organization (404 otherwise) that the member may read,
    or with `write` add files to (403 otherwise)."""
    target = _target_row(organization, kind, pk)
    check_target(membership, kind, target, write=write)
    return target


def may_add(membership, kind: str, target) -> bool:
    try:
        check_target(membership, kind, target, write=True)
    except PermissionDenied:
        return False
    return True


def may_remove(membership, evidence: EvidenceFile) -> bool:
    return evidence.added_by_id == membership.user_id or can(membership, Action.MANAGE_ORGANIZATION)


def get_file_for_member(organization, membership, pk: int, *, remove: bool = False) -> EvidenceFile:
    """An evidence file of this organization (404 otherwise) whose target the member may read (403 otherwise);
    with `remove`, one they added themselves unless they are an admin (403 otherwise)."""
    evidence = EvidenceFile.objects.for_organization(organization).select_related("added_by").filter(pk=pk).first()
    if evidence is None:
        raise Http404("No such file.")
    kind = evidence.target_kind
    target = _target_row(organization, kind, evidence.target_id)
    check_target(membership, kind, target)
    if remove and not may_remove(membership, evidence):
        raise PermissionDenied(f"Your role may not {REMOVE}: only its author or an admin may.")
    setattr(evidence, TARGETS[kind], target)
    return evidence
