"""Coaching sessions (with the KPI values captured when they are held) and action items."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q

from bsc.models import Initiative, Objective, Organization, OrgUnit, User
from bsc.tenancy import OrgManager
from kpis.models import Kpi


class SessionKind(models.TextChoices):
    MONTHLY_REVIEW = "monthly_review", "Monthly review"
    CHECK_IN = "check_in", "Check-in"
    WORKSHOP = "workshop", "Workshop"
    ONE_TO_ONE = "one_to_one", "One-to-one"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(condition=pghistory.AnyChange("notes", "wins", "challenges")),
    fields=["notes", "wins", "challenges"],
    model_name="CoachingSessionEvent",
)
class CoachingSession(models.Model):
    """A meeting of a unit with its coach: a monthly review, a check-in, a workshop or a one-to-one.

    Changes of notes, wins and challenges are kept in history (pghistory), so the earlier text of a held
    session's notes survives later edits."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="coaching_sessions")
    coach = models.ForeignKey(User, on_delete=models.PROTECT, related_name="coached_sessions")
    participants = models.ManyToManyField(User, blank=True, related_name="coaching_sessions")
    kind = models.CharField(max_length=16, choices=SessionKind.choices, default=SessionKind.MONTHLY_REVIEW)
    scheduled_at = models.DateTimeField()
    held_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED)
    agenda = models.TextField(blank=True, max_length=4000)
    notes = models.TextField(blank=True, max_length=20000, help_text="Markdown.")
    wins = models.TextField(blank=True, max_length=4000)
    challenges = models.TextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["organization", "unit", "scheduled_at"], name="session_org_unit_time")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="held") | Q(held_at__isnull=False),
                name="session_held_has_time",
                violation_error_message="A held session needs the time it was held.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.unit} on {self.scheduled_at:%Y-%m-%d}"


class SessionKpiSnapshot(models.Model):
    """A KPI's value, target, score and status as they stood when the session was held."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(CoachingSession, on_delete=models.CASCADE, related_name="snapshots")
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    actual = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    target = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    score = models.DecimalField(max_digits=9, decimal_places=4, null=True)
    status = models.CharField(max_length=5, default="grey")

    objects = OrgManager()

    class Meta:
        ordering = ["kpi__code"]
        constraints = [
            models.UniqueConstraint(fields=["session", "kpi"], name="snapshot_one_per_session_kpi"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} {self.period:%Y-%m}: {self.actual} ({self.status})"


class SessionAttendance(models.Model):
    """Whether one invited participant attended a held session: one row per participant, written when the
    session is held (and when its attendance is corrected). Sessions held without taking attendance have
    no rows and stay out of the attendance figures."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey(CoachingSession, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    attended = models.BooleanField()

    objects = OrgManager()

    class Meta:
        ordering = ["session", "user__full_name", "user__email"]
        indexes = [models.Index(fields=["organization", "user"], name="attendance_org_user")]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="attendance_one_per_session_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {'attended' if self.attended else 'absent'} session {self.session_id}"


class ActionItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class ActionItem(models.Model):
    """A task with an owner and a due date, created during a session or on its own."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="action_items")
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, null=True, blank=True, related_name="action_items",
        help_text="The unit it serves (the session's unit when created in a session).",
    )  # fmt: skip
    due_date = models.DateField()
    status = models.CharField(max_length=8, choices=ActionItemStatus.choices, default=ActionItemStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    session = models.ForeignKey(
        CoachingSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="action_items"
    )
    kpi = models.ForeignKey(Kpi, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    objective = models.ForeignKey(Objective, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    initiative = models.ForeignKey(Initiative, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = OrgManager()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["organization", "owner", "status"], name="actionitem_org_owner_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="done", completed_at__isnull=False) | (~Q(status="done") & Q(completed_at=None)),
                name="actionitem_completed_when_done",
                violation_error_message="Only a done action item has a completion time.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today) -> bool:
        return self.status == ActionItemStatus.OPEN and self.due_date < today
