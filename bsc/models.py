"""Core models: users, organizations, memberships and roles, org units, invitations, personal API tokens."""

from __future__ import annotations

import hashlib
import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bsc.tenancy import OrgManager


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone (for example Europe/Berlin).")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class DecimalSeparator(models.TextChoices):
    POINT = ".", "1234.5 (point)"
    COMMA = ",", "1234,5 (comma)"


class User(AbstractBaseUser, PermissionsMixin):
    """A person; signs in with email and password and belongs to one or more organizations."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        default="",
        validators=[validate_time_zone],
        help_text="Reminders reach this person in this time zone; empty: each organization's own.",
    )
    decimal_separator = models.CharField(
        max_length=1,
        choices=DecimalSeparator.choices,
        default=DecimalSeparator.POINT,
        help_text="How this person types numbers on the data-entry page: 1234.5 or 1234,5.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class Organization(models.Model):
    """A tenant. Nothing of one organization is ever visible to another."""

    slug = models.SlugField(
        max_length=50,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Use lowercase letters, digits and hyphens.")],
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    green_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    amber_threshold = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.600"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    red_requires_comment = models.BooleanField(
        default=True, help_text="Ask for a comment when an entered value scores red."
    )
    amber_requires_cause = models.BooleanField(
        default=False, help_text="Also ask for a cause and an action item when an entered value scores amber."
    )
    values_need_approval = models.BooleanField(
        default=False,
        help_text="Values entered by department heads count in the scores once the KPI's approver accepts them.",
    )
    reminder_hour = models.PositiveSmallIntegerField(
        default=8,
        validators=[MaxValueValidator(23)],
        help_text="Local hour at which daily reminders and digests go out.",
    )
    data_entry_day = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text="A month's KPI values are on time when first entered by this day of the following month.",
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Members reach the organization's pages only after logging in with a second factor.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amber_threshold__lt=models.F("green_threshold")),
                name="organization_amber_below_green",
                violation_error_message="The amber threshold must be below the green threshold.",
            ),
            models.CheckConstraint(
                condition=Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="organization_fiscal_month_range",
            ),
            models.CheckConstraint(
                condition=Q(data_entry_day__gte=1, data_entry_day__lte=28),
                name="organization_data_entry_day_range",
                violation_error_message="The data-entry day must be between 1 and 28.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    EXECUTIVE = "executive", "Executive"
    DEPARTMENT_HEAD = "department_head", "Department head"
    COACH = "coach", "Coach"
    VIEWER = "viewer", "Viewer"


class OrgUnit(models.Model):
    """A node of the organization's unit tree (company, divisions, departments, teams).

    `path` is the materialized path of ids ("/1/5/12/"): a subtree is one prefix match.
    """

    MAX_DEPTH = 8

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name = models.CharField(max_length=120)
    head = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="headed_units")
    path = models.CharField(max_length=255, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["organization", "path"], name="orgunit_org_path")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "parent", "name"],
                name="orgunit_unique_sibling_name",
                violation_error_message="A unit with this name already exists under the same parent.",
            ),
            models.UniqueConstraint(
                fields=["organization"],
                condition=Q(parent__isnull=True),
                name="orgunit_one_root_per_organization",
                violation_error_message="The organization already has a top-level unit.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/")[:-1] if part]


class Membership(models.Model):
    """A user's role in one organization; department heads are scoped to units and their descendants."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    units = models.ManyToManyField(OrgUnit, blank=True, related_name="scoped_memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["organization", "user__email"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                name="membership_unique_user_per_organization",
                violation_error_message="This person is already a member of the organization.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organization} as {self.get_role_display()}"


class Invitation(models.Model):
    """An admin's invitation by email; the invitee sets a password and joins with the role."""

    VALID_DAYS = 14

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    units = models.ManyToManyField(OrgUnit, blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
                violation_error_message="An open invitation for this email already exists.",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class PersonalToken(models.Model):
    """A personal API token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="personal_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


# --- Strategy maps -------------------------------------------------------------------------------------


class Scorecard(models.Model):
    """Each org unit's one scorecard: its perspectives, objectives and cause-effect links form the map.

    `version` grows with every change to the map; an edit sent against an older version is refused, so
    two people editing one map never silently overwrite each other.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="scorecards")
    unit = models.OneToOneField(OrgUnit, on_delete=models.CASCADE, related_name="scorecard")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    def __str__(self) -> str:
        return f"Scorecard of {self.unit}"


class Perspective(models.Model):
    """A horizontal band of the map (Financial at the top, Learning & Growth at the bottom by default)."""

    CLASSIC = ["Financial", "Customer", "Internal Process", "Learning & Growth"]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="perspectives")
    name = models.CharField(max_length=80)
    order = models.PositiveSmallIntegerField(default=0)
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )

    objects = OrgManager()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scorecard", "name"],
                name="perspective_unique_name_per_scorecard",
                violation_error_message="This scorecard already has a perspective with that name.",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="perspective_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Objective(models.Model):
    """A strategic objective: a card in a perspective's band, optionally aligned to an objective of
    the parent unit's map (the cascade)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="objectives")
    perspective = models.ForeignKey(Perspective, on_delete=models.RESTRICT, related_name="objectives")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=4000)
    owner = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    x = models.PositiveIntegerField(default=0, help_text="Left edge on the map, in map units.")
    y = models.PositiveIntegerField(default=0, help_text="Top edge within the perspective's band.")
    aligned_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="aligned_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["perspective__order", "x", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=0), name="objective_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class CauseEffectLink(models.Model):
    """An arrow on the map: achieving `source` drives `target`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="links")
    source = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="links_in")

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target"],
                name="link_unique_pair",
                violation_error_message="These objectives are already linked.",
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")),
                name="link_not_to_itself",
                violation_error_message="An objective cannot drive itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class Initiative(models.Model):
    """An action plan that serves an objective."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        OFF_TRACK = "off_track", "Off track"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.CASCADE, related_name="initiatives")
    name = models.CharField(max_length=160)
    owner = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    progress = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    budget = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(end__gte=models.F("start")),
                name="initiative_ends_after_start",
                violation_error_message="The end date must not be before the start date.",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="initiative_progress_percent"),
        ]

    def __str__(self) -> str:
        return self.name
