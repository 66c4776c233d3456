"""Review packs (issue 16): asking for one (a second request while one is being made gets the first one's
progress), making it in a Celery task step by step (coaching.review_pack_content reads, coaching.review_pack_files
renders the PDF and the spreadsheet), and forgetting them after 90 days."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone

from bsc import org_calendar
from bsc.models import Membership, Organization, OrgUnit, Scorecard, User
from bsc.publish import Queued, queued_rows, task_publish_on_commit
from coaching.models import REVIEW_PACK_ACTIVE, ReviewPack, ReviewPackStatus
from kpis.models import ScorecardScore

logger = logging.getLogger(__name__)

KEPT_DAYS = 90
KIND_WORDS = {org_calendar.QUARTER: "a fiscal quarter", org_calendar.YEAR: "a fiscal year"}


@dataclass
class PackRequest:
    pack: ReviewPack
    created: bool  # False: a pack for the same unit and period was already being made, and this is it


def review_pack_period_check(*, organization: Organization, kind: str, period: date) -> None:
    """Refuse a period that is not a period start of its kind, or one without stored scores (outside the
    organization's data), naming the span the data covers."""
    if kind not in org_calendar.KINDS:
        raise ValidationError({"kind": f"“{str(kind)[:40]}” is not a kind of period: month, quarter or year."})
    fiscal_start = organization.fiscal_year_start_month
    start = org_calendar.window_start(kind, period, fiscal_start)
    label = org_calendar.period_label(kind, period, fiscal_start)
    if start != period:
        raise ValidationError(
            {"period": f"{period:%Y-%m} does not start {KIND_WORDS[kind]}: name it by its first month, "
             f"{start:%Y-%m} for {label}."}
        )  # fmt: skip
    found = (
        ScorecardScore.objects.for_organization(organization)
        .filter(period_kind=kind)
        .aggregate(first=Min("period"), last=Max("period"), here=Count("id", filter=Q(period=period)))
    )
    if found["here"]:
        return
    if found["first"] is None:
        reason = "the organization has no stored scores yet."
    else:
        span = [org_calendar.period_label(kind, found[end], fiscal_start) for end in ("first", "last")]
        reason = f"the organization's data runs from {span[0]} to {span[1]}."
    raise ValidationError({"period": f"No scores are stored for {label}: {reason}"})


def review_pack_unit_check(*, unit: OrgUnit) -> Scorecard:
    """The unit's scorecard; refused when the unit has no strategy map (no scorecard or no objective)."""
    scorecard = Scorecard.objects.for_organization(unit.organization_id).filter(unit=unit).first()
    if scorecard is None or not scorecard.objectives.exists():
        raise ValidationError(
            {"unit": f"{unit.name} has no strategy map yet: add its objectives before asking for a review pack."}
        )
    return scorecard


def review_pack_request(
    *, organization: Organization, unit: OrgUnit, kind: str, period: date, by: User, publish: bool = True
) -> PackRequest:
    """Ask for the pack of `unit` for the period of `kind` starting in `period`. While a pack for the same unit and
    period is queued or being made, that pack is the answer (nothing new is queued); otherwise a new pack is
    queued and its build published when the transaction commits (unless `publish` is False: the caller builds
    it itself, as the demo's seeding does)."""
    if unit.organization_id != organization.pk:
        raise ValidationError({"unit": "No such unit in this organization."})
    review_pack_period_check(organization=organization, kind=kind, period=period)
    review_pack_unit_check(unit=unit)
    active = ReviewPack.objects.for_organization(organization).filter(
        unit=unit, period_kind=kind, period=period, status__in=REVIEW_PACK_ACTIVE
    )
    existing = active.defer("pdf", "xlsx").first()
    if existing is not None:
        return PackRequest(existing, created=False)
    now = timezone.now()
    pack = ReviewPack(
        organization=organization, unit=unit, period_kind=kind, period=period, requested_by=by,
        created_at=now, expires_at=now + timedelta(days=KEPT_DAYS), step="Waiting for a worker",
    )  # fmt: skip
    try:
        with transaction.atomic():
            pack.save()
    except IntegrityError:
        # Asked twice at the same moment: the other request's pack won the unique constraint.
        existing = active.defer("pdf", "xlsx").first()
        if existing is None:
            raise
        return PackRequest(existing, created=False)
    if not publish:
        return PackRequest(pack, created=True)
    from coaching.tasks import review_pack_build

    # With the broker down the pack stays queued ("Waiting for a worker") until review_packs_queued's republish.
    task_publish_on_commit(review_pack_build, organization_id=organization.pk, pack_id=pack.pk)
    return PackRequest(pack, created=True)


def review_packs_queued(*, older_than: datetime) -> list[Queued]:
    """bsc.events.queued_tasks: the packs of every organization asked for before `older_than` and still waiting
    for a worker (their build was not published: the broker was down)."""
    from coaching.tasks import review_pack_build

    return queued_rows(
        ReviewPack, older_than=older_than, task=review_pack_build, id_argument="pack_id", status=ReviewPackStatus.QUEUED
    )


def review_pack_claim(*, organization: Organization, pack_id: int) -> ReviewPack | None:
    """Mark the pack running, or None when it is not this task's to make: gone, already made or failed, or being
    made by another run (a claim older than the task time limit is a killed worker's and is taken over)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.TASK_TIME_LIMIT)
    claimed = (
        ReviewPack.objects.for_organization(organization)
        .filter(pk=pack_id)
        .filter(Q(status=ReviewPackStatus.QUEUED) | Q(status=ReviewPackStatus.RUNNING, started_at__lt=stale))
        .update(status=ReviewPackStatus.RUNNING, started_at=now, progress=5, step="Starting")
    )
    if claimed != 1:
        return None
    return ReviewPack.objects.for_organization(organization).select_related("unit", "requested_by").get(pk=pack_id)


def review_pack_build(*, organization: Organization, pack_id: int) -> ReviewPack | None:
    """Make the pack: read its content, render the PDF and the spreadsheet, and store both with the status done
    in one UPDATE (nothing half-made: a failure stores no file). A failure marks the pack failed with the reason.
    Returns the pack, or None when it was not this run's to make."""
    from coaching.review_pack_content import review_pack_content
    from coaching.review_pack_files import pack_pdf, pack_xlsx

    pack = review_pack_claim(organization=organization, pack_id=pack_id)
    if pack is None:
        return None
    report = _progress_reporter(organization, pack.pk)
    try:
        membership = (
            Membership.objects.for_organization(organization)
            .select_related("user")
            .filter(user=pack.requested_by_id)
            .first()
        )
        if membership is None:
            raise ValidationError("The person who asked for the pack is no longer a member of the organization.")
        review_pack_period_check(organization=organization, kind=pack.period_kind, period=pack.period)
        review_pack_unit_check(unit=pack.unit)
        content = review_pack_content(
            organization=organization, unit=pack.unit, kind=pack.period_kind, period=pack.period,
            membership=membership, progress=report,
        )  # fmt: skip
        report(60, "Laying out the PDF")
        pdf, pages = pack_pdf(content)
        report(90, "Writing the spreadsheet")
        xlsx = pack_xlsx(content)
    except Exception as error:  # noqa: BLE001 (every failure ends the pack as failed, with its reason)
        reason = _reason(error)
        if not isinstance(error, ValidationError):
            logger.exception("Review pack %s failed", pack.pk)
        ReviewPack.objects.for_organization(organization).filter(pk=pack.pk, status=ReviewPackStatus.RUNNING).update(
            status=ReviewPackStatus.FAILED, error=reason, step="", finished_at=timezone.now()
        )
        pack.refresh_from_db()
        return pack
    ReviewPack.objects.for_organization(organization).filter(pk=pack.pk, status=ReviewPackStatus.RUNNING).update(
        status=ReviewPackStatus.DONE, pdf=pdf, xlsx=xlsx, pdf_pages=pages, progress=100, step="",
        finished_at=timezone.now(),
    )  # fmt: skip
    pack.refresh_from_db()
    return pack


def _progress_reporter(organization: Organization, pack_id: int):
    """`report(percent, step)`: the running pack's progress, written at once (the page polls it)."""
    rows = ReviewPack.objects.for_organization(organization).filter(pk=pack_id, status=ReviewPackStatus.RUNNING)

    def report(percent: int, step: str) -> None:
        rows.update(progress=min(max(percent, 0), 99), step=step[:120])

    return report


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    if isinstance(error, SoftTimeLimitExceeded):
        return (
            f"The pack took longer than the {settings.TASK_SOFT_TIME_LIMIT} seconds a task may run; ask for it "
            "again, or for a smaller unit."
        )
    return (
        f"The pack could not be made ({type(error).__name__}: {str(error)[:300]}). Ask for it again; if it fails "
        "again, tell your administrator."
    )


def review_packs_expire(*, organization: Organization) -> int:
    """Delete the organization's packs older than 90 days, and end as failed the packs left queued or running for
    longer than a task may run (their build was lost), so that they can be asked for again. Returns how many
    packs were deleted."""
    now = timezone.now()
    lost = now - timedelta(seconds=2 * settings.TASK_TIME_LIMIT)
    packs = ReviewPack.objects.for_organization(organization)
    packs.filter(status__in=REVIEW_PACK_ACTIVE, created_at__lt=lost).filter(
        Q(started_at__isnull=True) | Q(started_at__lt=lost)
    ).update(
        status=ReviewPackStatus.FAILED,
        step="",
        finished_at=now,
        error="The pack was never finished (its task was lost); ask for it again.",
    )
    deleted, _ = packs.filter(expires_at__lte=now).delete()
    return deleted


def review_pack_list(*, organization: Organization) -> QuerySet[ReviewPack]:
    """The organization's packs, newest first, without their files."""
    return (
        ReviewPack.objects.for_organization(organization)
        .select_related("unit", "requested_by")
        .defer("pdf", "xlsx")
        .order_by("-created_at", "-id")
    )
