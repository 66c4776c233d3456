"""Services: every change to organizations, members, invitations, units and tokens goes through here.

Pages, the API, the demo seeder and tests call these functions; none of them writes core models directly.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, ProtectedError, Value
from django.db.models.functions import Concat, Length, Substr
from django.urls import reverse
from django.utils import timezone

from bsc import events, strategy
from bsc.models import Invitation, Membership, Objective, Organization, OrgUnit, PersonalToken, Role, User
from bsc.publish import task_publish_after_commit
from bsc.tasks import email_send
from bsc.tenancy import dangerously_unscoped, organization_scope
from bsc.validation import validated_save as _save

# --- Organizations -------------------------------------------------------------------------------------


@transaction.atomic
def organization_create(
    *, slug: str, name: str, admin: User, root_unit_name: str | None = None, **fields
) -> Organization:
    """A new organization with its top-level unit and the creator as admin."""
    organization = Organization(slug=slug, name=name, **fields)
    _save(organization)
    org_unit_create(organization=organization, name=root_unit_name or name, parent=None)
    Membership.objects.with_scope(organization=organization).create(
        organization=organization, user=admin, role=Role.ADMIN
    )
    return organization


# Every stored status depends on the thresholds, every stored quarter and year on the fiscal year start, every
# score on whether only approved values count.
SCORE_SETTINGS = ("green_threshold", "amber_threshold", "fiscal_year_start_month", "values_need_approval")


@transaction.atomic
def organization_update(*, organization: Organization, **fields) -> Organization:
    """Change the organization's settings; a change to what stored scores depend on rebuilds them once it
    commits (announced; kpis, which owns the scores, subscribes)."""
    before = {name: getattr(organization, name) for name in SCORE_SETTINGS}
    for name, value in fields.items():
        setattr(organization, name, value)
    _save(organization)
    if any(getattr(organization, name) != value for name, value in before.items()):
        events.settings_changed.send(organization_id=organization.pk)
    return organization


# --- Org units ---------------------------------------------------------------------------------------


def _root_of(organization: Organization) -> OrgUnit | None:
    return OrgUnit.objects.for_organization(organization).filter(parent__isnull=True).first()


@transaction.atomic
def org_unit_create(
    *, organization: Organization, name: str, parent: OrgUnit | None, head: User | None = None
) -> OrgUnit:
    if parent is not None and parent.organization_id != organization.pk:
        raise ValidationError({"parent": "The parent unit belongs to another organization."})
    if parent is None and _root_of(organization) is not None:
        raise ValidationError({"parent": "Choose a parent unit: the organization already has a top-level unit."})
    if parent is not None and parent.depth + 1 >= OrgUnit.MAX_DEPTH:
        raise ValidationError({"parent": f"Units can be nested at most {OrgUnit.MAX_DEPTH} levels deep."})
    _check_head(organization, head)
    unit = OrgUnit(
        organization=organization,
        name=(name or "").strip(),
        parent=parent,
        head=head,
        path="/",
        depth=0 if parent is None else parent.depth + 1,
    )
    _save(unit)
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    OrgUnit.objects.for_organization(organization).filter(pk=unit.pk).update(path=unit.path)
    strategy.scorecard_create(unit=unit)
    return unit


def _check_head(organization: Organization, head: User | None) -> None:
    if head is not None and not Membership.objects.for_organization(organization).filter(user=head).exists():
        raise ValidationError({"head": "The unit head must be a member of the organization."})


@transaction.atomic
def org_unit_update(*, unit: OrgUnit, name: str | None = None, head: User | None | bool = False) -> OrgUnit:
    """Rename a unit and/or change its head (head=False leaves the head as it is)."""
    if name is not None:
        unit.name = name.strip()
    if head is not False:
        _check_head(unit.organization, head)
        unit.head = head
    _save(unit)
    return unit


@transaction.atomic
def org_unit_move(*, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Move a unit (with its subtree) under another unit of the same organization."""
    if unit.parent_id is None:
        raise ValidationError({"parent": "The top-level unit cannot be moved."})
    if new_parent.organization_id != unit.organization_id:
        raise ValidationError({"parent": "The new parent belongs to another organization."})
    if new_parent.path.startswith(unit.path):
        raise ValidationError({"parent": "A unit cannot be moved under itself or one of its own sub-units."})
    units = OrgUnit.objects.for_organization(unit.organization_id)
    subtree_height = max(u.depth for u in units.filter(path__startswith=unit.path)) - unit.depth
    if new_parent.depth + 1 + subtree_height >= OrgUnit.MAX_DEPTH:
        raise ValidationError({"parent": f"Units can be nested at most {OrgUnit.MAX_DEPTH} levels deep."})
    old_path, new_path = unit.path, f"{new_parent.path}{unit.pk}/"
    old_parent_id = unit.parent_id
    depth_shift = new_parent.depth + 1 - unit.depth
    unit.parent = new_parent
    _save(unit)
    # One UPDATE rewrites the materialized path and depth of the whole subtree.
    units.filter(path__startswith=old_path).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))),
        depth=F("depth") + depth_shift,
    )
    unit.refresh_from_db()
    if old_parent_id != new_parent.pk:
        _release_alignments(unit, old_parent_id)
    return unit


