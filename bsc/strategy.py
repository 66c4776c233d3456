"""Strategy-map services: scorecards, perspectives, objectives, cause-effect links, initiatives.

Every change to a map bumps its scorecard's version with a conditional UPDATE; a change sent with an
older version is refused (StaleMapError) so concurrent editors never silently overwrite each other.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from bsc import events, map_svg
from bsc.models import CauseEffectLink, Initiative, Membership, Objective, OrgUnit, Perspective, Scorecard, User
from bsc.validation import validated_save as _save


class StaleMapError(ValidationError):
    """The map changed since the editor loaded it."""

    def __init__(self, current_version: int):
        super().__init__(
            "Someone else changed this map since you loaded it; the map has been refreshed, please redo your change.",
            code="stale",
        )
        self.current_version = current_version


def _bump(scorecard: Scorecard, expected_version: int | None) -> int:
    """Advance the map's version; refuse when `expected_version` is given and no longer current."""
    rows = Scorecard.objects.for_organization(scorecard.organization_id).filter(pk=scorecard.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if rows.update(version=F("version") + 1) != 1:
        current = Scorecard.objects.for_organization(scorecard.organization_id).get(pk=scorecard.pk).version
        raise StaleMapError(current)
    scorecard.refresh_from_db(fields=["version"])
    return scorecard.version


def _rescore(scorecard: Scorecard) -> None:
    """Weights, objectives and alignments feed the stored scores: announce it (kpis, which owns the scores,
    recomputes this map's unit and its ancestors once the change commits)."""
    events.map_changed.send(organization_id=scorecard.organization_id, unit_ids=[scorecard.unit_id])


def _check_member(organization_id: int, user: User | None, field: str) -> None:
    if user is not None and not Membership.objects.for_organization(organization_id).filter(user=user).exists():
        raise ValidationError({field: "The owner must be a member of the organization."})


# --- Scorecards and perspectives -----------------------------------------------------------------------


@transaction.atomic
def scorecard_create(*, unit: OrgUnit) -> Scorecard:
    """The unit's scorecard with the four classic perspectives (Financial on top)."""
    scorecard = Scorecard.objects.for_organization(unit.organization_id).create(
        organization_id=unit.organization_id, unit=unit
    )
    Perspective.objects.for_organization(unit.organization_id).bulk_create(
        Perspective(organization_id=unit.organization_id, scorecard=scorecard, name=name, order=index)
        for index, name in enumerate(Perspective.CLASSIC)
    )
    return scorecard


@transaction.atomic
def perspective_create(
    *, scorecard: Scorecard, name: str, weight: Decimal = Decimal(1), version: int | None = None
) -> Perspective:
    _bump(scorecard, version)
    last = (
        Perspective.objects.for_organization(scorecard.organization_id)
        .filter(scorecard=scorecard)
        .order_by("-order")
        .first()
    )
    perspective = Perspective(
        organization_id=scorecard.organization_id,
        scorecard=scorecard,
        name=(name or "").strip(),
        weight=weight,
        order=0 if last is None else last.order + 1,
    )
    _save(perspective)
    return perspective


@transaction.atomic
def perspective_update(*, perspective: Perspective, version: int | None = None, **fields) -> Perspective:
    _bump(perspective.scorecard, version)
    for name in ("name", "weight"):
        if name in fields:
            value = fields[name]
            setattr(perspective, name, value.strip() if isinstance(value, str) else value)
    _save(perspective)
    if "weight" in fields:
        _rescore(perspective.scorecard)
    return perspective


@transaction.atomic
def perspective_weights_set(*, scorecard: Scorecard, weights: dict[int, Decimal]) -> None:
    """Set the weights of every perspective of a map at once (the map page's form): all or nothing, then the map is
    rescored once. `weights` maps each perspective's id to its weight (0 or more; 0 leaves it out of the score)."""
    perspectives = {
        p.pk: p
        for p in Perspective.objects.for_organization(scorecard.organization_id)
        .filter(scorecard=scorecard)
        .select_for_update()
    }
    if set(weights) != set(perspectives):
        raise ValidationError("The map's perspectives changed meanwhile: reload the page and set the weights again.")
    _bump(scorecard, None)
    for pk, weight in weights.items():
        perspective = perspectives[pk]
        perspective.weight = weight
        try:
            _save(perspective)
        except ValidationError as error:
            raise ValidationError({f"weight-{pk}": error.messages}) from error
    _rescore(scorecard)


@transaction.atomic
def perspective_reorder(*, scorecard: Scorecard, perspective_ids: list[int], version: int | None = None) -> None:
    """Put the bands in the given top-to-bottom order (every perspective of the map, once)."""
    _bump(scorecard, version)
    perspectives = Perspective.objects.for_organization(scorecard.organization_id).filter(scorecard=scorecard)
    if sorted(perspective_ids) != sorted(perspectives.values_list("id", flat=True)):
        raise ValidationError({"order": "List every perspective of this map exactly once."})
    by_id = {p.pk: p for p in perspectives}
    for index, pk in enumerate(perspective_ids):
        by_id[pk].order = index
    Perspective.objects.for_organization(scorecard.organization_id).bulk_update(by_id.values(), ["order"])


@transaction.atomic
def perspective_delete(*, perspective: Perspective, version: int | None = None) -> None:
    count = perspective.objectives.count()
    if count:
        raise ValidationError(
            f"“{perspective.name}” still holds {count} objective{'s' if count != 1 else ''}; move or delete them first."
        )
    _bump(perspective.scorecard, version)
    perspective.delete()
    _rescore(perspective.scorecard)


# --- Objectives ------------------------------------------------------------------------------------------

# Where cards may sit in a band (map units, the geometry of bsc/map_svg.py and static/js/strategy_map.js).
X_MAX = map_svg.MAP_WIDTH - map_svg.LABEL_WIDTH - map_svg.CARD_WIDTH
Y_MAX = map_svg.BAND_HEIGHT - map_svg.CARD_HEIGHT
GRID = 10  # the editor snaps to it; a free spot found here is on it too
NEW_CARD_GAP = 10  # room kept around a card placed here (the editor keeps the same)


def _overlaps(x: int, y: int, other: Objective, gap: int = 0) -> bool:
    """Whether a card at (x, y) and `other` (same band) cover a common point; cards that only touch do not."""
    ox, oy = min(max(other.x, 0), X_MAX), min(max(other.y, 0), Y_MAX)
    return abs(ox - x) < map_svg.CARD_WIDTH + gap and abs(oy - y) < map_svg.CARD_HEIGHT + gap


def _band_neighbours(perspective: Perspective, exclude: int | None = None) -> list[Objective]:
    cards = Objective.objects.for_organization(perspective.organization_id).filter(perspective=perspective)
    return list(cards.exclude(pk=exclude) if exclude else cards)


def _check_free_position(perspective: Perspective, x: int, y: int, exclude: int | None = None) -> None:
    """Refuse a position where the card would cover another card of its band: a hidden card is a map nobody can
    read. Refused rather than moved: the answer holds what the caller asked for or nothing (the editor already
    moves a dropped card to the nearest free spot before it saves)."""
    x, y = min(max(x, 0), X_MAX), min(max(y, 0), Y_MAX)
    for other in _band_neighbours(perspective, exclude):
        if _overlaps(x, y, other):
            raise ValidationError(
                {"x": f"This spot in {perspective.name} is taken by “{other.name}”; move the card to a free spot."}
            )


def _first_free_position(perspective: Perspective) -> tuple[int, int]:
    """Where a new card goes when no position is given: the first spot of the band with room around it (the
    middle row first, as the editor's "+ Add objective" does), else any spot that covers no card."""
    cards = _band_neighbours(perspective)
    for gap, rows, step in ((NEW_CARD_GAP, (50, 0, Y_MAX), 2 * GRID), (0, range(0, Y_MAX + 1, GRID), GRID)):
        for y in rows:
            for x in range(2 * GRID if gap else 0, X_MAX + 1, step):
                if not any(_overlaps(x, y, other, gap) for other in cards):
                    return x, y
    raise ValidationError(
        {"perspective": f"{perspective.name} has no free spot for another card; move or delete one first."}
    )


def _check_alignment(objective: Objective, aligned_to: Objective | None) -> None:
    if aligned_to is None:
        return
    unit = objective.scorecard.unit
    if aligned_to.organization_id != objective.organization_id or unit.parent_id is None:
        raise ValidationError({"aligned_to": "Only an objective of the parent unit's map can be aligned to."})
    if aligned_to.scorecard.unit_id != unit.parent_id:
        raise ValidationError(
            {"aligned_to": f"“{aligned_to.name}” is not on the parent unit's map ({unit.parent.name})."}
        )


@transaction.atomic
def objective_create(
    *,
    perspective: Perspective,
    name: str,
    x: int | None = None,
    y: int | None = None,
    description: str = "",
    owner: User | None = None,
    weight: Decimal = Decimal(1),
    aligned_to: Objective | None = None,
    version: int | None = None,
) -> Objective:
    """A new card in a band: at (x, y) when given (refused where it would cover another card), else at the band's
    first free spot."""
    scorecard = perspective.scorecard
    _bump(scorecard, version)
    _check_member(perspective.organization_id, owner, "owner")
    if x is None and y is None:
        x, y = _first_free_position(perspective)
    else:
        x, y = x or 0, y or 0
        _check_free_position(perspective, x, y)
    objective = Objective(
        organization_id=perspective.organization_id,
        scorecard=scorecard,
        perspective=perspective,
        name=(name or "").strip(),
        description=description or "",
        owner=owner,
        weight=weight,
        x=x,
        y=y,
        aligned_to=aligned_to,
    )
    _check_alignment(objective, aligned_to)
    _save(objective)
    _rescore(scorecard)
    return objective


OBJECTIVE_FIELDS = {"name", "description", "owner", "weight", "x", "y", "perspective", "aligned_to"}


@transaction.atomic
def objective_update(*, objective: Objective, version: int | None = None, **fields) -> Objective:
    """Rename, move (x, y, perspective), re-own, re-weight, describe or align an objective."""
    unknown = set(fields) - OBJECTIVE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown objective fields: {', '.join(sorted(unknown))}.")
    _bump(objective.scorecard, version)
    if "perspective" in fields and fields["perspective"].scorecard_id != objective.scorecard_id:
        raise ValidationError({"perspective": "The perspective belongs to another map."})
    if "owner" in fields:
        _check_member(objective.organization_id, fields["owner"], "owner")
    if "aligned_to" in fields:
        _check_alignment(objective, fields["aligned_to"])
    for name, value in fields.items():
        setattr(objective, name, value.strip() if name == "name" and isinstance(value, str) else value)
    if fields.keys() & {"x", "y", "perspective"}:  # a move; a card left covering another by older data may stay
        _check_free_position(objective.perspective, objective.x, objective.y, exclude=objective.pk)
    _save(objective)
    if fields.keys() & {"weight", "perspective", "aligned_to"}:
        _rescore(objective.scorecard)
    return objective


def _objective_data_blockers(objective: Objective) -> list[str]:
    """What keeps an objective from being deleted: the apps built on the core answer (kpis: KPIs with data)."""
    return [reason for reasons in events.objective_delete_blockers.send(objective=objective) for reason in reasons]


@transaction.atomic
def objective_delete(*, objective: Objective, version: int | None = None) -> None:
    reasons = _objective_data_blockers(objective)
    if reasons:
        raise ValidationError(f"“{objective.name}” cannot be deleted: " + "; ".join(reasons) + ".")
    _bump(objective.scorecard, version)
    objective.delete()
    _rescore(objective.scorecard)


# --- Cause-effect links -----------------------------------------------------------------------------------


def _reaches(scorecard: Scorecard, start: int, goal: int) -> bool:
    """Whether the existing arrows already lead from `start` to `goal`."""
    edges: dict[int, list[int]] = defaultdict(list)
    links = CauseEffectLink.objects.for_organization(scorecard.organization_id).filter(scorecard=scorecard)
    for source_id, target_id in links.values_list("source_id", "target_id"):
        edges[source_id].append(target_id)
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(edges[node])
    return False


@transaction.atomic
def link_create(*, source: Objective, target: Objective, version: int | None = None) -> CauseEffectLink:
    if source.pk == target.pk:
        raise ValidationError({"target": "An objective cannot drive itself."})
    if source.scorecard_id != target.scorecard_id:
        raise ValidationError({"target": "Both objectives must be on the same map."})
    scorecard = source.scorecard
    _bump(scorecard, version)
    links = CauseEffectLink.objects.for_organization(scorecard.organization_id)
    if links.filter(source=source, target=target).exists():
        raise ValidationError({"target": f"“{source.name}” already drives “{target.name}”."})
    if _reaches(scorecard, target.pk, source.pk):
        raise ValidationError(
            {"target": f"This arrow would close a cycle: “{target.name}” already leads back to “{source.name}”."}
        )
    link = CauseEffectLink(organization_id=scorecard.organization_id, scorecard=scorecard, source=source, target=target)
    _save(link)
    return link


@transaction.atomic
def link_delete(*, link: CauseEffectLink, version: int | None = None) -> None:
    _bump(link.scorecard, version)
    link.delete()


# --- Cascade -----------------------------------------------------------------------------------------------


@transaction.atomic
def scorecard_copy_parent_structure(*, scorecard: Scorecard, version: int | None = None) -> int:
    """Start a unit's map as a copy of its parent's: perspectives, objectives (each aligned to the one it
    copies) and arrows. Only an empty map can be filled this way. Returns the number of objectives."""
    unit = scorecard.unit
    if unit.parent_id is None:
        raise ValidationError("The top-level unit has no parent map to copy.")
    if scorecard.objectives.exists():
        raise ValidationError("This map already has objectives; only an empty map can start as a copy.")
    _bump(scorecard, version)
    org_id = scorecard.organization_id
    parent = Scorecard.objects.for_organization(org_id).get(unit_id=unit.parent_id)
    perspectives = Perspective.objects.for_organization(org_id)
    perspectives.filter(scorecard=scorecard).delete()
    new_perspective = {}
    for p in perspectives.filter(scorecard=parent):
        new_perspective[p.pk] = perspectives.create(
            organization_id=org_id, scorecard=scorecard, name=p.name, order=p.order, weight=p.weight
        )
    new_objective = {}
    for o in Objective.objects.for_organization(org_id).filter(scorecard=parent):
        new_objective[o.pk] = Objective.objects.for_organization(org_id).create(
            organization_id=org_id,
            scorecard=scorecard,
            perspective=new_perspective[o.perspective_id],
            name=o.name,
            description=o.description,
            weight=o.weight,
            x=o.x,
            y=o.y,
            aligned_to=o,
        )
    CauseEffectLink.objects.for_organization(org_id).bulk_create(
        CauseEffectLink(
            organization_id=org_id,
            scorecard=scorecard,
            source=new_objective[link.source_id],
            target=new_objective[link.target_id],
        )
        for link in CauseEffectLink.objects.for_organization(org_id).filter(scorecard=parent)
    )
    return len(new_objective)


# --- Initiatives -------------------------------------------------------------------------------------------

INITIATIVE_FIELDS = {"name", "owner", "start", "end", "status", "progress", "budget"}


@transaction.atomic
def initiative_create(*, objective: Objective, name: str, **fields) -> Initiative:
    unknown = set(fields) - INITIATIVE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown initiative fields: {', '.join(sorted(unknown))}.")
    _check_member(objective.organization_id, fields.get("owner"), "owner")
    initiative = Initiative(
        organization_id=objective.organization_id, objective=objective, name=(name or "").strip(), **fields
    )
    _save(initiative)
    return initiative


@transaction.atomic
def initiative_update(*, initiative: Initiative, **fields) -> Initiative:
    unknown = set(fields) - INITIATIVE_FIELDS
    if unknown:
        raise ValidationError(f"Unknown initiative fields: {', '.join(sorted(unknown))}.")
    if "owner" in fields:
        _check_member(initiative.organization_id, fields["owner"], "owner")
    for name, value in fields.items():
        setattr(initiative, name, value.strip() if name == "name" and isinstance(value, str) else value)
    _save(initiative)
    return initiative


@transaction.atomic
def initiative_delete(*, initiative: Initiative) -> None:
    initiative.delete()
