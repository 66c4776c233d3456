"""Coaching sessions (with the KPI values captured when they are held), the cadences that generate them,
action items, the per-member calendar feeds, and the notifications (reminders and digests) with each
member's preferences."""

from __future__ import annotations

import pghistory
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bsc.models import Initiative, Membership, Objective, Organization, OrgUnit, User
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


class CadenceFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    BIWEEKLY = "biweekly", "Every two weeks"
    MONTHLY = "monthly", "Monthly"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeekOfMonth(models.IntegerChoices):
    FIRST = 1, "1st"
    SECOND = 2, "2nd"
    THIRD = 3, "3rd"
    FOURTH = 4, "4th"
    LAST = -1, "Last"


class Cadence(models.Model):
    """A unit's recurring sessions: weekly, every two weeks or monthly (the nth or last weekday of the month)
    at a wall-clock time in the organization's time zone. The sessions are generated ahead of time
    (coaching.cadences); each keeps the date it stands for in `CoachingSession.occurrence`."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="cadences")
    coach = models.ForeignKey(User, on_delete=models.PROTECT, related_name="coached_cadences")
    participants = models.ManyToManyField(User, blank=True, related_name="coaching_cadences")
    kind = models.CharField(max_length=16, choices=SessionKind.choices, default=SessionKind.MONTHLY_REVIEW)
    frequency = models.CharField(max_length=8, choices=CadenceFrequency.choices, default=CadenceFrequency.MONTHLY)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    week_of_month = models.SmallIntegerField(
        choices=WeekOfMonth.choices, null=True, blank=True, help_text="Monthly cadences: which weekday of the month."
    )
    time_of_day = models.TimeField(help_text="Local time in the organization's time zone.")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    agenda = models.TextField(blank=True, max_length=4000, help_text="The agenda each generated session starts with.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = OrgManager()

    class Meta:
        ordering = ["unit__path", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6),
                name="cadence_has_weekday",
                violation_error_message="Choose the weekday the sessions fall on.",
            ),
            models.CheckConstraint(
                condition=~Q(frequency="monthly") | Q(week_of_month__in=[1, 2, 3, 4, -1]),
                name="cadence_monthly_has_week",
                violation_error_message="A monthly cadence needs the week of the month (1st to 4th, or last).",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="cadence_ends_after_start",
                violation_error_message="The cadence cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.unit}"

    @property
    def rule_text(self) -> str:
        """ "Every two weeks on Thursday at 14:00", "Monthly on the last Wednesday at 10:00"."""
        day = Weekday(self.weekday).label if self.weekday is not None else "?"
        at = f"{self.time_of_day:%H:%M}" if self.time_of_day else "?"
        if self.frequency == CadenceFrequency.MONTHLY:
            week = WeekOfMonth(self.week_of_month).label.lower() if self.week_of_month is not None else "?"
            return f"Monthly on the {week} {day} at {at}"
        if self.frequency == CadenceFrequency.BIWEEKLY:
            return f"Every two weeks on {day} at {at}"
        return f"Weekly on {day} at {at}"


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
    cadence = models.ForeignKey(
        Cadence, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions",
        help_text="The cadence that generated the session.",
    )  # fmt: skip
    occurrence = models.DateField(
        null=True, blank=True, help_text="The cadence date this session stands for; kept when the session is moved."
    )
    moved = models.BooleanField(default=False, help_text="Moved away from its cadence's time by hand.")

    objects = OrgManager()

    class Meta:
        ordering = ["-scheduled_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "unit", "scheduled_at"], name="session_org_unit_time"),
            models.Index(fields=["organization", "scheduled_at"], name="session_org_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="held") | Q(held_at__isnull=False),
                name="session_held_has_time",
                violation_error_message="A held session needs the time it was held.",
            ),
            # One session per cadence date: generating again (or concurrently) adds nothing, and a moved or
            # cancelled occurrence keeps its date, so it is never generated a second time.
            models.UniqueConstraint(
                fields=["cadence", "occurrence"],
                name="session_one_per_cadence_occurrence",
                violation_error_message="The cadence already has a session for this date.",
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


class CalendarFeed(models.Model):
    """A member's subscription to their coaching sessions as an .ics feed.

    No secret is stored: the feed's URL carries an HMAC of (id, version) under SECRET_KEY, so the page can
    show the link again at any time, and "reset" bumps `version`, which turns every earlier link into a 404.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="calendar_feeds")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    reset_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="calendarfeed_one_per_member"),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} in {self.organization_id}"


# --- Notifications -----------------------------------------------------------------------------------


class NotificationKind(models.TextChoices):
    DAILY_DIGEST = "daily_digest", "Daily digest"
    SESSION_SOON = "session_soon", "Session reminder"
    COACH_WEEKLY = "coach_weekly", "Weekly coach digest"
    MENTION = "mention", "Mention in a comment"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email and inbox"
    IN_APP = "in_app", "Inbox only"


