"""Celery tasks of the coaching app: thin adapters that load fresh rows and call one service. The daily
cadence top-up and the reminder tick (beat, every 15 minutes) publish one task per organization; those and
the mail sender are never scheduled with an ETA or countdown: each asks PostgreSQL what is due now, and the
unique dedupe key, not beat or the broker, makes each reminder exist once (docs/reminders.md)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from bsc.models import Organization
from bsc.tasks import PER_ORGANIZATION, publish_per_organization
from bsc.tenancy import organization_scope
from coaching import notifications, reminders


@shared_task(acks_late=True)
def cadences_generate_ahead() -> int:
    """Beat, daily: publish one top-up of the cadences per organization; returns how many."""
    return publish_per_organization(cadences_generate_organization)


@shared_task(
    acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3,
    **PER_ORGANIZATION,
)  # fmt: skip
def cadences_generate_organization(*, organization_id: int) -> int:
    """Keep every active cadence of the organization generated to its horizon; returns how many sessions it
    added. Idempotent (a unique cadence date), so a second beat or a retry adds nothing."""
    from coaching.cadences import cadence_generate_all

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:  # removed since the beat published it: nothing to generate (as kpis' tasks do)
        return 0
    with organization_scope(organization):
        return cadence_generate_all(organization=organization)


@shared_task(acks_late=True)
def reminders_tick() -> int:
    """Beat, every 15 minutes: publish one reminder decision per organization; returns how many."""
    return publish_per_organization(reminders_tick_organization)


@shared_task(
    acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3,
    **PER_ORGANIZATION,
)  # fmt: skip
def reminders_tick_organization(*, organization_id: int) -> dict:
    """Record every reminder due now in the organization and queue the sending of the new mails. Safe to
    run twice, or on two workers at once: a reminder already recorded is not recorded again."""
    decision = reminders.reminders_decide(organization_id=organization_id)
    return {"written": dict(decision.written), "emails": decision.emails}


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def notifications_send(limit: int = 500) -> int:
    """Mail the unsent email notifications (a killed run's task comes back and finds what is left)."""
    report = notifications.notifications_send(limit=limit)
    if report.more:
        notifications_send.delay(limit=limit)
    return report.sent


@shared_task(acks_late=True, **PER_ORGANIZATION)
def review_pack_build(*, organization_id: int, pack_id: int) -> str:
    """Make a review pack (no automatic retry: a failed build is marked failed with its reason, and asked for
    again by a person). Safe to run twice: only the run that claims the queued pack makes it."""
    from coaching.review_packs import review_pack_build as build

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return "gone"
    with organization_scope(organization):
        pack = build(organization=organization, pack_id=pack_id)
        return "not claimed" if pack is None else pack.status


@shared_task(acks_late=True)
def review_packs_expire() -> int:
    """Beat, nightly: publish one clean-up of review packs per organization; returns how many."""
    return publish_per_organization(review_packs_expire_organization)


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3,
             **PER_ORGANIZATION)  # fmt: skip
def review_packs_expire_organization(*, organization_id: int) -> int:
    """Delete the organization's review packs older than 90 days (and end lost builds as failed)."""
    from coaching.review_packs import review_packs_expire as expire

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        return expire(organization=organization)
