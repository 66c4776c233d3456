"""Celery tasks of the KPI app: thin adapters that load fresh rows and call one service."""

from datetime import date

from celery import shared_task

from bsc.models import Organization
from bsc.tenancy import organization_scope
from kpis import outbox


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def scores_recompute(
    *, organization_id: int, kpi_ids: list[int] | None = None, periods: list[str] | None = None
) -> int:
    """Recompute what the organization's recompute outbox asks for (idempotent: a second run, or one
    running at the same time, finds nothing left and returns 0). `kpi_ids` and `periods` come only from
    messages published before the outbox existed: they are noted in the outbox first."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0  # the organization is gone: nothing left to do
    with organization_scope(organization):
        if kpi_ids and periods:
            outbox.scores_recompute_request(
                organization_id=organization_id,
                changes=[(kpi_id, date.fromisoformat(p)) for kpi_id in kpi_ids for p in periods],
                publish=False,  # this run takes them
            )
        return outbox.scores_recompute_pending(organization=organization)


@shared_task(acks_late=True)
def scores_recompute_sweep() -> int:
    """Beat, every minute: publish a recompute for each organization whose outbox holds requests older
    than a minute (the repair path for a task lost between commit and publish, or a run that failed)."""
    organization_ids = outbox.organizations_to_sweep()
    for organization_id in organization_ids:
        scores_recompute.delay(organization_id=organization_id)
    return len(organization_ids)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def scores_recompute_units(*, organization_id: int, unit_ids: list[int]) -> int:
    """Only for messages published before map changes went through the outbox: the units are noted there,
    then recomputed with everything else the outbox holds."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        outbox.scores_recompute_request_units(organization_id=organization_id, unit_ids=unit_ids, publish=False)
        return outbox.scores_recompute_pending(organization=organization)


@shared_task(acks_late=True)
def scores_recompute_nightly() -> int:
    """Beat, nightly: rebuild every organization's scores from the source rows, clearing the outbox rows
    that rebuild covered. Idempotent: a second run writes the same rows."""
    total = 0
    for organization in Organization.objects.all():
        with organization_scope(organization):
            total += outbox.scores_rebuild(organization=organization)
    return total


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def measurement_import(*, organization_id: int, batch_id: int) -> int:
    """Write a confirmed import batch (a batch already imported, cancelled or refused is left alone)."""
    from kpis.imports import import_batch_run

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        batch = import_batch_run(batch_id=batch_id, organization=organization)
        return 0 if batch is None else batch.written_rows
