"""Reads shared by pages and the API; each takes the organization (or the user, for cross-org lists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, QuerySet

from bsc import events
from bsc.models import (
    CauseEffectLink,
    Invitation,
    Membership,
    Objective,
    Organization,
    OrgUnit,
    Perspective,
    Scorecard,
    User,
)
from bsc.tenancy import dangerously_unscoped


def membership_list_for_user(*, user: User) -> list[Membership]:
    """The user's memberships in every organization, with their units (the home page, the switcher)."""
    with dangerously_unscoped():  # filtered by the user: these rows are all the user's own
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("organization")
            .prefetch_related(Prefetch("units", queryset=OrgUnit.objects.order_by("path")))
            .order_by("organization__name")
        )
        headed: dict[int, list[OrgUnit]] = {}
        for unit in OrgUnit.objects.filter(head=user).order_by("path"):
            headed.setdefault(unit.organization_id, []).append(unit)
    for membership in memberships:
        membership.headed_units = headed.get(membership.organization_id, [])
    return memberships


def membership_switch_list(*, user: User) -> list[Membership]:
    """The user's memberships in every organization with the organization (and the user), by the organization's
    name: the layout's organization switcher, and the access check of every member page, which picks the
    current one from it (bsc/access.py; one query; membership_list_for_user adds the units), with what the apps
    above annotate on each (bsc.events.membership_annotations)."""
    with dangerously_unscoped():  # filtered by the user: these rows are all the user's own
        annotations = {}
        for answer in events.membership_annotations.send(user=user):
            annotations.update(answer)
        return list(
            Membership.objects.filter(user=user)
            .select_related("organization", "user")
            .annotate(**annotations)
            .order_by("organization__name")
        )


def member_list(*, organization: Organization) -> QuerySet[Membership]:
    return (
        Membership.objects.for_organization(organization)
        .select_related("user")
        .prefetch_related(Prefetch("units", queryset=OrgUnit.objects.for_organization(organization)))
        .order_by("user__full_name", "user__email")
    )


def invitation_list_open(*, organization: Organization) -> QuerySet[Invitation]:
    return (
        Invitation.objects.for_organization(organization)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .prefetch_related(Prefetch("units", queryset=OrgUnit.objects.for_organization(organization)))
    )


def org_unit_list(*, organization: Organization) -> QuerySet[OrgUnit]:
    """Every unit in tree order (depth-first by materialized path), with head and child count."""
    return (
        OrgUnit.objects.for_organization(organization)
        .select_related("head")
        .annotate(child_count=Count("children"))
        .order_by("path")
    )


def org_unit_alignment_count(*, unit: OrgUnit) -> int:
    """How many of the unit's objectives and KPIs cascade into its parent's map and roll-ups (moving the unit
    under another parent releases them)."""
    objectives = Objective.objects.for_organization(unit.organization_id).filter(
        scorecard__unit=unit, aligned_to__isnull=False
    )
    return objectives.count() + sum(events.unit_alignment_count.send(unit=unit))


def org_unit_tree(*, organization: Organization) -> list[OrgUnit]:
    """Units in depth-first order, siblings by name, each with `.indent` for display."""
    units = list(org_unit_list(organization=organization))
    by_parent: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        by_parent.setdefault(unit.parent_id, []).append(unit)
    ordered: list[OrgUnit] = []

    def walk(parent_id):
        for unit in sorted(by_parent.get(parent_id, []), key=lambda u: u.name.lower()):
            ordered.append(unit)
            walk(unit.pk)

    walk(None)
    return ordered


@dataclass(frozen=True, slots=True)
class UnitLine:
    """A unit as a page listing every unit prints it."""

    id: int
    name: str
    depth: int
    head: str  # the head's display name, or ""


def org_unit_lines(*, organization: Organization) -> list[UnitLine]:
    """The units in org_unit_tree's order (depth-first, siblings by name) as plain lines, in one query without
    model instances: for pages that list all of an organization's units (the overview lists 1,000)."""
    rows = (
        OrgUnit.objects.for_organization(organization)
        .order_by("path")
        .values_list("id", "parent_id", "name", "depth", "head__full_name", "head__email")
    )
    return [
        UnitLine(pk, name, depth, head_name or head_email or "")
        for pk, _, name, depth, head_name, head_email in tree_ordered(rows)
    ]


def tree_ordered(rows) -> list[tuple]:
    """Unit rows `(id, parent_id, name, ...)` in org_unit_tree's order: depth-first from the root, siblings by name
    (case-insensitive; equal names keep the order they came in). One sort and a loop, without recursion."""
    children: dict[int | None, list[tuple]] = {}
    for row in sorted(rows, key=_by_name):
        children.setdefault(row[1], []).append(row)
    ordered: list[tuple] = []
    stack = children.get(None, [])[::-1]
    while stack:
        row = stack.pop()
        ordered.append(row)
        stack.extend(children.get(row[0], ())[::-1])
    return ordered


def _by_name(row: tuple) -> str:
    return row[2].lower()


