"""KPIs, their targets (with recalibrations), measurements (with audit history) and stored scores."""

from __future__ import annotations

from decimal import Decimal

import pghistory
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now

from bsc.models import CauseEffectLink, Objective, Organization, OrgUnit, Perspective, Scorecard, User
from bsc.tenancy import OrgManager

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_.-]*$",
    "Start with a letter; then letters, digits, '_', '-' or '.' (it is used in formulas).",
)
FRACTION = [MinValueValidator(0), MaxValueValidator(1)]


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase (higher is better)"
    DECREASE = "decrease", "Decrease (lower is better)"
    BAND = "band", "Band (stay within a range)"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    ANNUAL = "annual", "Annual"


class Source(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    ROLLUP = "rollup", "Rolled up from child units"
    FORMULA = "formula", "Calculated by a formula"


class Aggregation(models.TextChoices):
    SUM = "sum", "Sum"
    AVERAGE = "average", "Average"
    LAST = "last", "Last value"
    MIN = "min", "Minimum"
    MAX = "max", "Maximum"


class RollupMethod(models.TextChoices):
    SUM = "sum", "Sum"
    AVERAGE = "average", "Average"
    WEIGHTED_AVERAGE = "weighted_average", "Weighted average"
    MIN = "min", "Minimum"
    MAX = "max", "Maximum"


class Kpi(models.Model):
    """A key performance indicator of one unit, usually serving one of its objectives."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.PROTECT, related_name="kpis")
    objective = models.ForeignKey(Objective, on_delete=models.SET_NULL, null=True, blank=True, related_name="kpis")
    name = models.CharField(max_length=160)
    code = models.CharField(max_length=40, validators=[CODE_VALIDATOR])
    description = models.TextField(blank=True, max_length=4000)
    measurement_unit = models.CharField(max_length=20, blank=True, help_text="For example %, EUR, days.")
    decimals = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(6)])
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.INCREASE)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    baseline = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    band_low = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    band_high = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    band_tolerance = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    green_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=FRACTION,
        help_text="Leave empty to use the organization's.",
    )  # fmt: skip
    amber_threshold = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, validators=FRACTION,
        help_text="Leave empty to use the organization's.",
    )  # fmt: skip
    weight = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("1.00"), validators=[MinValueValidator(0)]
    )
    owner = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approver = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="Accepts the values department heads enter, when the organization asks for approval. Leave "
        "empty for the KPI's owner.",
    )  # fmt: skip
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    formula = models.CharField(max_length=500, blank=True)
    rollup_method = models.CharField(max_length=20, choices=RollupMethod.choices, blank=True)
    aligned_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="aligned_from",
        help_text="The parent unit's KPI this KPI contributes to.",
    )  # fmt: skip
    time_aggregation = models.CharField(max_length=10, choices=Aggregation.choices, default=Aggregation.AVERAGE)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["unit__path", "code"]
        verbose_name = "KPI"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"],
                name="kpi_unique_code_per_organization",
                violation_error_message="Another KPI of this organization already uses this code.",
            ),
            models.CheckConstraint(
                condition=Q(amber_threshold__isnull=True)
                | Q(green_threshold__isnull=True)
                | Q(amber_threshold__lt=F("green_threshold")),
                name="kpi_amber_below_green",
                violation_error_message="The amber threshold must be below the green threshold.",
            ),
            models.CheckConstraint(
                condition=~Q(direction="band")
                | Q(band_low__isnull=False, band_high__isnull=False, band_low__lte=F("band_high")),
                name="kpi_band_complete",
                violation_error_message="A band KPI needs a low and a high bound, low not above high.",
            ),
            models.CheckConstraint(
                condition=~Q(source="formula") | ~Q(formula=""),
                name="kpi_formula_present",
                violation_error_message="A formula KPI needs a formula.",
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="kpi_weight_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Target(models.Model):
    """The target of a KPI for one period; a recalibration keeps the original value."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="targets")
    period = models.DateField(help_text="First day of the period (month, fiscal quarter or fiscal year).")
    value = models.DecimalField(max_digits=20, decimal_places=6)
    original_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["period"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period"],
                name="target_one_per_kpi_period",
                violation_error_message="This KPI already has a target for that period.",
            )
        ]
        indexes = [models.Index(fields=["organization", "period"], name="target_org_period")]

    def __str__(self) -> str:
        return f"Target {self.value} for {self.kpi.code} {self.period:%Y-%m}"