class Notification(models.Model):
    """One reminder or digest for one person: shown in their inbox, and mailed when `channel` is email.

    `dedupe_key` names the reminder (`daily-digest:<user>:<org>:<local date>` ...); its unique constraint is
    what makes each reminder exist once, whatever the number of beat ticks and workers (docs/reminders.md).
    Email rows are the outbox: a sender claims an unsent row, mails it and sets `sent_at` in one
    transaction."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Indexed by notification_inbox (recipient first); no index of its own to keep a tick's inserts cheap.
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    subject = models.CharField(max_length=255)
    body = models.TextField(help_text="Plain text.")
    html = models.TextField(blank=True, help_text="HTML alternative of the mail, optional.")
    ics = models.TextField(blank=True, help_text="A calendar invite (.ics) attached to the mail, optional.")
    link = models.CharField(max_length=500, blank=True, help_text="Path of the page to act on.")
    dedupe_key = models.CharField(max_length=200)  # unique: see Meta (a constraint, without a LIKE index)
    channel = models.CharField(max_length=8, choices=NotificationChannel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="After a failed attempt: not before.")
    failed_at = models.DateTimeField(
        null=True, blank=True, help_text="Given up: refused for good, or too many attempts."
    )
    last_error = models.TextField(blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "organization", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["recipient", "organization"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["id"],
                condition=Q(channel="email", sent_at__isnull=True, failed_at__isnull=True),
                name="notification_outbox",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="notification_unique_dedupe_key"),
            models.CheckConstraint(
                condition=Q(channel="email") | Q(sent_at__isnull=True), name="notification_only_email_is_sent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """Which reminders a member also gets by email (the inbox always shows them)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    membership = models.OneToOneField(Membership, on_delete=models.CASCADE, related_name="notification_preference")
    email_daily_digest = models.BooleanField("Daily digest: KPI values and action items due and overdue", default=True)
    email_sessions = models.BooleanField("Coaching sessions coming up, with a calendar invite", default=True)
    email_coach_weekly = models.BooleanField("Weekly coach digest (Mondays)", default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    EMAIL_FIELDS = {
        NotificationKind.DAILY_DIGEST: "email_daily_digest",
        NotificationKind.SESSION_SOON: "email_sessions",
        NotificationKind.COACH_WEEKLY: "email_coach_weekly",
    }

    def __str__(self) -> str:
        return f"Notification preferences of membership {self.membership_id}"


# --- Review packs ------------------------------------------------------------------------------------


class ReviewPackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being made"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


REVIEW_PACK_ACTIVE = (ReviewPackStatus.QUEUED, ReviewPackStatus.RUNNING)


class ReviewPack(models.Model):
    """The monthly review's pack for one unit and period (coaching.review_packs): the map coloured by status,
    the scorecard, the sub-units' heat map, the red and amber KPIs with their comments, the open action items,
    the coach's last notes and the accountability figures, as a PDF and an XLSX made by a Celery task.

    The files are kept in the row (bytea), not under MEDIA_ROOT: the web and the worker containers share
    PostgreSQL but no volume, the files appear in the same UPDATE that marks the pack done (never a status
    without its file, nor a file without its row), a pack is scoped and deleted like every organization row,
    and a pack is small (tens to hundreds of kB). Lists read the rows with the files deferred. A pack is kept
    90 days (`expires_at`); a nightly task deletes expired ones."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="review_packs")
    period_kind = models.CharField(
        max_length=7, choices=[("month", "Month"), ("quarter", "Quarter"), ("year", "Year")], default="month"
    )
    period = models.DateField(help_text="The first month of the period.")
    requested_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=8, choices=ReviewPackStatus.choices, default=ReviewPackStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0 to 100.")
    step = models.CharField(max_length=120, blank=True, help_text="What the build is doing now, in words.")
    error = models.TextField(blank=True, help_text="Why the build failed.")
    pdf = models.BinaryField(null=True, editable=False)
    xlsx = models.BinaryField(null=True, editable=False)
    pdf_pages = models.PositiveSmallIntegerField(null=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="reviewpack_org_created"),
            models.Index(fields=["expires_at"], name="reviewpack_expires"),
        ]
        constraints = [
            # One pack in the making per unit and period: a second request gets the first one's progress.
            models.UniqueConstraint(
                fields=["organization", "unit", "period_kind", "period"],
                condition=Q(status__in=["queued", "running"]),
                name="reviewpack_one_active_per_unit_period",
                violation_error_message="A pack for this unit and period is already being made.",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="reviewpack_progress_at_most_100"),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(pdf__isnull=False) & Q(xlsx__isnull=False)),
                name="reviewpack_done_has_files",
                violation_error_message="A ready pack has its PDF and its spreadsheet.",
            ),
        ]

    def __str__(self) -> str:
        return f"Review pack of {self.unit_id} for {self.period_kind} {self.period:%Y-%m} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in REVIEW_PACK_ACTIVE
