"""What a comment is on: the one door to a KPI, objective, initiative or action item for the comment pages and the API
(404 for an unknown kind or another organization's id, 403 for an action item the member may not see), with the
item's name and the page it lives on."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.urls import reverse

from bsc.models import Initiative, Membership, Objective
from bsc.permissions import visible_action_items
from coaching.models import ActionItem
from comments.models import TARGET_FIELDS
from kpis.models import Kpi

KINDS = tuple(TARGET_FIELDS)
KIND_WORDS = {"kpi": "KPI", "objective": "objective", "initiative": "initiative", "action-item": "action item"}


@dataclass(frozen=True)
class Target:
    kind: str
    item: models.Model
    label: str  # "KPI FIN-1 · Revenue", "objective “Grow revenue”"
    page: str  # the path of the page that shows the item (and its thread)

    @property
    def field(self) -> str:
        return TARGET_FIELDS[self.kind]

    @property
    def filter(self) -> dict:
        """The comments' filter for this item."""
        return {self.field: self.item}


def _map_page(slug: str, objective: Objective) -> str:
    return reverse("strategy_map", args=[slug, objective.scorecard.unit_id])


def target_for(kind: str, item: models.Model, *, slug: str) -> Target:
    if kind == "kpi":
        return Target(kind, item, f"KPI {item.code} · {item.name}", reverse("kpi_detail", args=[slug, item.pk]))
    if kind == "objective":
        return Target(kind, item, f"objective “{item.name}”", _map_page(slug, item))
    if kind == "initiative":
        return Target(kind, item, f"initiative “{item.name}”", _map_page(slug, item.objective))
    return Target(kind, item, f"action item “{item.title}”", reverse("coaching_action_edit", args=[slug, item.pk]))


def target_get(*, membership: Membership, kind: str, pk: int) -> Target:
    """The item `kind` `pk` of the member's organization, for reading its thread and commenting on it."""
    organization = membership.organization
    rows = {
        "kpi": lambda: Kpi.objects.for_organization(organization),
        "objective": lambda: Objective.objects.for_organization(organization).select_related("scorecard"),
        "initiative": lambda: Initiative.objects.for_organization(organization).select_related("objective__scorecard"),
        "action-item": lambda: ActionItem.objects.for_organization(organization),
    }
    if kind not in rows:
        raise Http404("No such kind of item: comments are on KPIs, objectives, initiatives and action items.")
    item = rows[kind]().filter(pk=pk).first()
    if item is None:
        raise Http404(f"No such {KIND_WORDS[kind]}.")
    if kind == "action-item" and not visible_action_items(membership).covers(unit=item.unit_id, owner_id=item.owner_id):
        raise PermissionDenied("Your role may not read this action item.")
    return target_for(kind, item, slug=organization.slug)
