"""Optional approval of entered values (issue 17): when the organization asks for it (values_need_approval), a value
a department head enters is "submitted" until the KPI's approver (its `approver`, else its owner; an admin may act
for them) accepts it, or returns it with a comment. Scores read approved values only (kpis/recompute.py); turning the
setting on or off rebuilds them. Nobody approves a value they entered themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from bsc.models import Membership, Organization, OrgUnit, User
from bsc.permissions import may_approve_values_of, may_review_any_value, may_review_values_of, values_wait_for_review
from kpis import outbox, period_close
from kpis.models import Approval, Kpi, Measurement

MAX_COMMENT = 500


def entry_approval(organization: Organization, by: User) -> str:
    """The state a value entered now by `by` starts in: submitted for a department head while the organization
    asks for approval, approved otherwise."""
    if not organization.values_need_approval:
        return Approval.APPROVED
    role = Membership.objects.for_organization(organization).filter(user=by).values_list("role", flat=True).first()
    return Approval.SUBMITTED if values_wait_for_review(role) else Approval.APPROVED


def measurement_mark_entered(measurement: Measurement, state: str) -> None:
    """Set a value's approval as it is entered or changed (before it is saved) to `state` (`entry_approval` of the
    person entering it): a new review starts."""
    measurement.approval = state
    measurement.reviewed_by, measurement.reviewed_at, measurement.return_comment = None, None, ""


def approver_id(kpi: Kpi) -> int | None:
    return kpi.approver_id or kpi.owner_id


def approver_message(unit: OrgUnit) -> str:
    return (
        f"The approver must be an admin, an executive or a department head of {unit.name} (or of a unit above it): "
        "someone who may enter its values."
    )


def approver_problem(kpi: Kpi) -> str | None:
    """Why the KPI's named approver may not approve its values (bsc.permissions.may_approve_values_of), or None. The
    KPI services ask it on every create and update, so the page and the API refuse alike."""
    if kpi.approver_id is None:
        return None
    membership = (
        Membership.objects.for_organization(kpi.organization_id)
        .filter(user_id=kpi.approver_id)
        .prefetch_related("units")
        .first()
    )
    if membership is None:
        return "The approver must be a member of the organization."
    return None if may_approve_values_of(membership, kpi.unit) else approver_message(kpi.unit)


def approver_choices(*, organization: Organization, unit: OrgUnit) -> list[User]:
    """The members who may be named approver of the unit's KPIs, by name (two queries)."""
    memberships = (
        Membership.objects.for_organization(organization)
        .select_related("user")
        .prefetch_related("units")
        .order_by("user__full_name", "user__email")
    )
    return [m.user for m in memberships if may_approve_values_of(m, unit)]


def may_review(membership: Membership | None, kpi: Kpi) -> bool:
    """Whether the member accepts or returns the KPI's submitted values (bsc.permissions.may_review_values_of)."""
    return may_review_values_of(membership, kpi.unit, approver_id=approver_id(kpi))


def _review(measurement: Measurement, by: User, membership: Membership | None) -> Measurement:
    current = (
        Measurement.objects.for_organization(measurement.organization_id)
        .select_for_update(of=("self",))
        .select_related("kpi__unit", "kpi__organization")
        .get(pk=measurement.pk)
    )
    if not may_review(membership, current.kpi):
        raise PermissionDenied(f"Only the approver of {current.kpi.code} (or an admin) accepts or returns its values.")
    if current.approval != Approval.SUBMITTED:
        raise ValidationError({"approval": "This value is not waiting for approval."})
    if current.entered_by_id == by.pk:
        raise ValidationError({"approval": "You entered this value: someone else must approve it."})
    period_close.period_check_open(kpi=current.kpi, periods=[current.period])  # a closed month's values stay put
    return current


@transaction.atomic
def measurement_approve(*, measurement: Measurement, by: User, membership: Membership | None) -> Measurement:
    """Accept a submitted value: it counts in the scores from now on."""
    current = _review(measurement, by, membership)
    current.approval, current.reviewed_by, current.reviewed_at = Approval.APPROVED, by, timezone.now()
    current.save(update_fields=["approval", "reviewed_by", "reviewed_at"])
    outbox.scores_recompute_request(organization_id=current.organization_id, changes=[(current.kpi_id, current.period)])
    return current


@transaction.atomic
def measurement_return(
    *, measurement: Measurement, comment: str, by: User, membership: Membership | None
) -> Measurement:
    """Return a submitted value to the person who entered it, with a comment saying why (required)."""
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"return_comment": "Say why the value is returned; the person who entered it reads it."})
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"return_comment": f"Keep the comment under {MAX_COMMENT} characters."})
    current = _review(measurement, by, membership)
    current.approval, current.reviewed_by, current.reviewed_at = Approval.RETURNED, by, timezone.now()
    current.return_comment = comment
    current.save(update_fields=["approval", "reviewed_by", "reviewed_at", "return_comment"])
    return current


def waiting_list(*, organization: Organization, membership: Membership):
    """The submitted values the member may accept or return (admins: all), oldest first."""
    values = (
        Measurement.objects.for_organization(organization)
        .filter(approval=Approval.SUBMITTED)
        .select_related("kpi", "kpi__unit", "entered_by")
        .order_by("entered_at")
    )
    if not may_review_any_value(membership):
        values = [m for m in values if may_review(membership, m.kpi)]
    return values


@dataclass
class Review:
    """A KPI page row's approval state, when its value is not simply approved."""

    measurement_id: int
    approval: str
    note: str
    can_review: bool


def kpi_value_reviews(*, kpi: Kpi, membership: Membership | None, periods: list[date]) -> dict[date, Review]:
    """The KPI's values of these periods that wait for approval or were returned, with what the page says of them
    and whether this member may accept or return them (not their own)."""
    values = (
        Measurement.objects.for_organization(kpi.organization_id)
        .filter(kpi=kpi, period__in=periods)
        .exclude(approval=Approval.APPROVED)
        .select_related("entered_by", "reviewed_by")
    )
    reviews = {}
    for value in values:
        if value.approval == Approval.SUBMITTED:
            note = "Waiting for approval: it does not count in the scores yet."
        else:
            who = value.reviewed_by.display_name if value.reviewed_by else "the approver"
            note = f"Returned by {who}: {value.return_comment}"
        can = (
            value.approval == Approval.SUBMITTED
            and may_review(membership, kpi)
            and membership is not None
            and value.entered_by_id != membership.user_id
        )
        reviews[value.period] = Review(value.pk, value.approval, note, can)
    return reviews