class TargetRecalibration(models.Model):
    """One change of a period's target after it was set: who, when, why, from what to what."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="recalibrations")
    old_value = models.DecimalField(max_digits=20, decimal_places=6)
    new_value = models.DecimalField(max_digits=20, decimal_places=6)
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.old_value} → {self.new_value}: {self.reason}"


class Approval(models.TextChoices):
    APPROVED = "approved", "Approved"
    SUBMITTED = "submitted", "Waiting for approval"
    RETURNED = "returned", "Returned"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Measurement(models.Model):
    """A KPI's actual value for one period. `version` grows with every change: a save against an older
    version is refused so concurrent edits never overwrite one another silently."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="measurements")
    period = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    comment = models.TextField(blank=True, max_length=2000)
    entered_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    entered_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    # Issue 17, kpis/approval.py: while the organization asks for approval, a department head's value is
    # "submitted" until the KPI's approver accepts it (scores read approved values only) or returns it.
    approval = models.CharField(
        max_length=9, choices=Approval.choices, default=Approval.APPROVED, db_default=Approval.APPROVED
    )
    reviewed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    return_comment = models.CharField(max_length=500, blank=True, db_default="")

    objects = OrgManager()

    class Meta:
        ordering = ["period"]
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period"],
                name="measurement_one_per_kpi_period",
                violation_error_message="This KPI already has a value for that period.",
            )
        ]
        indexes = [models.Index(fields=["organization", "period"], name="measurement_org_period")]

    def __str__(self) -> str:
        return f"{self.kpi.code} {self.period:%Y-%m} = {self.value}"


class PeriodKind(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"
    YEAR = "year", "Year"


class ScoreBase(models.Model):
    """A computed score, stored (not recomputed per page view), with the coverage of the data behind it."""

    # No index of its own: every read goes through the owner's unique (owner, period_kind, period) index, and
    # each index costs the set-based recompute on every row it writes. No foreign-key constraint either: these
    # rows are derived, deleted with their owner by Django's cascade and by the full recompute when their source
    # is gone, and a constraint would check each of the two million rows of a rebuild one by one at commit.
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    period_kind = models.CharField(max_length=7, choices=PeriodKind.choices, default=PeriodKind.MONTH)
    period = models.DateField()
    score = models.DecimalField(max_digits=9, decimal_places=4, null=True)
    status = models.CharField(max_length=5, default="grey")
    coverage = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"))
    computed_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.period_kind} {self.period:%Y-%m}: {self.score} ({self.status})"


class KpiScore(ScoreBase):
    kpi = models.ForeignKey(Kpi, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False)
    actual = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    target = models.DecimalField(max_digits=20, decimal_places=6, null=True)
    progress = models.DecimalField(max_digits=12, decimal_places=4, null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kpi", "period_kind", "period"], name="kpiscore_unique_period"),
        ]


class ObjectiveScore(ScoreBase):
    objective = models.ForeignKey(
        Objective, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["objective", "period_kind", "period"], name="objectivescore_unique_period"),
        ]


class PerspectiveScore(ScoreBase):
    perspective = models.ForeignKey(
        Perspective, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["perspective", "period_kind", "period"], name="perspectivescore_unique_period"
            ),
        ]


class ScorecardScore(ScoreBase):
    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "period_kind", "period"], name="scorecardscore_unique_period"),
        ]
        indexes = [models.Index(fields=["organization", "period_kind", "period"], name="scorecardscore_org_period")]


