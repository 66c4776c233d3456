"""Celery tasks of the coaching app: thin adapters that load fresh rows and call one service."""

from celery import shared_task

from bsc.models import Organization
from bsc.tenancy import organization_scope


@shared_task(acks_late=True)
def cadences_generate_ahead() -> int:
    """Beat, daily: keep every active cadence's sessions generated to its horizon. Idempotent (a unique
    cadence date), so a second beat or a retry adds nothing."""
    from coaching.cadences import cadence_generate_all

    total = 0
    for organization in Organization.objects.all():
        with organization_scope(organization):
            total += cadence_generate_all(organization=organization)
    return total
