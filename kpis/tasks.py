"""Celery tasks of the KPI app: thin adapters that load fresh rows and call one service."""

from datetime import date

from celery import shared_task

from bsc.models import Organization
from bsc.tenancy import organization_scope
from kpis.recompute import scores_recompute as recompute


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def scores_recompute(*, organization_id: int, kpi_ids: list[int], periods: list[str]) -> int:
    """Recompute the scores that depend on these KPIs in these months (idempotent)."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0  # the organization is gone: nothing left to do
    with organization_scope(organization):
        return recompute(organization=organization, kpi_ids=kpi_ids, months={date.fromisoformat(p) for p in periods})


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def scores_recompute_units(*, organization_id: int, unit_ids: list[int]) -> int:
    """Recompute these units (every KPI and objective) and their ancestors in every month with data."""
    from kpis.recompute import data_months

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    with organization_scope(organization):
        return recompute(organization=organization, unit_ids=unit_ids, months=data_months(organization))


@shared_task(acks_late=True)
def scores_recompute_nightly() -> int:
    """Beat, nightly: rebuild every organization's scores (repairs recomputes lost between commit and
    publish). Idempotent: a second run writes the same rows."""
    from kpis.recompute import scores_recompute_full

    total = 0
    for organization in Organization.objects.all():
        with organization_scope(organization):
            total += scores_recompute_full(organization=organization)
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