class PendingRecompute(models.Model):
    """The recompute outbox: scores waiting to be recomputed. A row asks for one of three things: a KPI-period
    (a measurement or target changed: the KPI and what depends on it, in that month's windows), a unit (its
    map changed: the unit and its ancestors in every month with data) or, with neither, the whole
    organization (its thresholds or fiscal year changed). A change writes its rows in its own transaction;
    the task that recomputes them deletes exactly the rows it claimed, in the transaction that writes the
    new scores. Append-only (no unique key): a change committed while a recompute runs adds a row of its
    own, which that recompute's delete cannot take away.

    No foreign-key constraint and no KPI or unit index: an import notes thousands of rows at once, each of
    which a constraint would check at commit; the rows live for seconds, are read by organization, and
    Django's cascade still deletes a deleted KPI's or unit's rows (a recompute of an unknown KPI finds
    nothing to do)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    kpi = models.ForeignKey(
        Kpi, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False, null=True
    )
    unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False, null=True
    )
    period = models.DateField(null=True)
    created_at = models.DateTimeField(db_default=Now())

    objects = OrgManager()

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="pendingrecompute_org_created")]

    def __str__(self) -> str:
        if self.kpi_id is not None:
            return f"Recompute KPI {self.kpi_id} {self.period:%Y-%m}"
        return f"Recompute unit {self.unit_id}" if self.unit_id is not None else "Rebuild the organization"


class LinkEvidence(models.Model):
    """How strongly a cause-effect link's two objectives moved together over the last 24 months (issue 18,
    kpis/link_evidence.py): the Spearman rank correlation of their monthly score changes at lags of 0 to 3 months,
    the best lag, and the number of paired months behind each. Derived: rewritten by a task after scores change."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    link = models.OneToOneField(CauseEffectLink, on_delete=models.CASCADE, related_name="evidence")
    best_lag = models.PositiveSmallIntegerField(null=True, help_text="Months the effect follows the cause by.")
    rho = models.DecimalField(max_digits=5, decimal_places=4, null=True, help_text="Spearman's rho at the best lag.")
    pairs = models.PositiveSmallIntegerField(default=0, help_text="Paired monthly changes at the best lag.")
    lags = models.JSONField(default=list, help_text='[{"lag": 0, "rho": "0.5000" or null, "pairs": 12}, ...]')
    window_end = models.DateField(help_text="The last month of the 24 read.")
    computed_at = models.DateTimeField(auto_now=True)

    objects = OrgManager()

    def __str__(self) -> str:
        return f"Evidence for link {self.link_id}: rho {self.rho} at lag {self.best_lag} ({self.pairs} pairs)"


class ImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Checked, waiting for your choice"
    QUEUED = "queued", "Waiting for a worker"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Refused, nothing written"
    CANCELLED = "cancelled", "Cancelled, nothing written"


class ImportBatch(models.Model):
    """An uploaded file of measurements between its preview and its import: the checked rows are kept
    here (server-side) so that confirming imports exactly what the preview showed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    # [kpi_id, "YYYY-MM-DD", "value", comment or null (keep), version seen or null (new)] per row to write
    rows = models.JSONField(default=list)
    # {"row": n, "code": ..., "period": ..., "value": ..., "messages": [...]} per row with problems
    problems = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    unchanged_rows = models.PositiveIntegerField(default=0)
    changed_rows = models.PositiveIntegerField(default=0, help_text="Valid rows that change an existing value.")
    skipped_rows = models.PositiveIntegerField(default=0, help_text="Rows without a value, skipped.")
    progress = models.PositiveIntegerField(default=0)
    written_rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"Import of {self.filename} ({self.status})"

    @property
    def valid_rows(self) -> int:
        return len(self.rows) + self.unchanged_rows

    @property
    def problem_rows(self) -> int:
        return len(self.problems)

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)


class PeriodClose(models.Model):
    """A month closed for a unit and every unit below it (the root unit: the whole organization), by an executive
    or admin after the close checklist. While it is not reopened, the month's measurements and targets refuse
    every write and its stored scores stay as they were (kpis/period_close.py holds the rule). Reopening keeps
    the row, with who reopened it, when and why: the table is the history of the month's closes."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey(OrgUnit, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The first day of the closed month.")
    closed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    closed_at = models.DateTimeField()
    reopened_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.CharField(max_length=500, blank=True)

    objects = OrgManager()

    class Meta:
        ordering = ["-month", "-closed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "month"],
                condition=Q(reopened_at__isnull=True),
                name="periodclose_one_open_close_per_unit_month",
                violation_error_message="This month is already closed for this unit.",
            ),
            models.CheckConstraint(
                condition=Q(reopened_at__isnull=True) | ~Q(reopen_reason=""),
                name="periodclose_reopen_has_reason",
                violation_error_message="Say why the month is reopened.",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="periodclose_month_starts_on_day_one"),
        ]
        indexes = [models.Index(fields=["organization", "month"], name="periodclose_org_month")]

    def __str__(self) -> str:
        state = "reopened" if self.reopened_at else "closed"
        return f"{self.month:%Y-%m} {state} for unit {self.unit_id}"

    @property
    def is_open(self) -> bool:
        """Reopened: it no longer locks anything (kept as history)."""
        return self.reopened_at is not None