def _release_alignments(unit: OrgUnit, old_parent_id: int) -> None:
    """A moved unit's objectives and KPIs were aligned to its old parent's map and roll-ups, which are no
    longer its parent's: they stop feeding them (the unit's own subtree keeps its alignments), and the old
    branch is rescored once the move commits. kpis owns KPIs and scores: it hears of both through bsc.events."""
    objectives = Objective.objects.for_organization(unit.organization_id).filter(
        scorecard__unit=unit, aligned_to__isnull=False
    )
    released = objectives.update(aligned_to=None) + sum(events.unit_moved.send(unit=unit))
    if released:
        events.map_changed.send(organization_id=unit.organization_id, unit_ids=[old_parent_id, unit.pk])


def _blockers(unit: OrgUnit) -> list[str]:
    reasons = []
    children = unit.children.count()
    if children:
        reasons.append(f"it has {children} sub-unit{'s' if children != 1 else ''}; move or delete them first")
    objectives = Objective.objects.for_organization(unit.organization_id).filter(scorecard__unit=unit).count()
    if objectives:
        reasons.append(
            f"its strategy map has {objectives} objective{'s' if objectives != 1 else ''}; delete or move them first"
        )
    scoped = unit.scoped_memberships.count()
    if scoped:
        reasons.append(
            f"{scoped} department head{'s are' if scoped != 1 else ' is'} scoped to it; change their units first"
        )
    return reasons


@transaction.atomic
def org_unit_delete(*, unit: OrgUnit) -> None:
    """Delete an empty unit. A unit with sub-units, scoped members or data (scorecards, KPIs,
    sessions: anything that protects it) is refused with the reason."""
    if unit.parent_id is None:
        raise ValidationError("The top-level unit cannot be deleted.")
    reasons = _blockers(unit)
    if reasons:
        raise ValidationError(f"“{unit.name}” cannot be deleted: " + "; ".join(reasons) + ".")
    try:
        with transaction.atomic():
            unit.delete()
    except ProtectedError as error:
        kinds = sorted({obj._meta.verbose_name_plural for obj in error.protected_objects})
        raise ValidationError(
            f"“{unit.name}” cannot be deleted: it still has data ({', '.join(kinds)}); move or archive it first."
        ) from error


# --- Members -----------------------------------------------------------------------------------------


def _check_units(organization: Organization, role: str, units) -> list[OrgUnit]:
    units = list(units or [])
    if any(unit.organization_id != organization.pk for unit in units):
        raise ValidationError({"units": "Every unit must belong to this organization."})
    if role == Role.DEPARTMENT_HEAD and not units:
        raise ValidationError({"units": "A department head needs at least one unit."})
    return units if role == Role.DEPARTMENT_HEAD else []


def _check_not_last_admin(membership: Membership) -> None:
    if membership.role != Role.ADMIN:
        return
    admins = Membership.objects.for_organization(membership.organization_id).filter(role=Role.ADMIN)
    if admins.exclude(pk=membership.pk).count() == 0:
        raise ValidationError({"role": "The organization needs at least one admin; make someone else admin first."})


@transaction.atomic
def membership_update(*, membership: Membership, role: str, units=()) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    if role != Role.ADMIN:
        _check_not_last_admin(membership)
    units = _check_units(membership.organization, role, units)
    membership.role = role
    _save(membership)
    membership.units.set(units)
    membership._scoped_unit_ids = None
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _check_not_last_admin(membership)
    membership.delete()


def membership_add(*, organization: Organization, user: User, role: str, units=()) -> Membership:
    """Add an existing user (the seeder and invitations use this)."""
    units = _check_units(organization, role, units)
    with transaction.atomic():
        membership = Membership(organization=organization, user=user, role=role)
        _save(membership)
        membership.units.set(units)
    return membership


# --- Invitations -------------------------------------------------------------------------------------


