"""Celery tasks of the KPI app: thin adapters that load fresh rows and call one service. A beat task that
concerns every organization only lists their ids and publishes one task per organization, which carries
the time limits of bsc.tasks.PER_ORGANIZATION."""

from celery import shared_task

from bsc.models import Organization
from bsc.publish import Queued, queued_rows
from bsc.tasks import PER_ORGANIZATION, publish_per_organization
from bsc.tenancy import organization_scope
from kpis import link_evidence, outbox
from kpis.models import ImportBatch, ImportStatus


# ignore_result: nobody waits for a recompute's count, and a publisher that subscribed to it would, with Redis down,
# spend the result store's 20 s of reconnecting before the saving page could answer (tests/soak/test_redis_down.py).
@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5, ignore_result=True,
    **PER_ORGANIZATION,
)  # fmt: skip
def scores_recompute(*, organization_id: int) -> int:
    """Recompute what the organization's recompute outbox asks for (idempotent: a second run, or one
    running at the same time, finds nothing left and returns 0)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0  # the organization is gone: nothing left to do
    with organization_scope(organization):
        count = outbox.scores_recompute_pending(organization=organization)
    if count:
        link_evidence_refresh.delay(organization_id=organization_id)  # the scores it reads have committed
    return count


@shared_task(acks_late=True)
def scores_recompute_sweep() -> int:
    """Beat, every minute: publish a recompute for each organization whose outbox holds requests older
    than a minute (the repair path for a task lost between commit and publish, or a run that failed)."""
    organization_ids = outbox.organizations_to_sweep()
    for organization_id in organization_ids:
        scores_recompute.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(acks_late=True)
def scores_recompute_nightly() -> int:
    """Beat, nightly: publish one full rebuild per organization; returns how many were published."""
    return publish_per_organization(scores_rebuild)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5, **PER_ORGANIZATION)
def scores_rebuild(*, organization_id: int) -> int:
    """Rebuild the organization's scores from the source rows, clearing the outbox rows that rebuild
    covered. Idempotent: a second run writes the same rows."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        count = outbox.scores_rebuild(organization=organization)
    link_evidence_refresh.delay(organization_id=organization_id)
    return count


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5, **PER_ORGANIZATION)
def link_evidence_refresh(*, organization_id: int) -> int:
    """Recompute the evidence of the organization's cause-effect links from its stored scores (after a recompute or
    a rebuild). Idempotent: a second run writes the same rows."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        return link_evidence.link_evidence_refresh(organization=organization)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3, **PER_ORGANIZATION)
def measurement_import(*, organization_id: int, batch_id: int) -> int:
    """Write a confirmed import batch (a batch already imported, cancelled or refused is left alone)."""
    from kpis.imports import import_batch_run

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        batch = import_batch_run(batch_id=batch_id, organization=organization)
        return 0 if batch is None else batch.written_rows


def imports_queued(*, older_than) -> list[Queued]:
    """bsc.events.queued_tasks: the confirmed imports still waiting for their task, previewed before `older_than`
    (a batch is queued when it is confirmed, after its preview)."""
    return queued_rows(
        ImportBatch, older_than=older_than, task=measurement_import, id_argument="batch_id", status=ImportStatus.QUEUED
    )
