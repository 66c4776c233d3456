"""The one door to KPIs and their targets for views: 404 for another organization's id, 403 for a role that
may not change KPI definitions and targets (admins and executives may)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from bsc.permissions import Action, require
from kpis.models import Kpi, Target


def get_kpi_for_member(request: HttpRequest, pk: int, *, write: bool = False) -> Kpi:
    kpi = (
        Kpi.objects.for_organization(request.organization)
        .select_related("unit", "objective", "owner", "aligned_to", "aligned_to__unit")
        .filter(pk=pk)
        .first()
    )
    if kpi is None:
        raise Http404("No such KPI.")
    if write:
        require(request.membership, Action.EDIT_STRATEGY)
    return kpi


def get_target_for_editor(request: HttpRequest, kpi: Kpi, pk: int) -> Target:
    """A target of this KPI (already fetched through `get_kpi_for_member`), for changing it."""
    target = Target.objects.for_organization(request.organization).filter(kpi=kpi, pk=pk).first()
    if target is None:
        raise Http404("No such target.")
    require(request.membership, Action.EDIT_STRATEGY)
    target.kpi = kpi
    return target


def get_kpi_for_entry(request: HttpRequest, pk: int) -> Kpi:
    """A KPI of the organization whose values this member enters: 404 for another organization's id, 403
    when the member may not enter its values."""
    kpi = Kpi.objects.for_organization(request.organization).select_related("unit", "owner").filter(pk=pk).first()
    if kpi is None:
        raise Http404("No such KPI.")
    require(request.membership, Action.ENTER_MEASUREMENTS, unit=kpi.unit_id, owner_id=kpi.owner_id)
    return kpi


def check_kpis_for_entry(request: HttpRequest, pks: list[int]) -> None:
    """The same check for every KPI of a bulk save, in one query: 404 when any id is another
    organization's, 403 when the member may not enter any one of them (or, with no ids, any KPI at all)."""
    if not pks:
        require(request.membership, Action.ENTER_MEASUREMENTS)
    found = dict(
        (pk, (unit_id, owner_id))
        for pk, unit_id, owner_id in Kpi.objects.for_organization(request.organization)
        .filter(pk__in=pks)
        .values_list("pk", "unit_id", "owner_id")
    )
    if len(found) != len(set(pks)):
        raise Http404("No such KPI.")
    for unit_id, owner_id in found.values():
        require(request.membership, Action.ENTER_MEASUREMENTS, unit=unit_id, owner_id=owner_id)