def member_user_list(*, organization: Organization) -> QuerySet[User]:
    """The people who belong to the organization (choices for unit heads and owners)."""
    return User.objects.filter(memberships__organization=organization).order_by("full_name", "email")


# --- Strategy maps -------------------------------------------------------------------------------------


def scorecard_for_unit(*, organization: Organization, unit_id: int) -> Scorecard | None:
    return (
        Scorecard.objects.for_organization(organization)
        .select_related("unit", "organization")
        .filter(unit_id=unit_id)
        .first()
    )


def perspective_list(*, scorecard: Scorecard) -> list[Perspective]:
    """A map's perspectives, top band first."""
    return list(
        Perspective.objects.for_organization(scorecard.organization_id)
        .filter(scorecard=scorecard)
        .order_by("order", "id")
    )


def strategy_map(*, scorecard: Scorecard, kind: str | None = None, period: date | None = None) -> dict:
    """The whole map of one scorecard as plain data (bands in order, cards, arrows): what the browser
    editor, the API and the SVG export all draw, the cards coloured by their stored status for the period of
    `kind` starting in `period` (default: the month now due). A fixed number of queries, whatever the map's size."""
    org_id = scorecard.organization_id
    perspectives = list(
        Perspective.objects.for_organization(org_id).filter(scorecard=scorecard).values("id", "name", "order", "weight")
    )
    objectives = list(
        Objective.objects.for_organization(org_id)
        .filter(scorecard=scorecard)
        .select_related("owner", "aligned_to")
        .order_by("perspective__order", "x", "id")
    )
    links = list(
        CauseEffectLink.objects.for_organization(org_id)
        .filter(scorecard=scorecard)
        .values("id", "source_id", "target_id")
    )
    statuses = objective_statuses(scorecard=scorecard, kind=kind, period=period)
    return {
        "id": scorecard.pk,
        "unit": scorecard.unit_id,
        "unit_name": scorecard.unit.name,
        "version": scorecard.version,
        "perspectives": [{**p, "weight": str(p["weight"])} for p in perspectives],
        "objectives": [
            {
                "id": o.pk,
                "perspective": o.perspective_id,
                "name": o.name,
                "description": o.description,
                "owner": o.owner_id,
                "owner_name": o.owner.display_name if o.owner else "",
                "weight": str(o.weight),
                "x": o.x,
                "y": o.y,
                "aligned_to": o.aligned_to_id,
                "aligned_to_name": o.aligned_to.name if o.aligned_to else "",
                "status": statuses.get(o.pk, {}).get("status", "grey"),
                "score": statuses.get(o.pk, {}).get("score"),
                "score_text": statuses.get(o.pk, {}).get("score_text", ""),
            }
            for o in objectives
        ],
        "links": [{"id": link["id"], "source": link["source_id"], "target": link["target_id"]} for link in links],
    }


def objective_statuses(*, scorecard: Scorecard, kind: str | None = None, period: date | None = None) -> dict[int, dict]:
    """Each objective's stored score and status for a period (default: the month now due), from the app that
    stores scores (kpis answers through bsc.events); objectives without one are drawn grey."""
    statuses: dict[int, dict] = {}
    for answer in events.objective_statuses.send(scorecard=scorecard, kind=kind, period=period):
        statuses.update(answer)
    return statuses


def score_months(*, organization: Organization) -> tuple[date, date] | None:
    """The first and last month of the organization's stored scores (kpis answers through bsc.events), or None."""
    ranges = [answer for answer in events.score_months.send(organization=organization) if answer]
    if not ranges:
        return None
    return min(first for first, _ in ranges), max(last for _, last in ranges)


def objective_line_of_sight(*, objective: Objective) -> dict:
    """The chain of aligned objectives up to the company map, and the objectives aligned below it."""
    org_id = objective.organization_id
    up = []
    current = objective
    seen = {objective.pk}
    while current.aligned_to_id and current.aligned_to_id not in seen:  # at most the tree depth
        current = (
            Objective.objects.for_organization(org_id).select_related("scorecard__unit").get(pk=current.aligned_to_id)
        )
        seen.add(current.pk)
        up.append(
            {
                "id": current.pk,
                "name": current.name,
                "unit": current.scorecard.unit.name,
                "unit_id": current.scorecard.unit_id,
            }
        )
    below = [
        {"id": o.pk, "name": o.name, "unit": o.scorecard.unit.name, "unit_id": o.scorecard.unit_id}
        for o in Objective.objects.for_organization(org_id)
        .filter(aligned_to=objective)
        .select_related("scorecard__unit")
        .order_by("scorecard__unit__path", "name")
    ]
    return {"up": up, "below": below}


def parent_objectives(*, scorecard: Scorecard) -> list[dict]:
    """The objectives of the parent unit's map: what this map's objectives may align to."""
    if scorecard.unit.parent_id is None:
        return []
    return list(
        Objective.objects.for_organization(scorecard.organization_id)
        .filter(scorecard__unit_id=scorecard.unit.parent_id)
        .order_by("perspective__order", "name")
        .values("id", "name")
    )