def invitation_create(
    *, organization: Organization, email: str, role: str, units=(), invited_by: User
) -> tuple[Invitation, str]:
    """Create an invitation and queue the mail with its link once it has committed; returns it with the one-time
    token. `invitation.mail_queued` says whether the mail went to the queue: False when the queue (the broker) was
    unreachable, so the page can hand the link to the person who invited; None inside a caller's transaction,
    where it is queued when that commits. The invitation is saved either way."""
    invitation, token = _invitation_save(
        organization=organization, email=email, role=role, units=units, invited_by=invited_by
    )
    body = (
        f"{invited_by.display_name} invited you to join {organization.name} as "
        f"{Role(role).label.lower()}.\n\nSet your password and join here (valid for "
        f"{Invitation.VALID_DAYS} days):\n{invitation_link(token)}\n"
    )
    subject = f"You are invited to {organization.name} on Scorecard"
    invitation.mail_queued = task_publish_after_commit(
        email_send, subject=subject, body=body, recipients=[invitation.email]
    )
    return invitation, token


@transaction.atomic
def _invitation_save(*, organization: Organization, email: str, role: str, units, invited_by: User):
    email = User.objects.normalize_email(email or "").lower()
    if Membership.objects.for_organization(organization).filter(user__email=email).exists():
        raise ValidationError({"email": "This person is already a member of the organization."})
    units = _check_units(organization, role, units)
    # An expired invitation no longer counts as open: retire it so the person can be invited again.
    Invitation.objects.for_organization(organization).filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=timezone.now()
    ).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=organization,
        email=email,
        role=role,
        token_hash=Invitation.hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=Invitation.VALID_DAYS),
    )
    _save(invitation)
    invitation.units.set(units)
    return invitation, token


def invitation_link(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])


def invitation_for_token(token: str) -> Invitation | None:
    """The open invitation with this token, or None (unknown, used, revoked and expired look alike)."""
    with dangerously_unscoped():  # the secret token is the lookup key
        invitation = (
            Invitation.objects.select_related("organization", "invited_by")
            .prefetch_related("units")  # fetched here, inside the unscoped block, for the accept page
            .filter(token_hash=Invitation.hash_token(token))
            .first()
        )
    return invitation if invitation is not None and invitation.is_open else None


@transaction.atomic
def invitation_accept(
    *, invitation: Invitation, user: User | None = None, password: str = "", full_name: str = ""
) -> Membership:
    """Join the organization with the invitation's role and units.

    `user` is the signed-in account accepting it: it must have the invited email. Without one, a new
    account is created with `full_name` and `password`; an existing account with that email is never
    used without its owner signing in (the invitation link alone must not grant access to it).
    """
    locked = Invitation.objects.for_organization(invitation.organization_id).select_for_update().get(pk=invitation.pk)
    if not locked.is_open:
        raise ValidationError("This invitation has already been used, revoked or has expired.")
    if user is not None:
        if user.email.lower() != locked.email.lower():
            raise ValidationError(f"This invitation is for {locked.email}; log in as that account to accept it.")
    elif User.objects.filter(email__iexact=locked.email).exists():
        raise ValidationError(f"An account for {locked.email} already exists; log in as that account to accept.")
    else:
        user = User(email=locked.email.lower(), full_name=full_name.strip())
        if not user.full_name:
            raise ValidationError({"full_name": "Enter your name."})
        password_validation.validate_password(password, user)
        user.set_password(password)
        _save(user)
    with organization_scope(locked.organization):  # the invitee is not a member yet: no view set a scope
        units = list(locked.units.all())
        membership = membership_add(organization=locked.organization, user=user, role=locked.role, units=units)
    locked.accepted_at = timezone.now()
    locked.save(update_fields=["accepted_at"])
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been accepted.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


# --- Personal API tokens -----------------------------------------------------------------------------


def personal_token_create(*, user: User, name: str) -> tuple[PersonalToken, str]:
    """Create a token; the returned key is shown once and only its hash is kept."""
    key = "bsc_" + secrets.token_urlsafe(30)
    token = PersonalToken(user=user, name=(name or "").strip(), key_hash=PersonalToken.hash_key(key), prefix=key[:8])
    _save(token)
    return token, key


def personal_token_revoke(*, token: PersonalToken) -> None:
    token.delete()


# --- Users -------------------------------------------------------------------------------------------


def user_set_time_zone(*, user: User, time_zone: str) -> User:
    """The person's own time zone for reminders (empty: each organization's)."""
    value = (time_zone or "").strip()
    try:
        User._meta.get_field("time_zone").clean(value, user)
    except ValidationError as error:
        raise ValidationError({"time_zone": error.messages}) from error
    user.time_zone = value
    user.save(update_fields=["time_zone"])
    return user


def user_set_decimal_separator(*, user: User, decimal_separator: str) -> User:
    """How the person types numbers ('.' or ','), kept across log-ins; the data-entry page reads with it."""
    try:
        User._meta.get_field("decimal_separator").clean(decimal_separator, user)
    except ValidationError as error:
        raise ValidationError({"decimal_separator": error.messages}) from error
    if user.decimal_separator != decimal_separator:
        user.decimal_separator = decimal_separator
        user.save(update_fields=["decimal_separator"])
    return user
