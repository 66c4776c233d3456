"""A value saved in a page reaches the link evidence through real Celery workers: the recompute task publishes the
evidence task once it has written scores, and the worker stores each link's evidence."""

from datetime import date
from decimal import Decimal

import pytest

from bsc.tenancy import organization_scope
from kpis import services
from kpis.models import LinkEvidence
from tests.conftest import wait_for
from tests.integration.test_link_evidence import linked  # noqa: F401 (the fixture)

pytestmark = pytest.mark.worker


def test_a_saved_value_leads_to_stored_evidence(linked, celery_worker_process):  # noqa: F811
    world, strong, empty = linked
    with organization_scope(world.org_a):
        assert not LinkEvidence.objects.exists()
        kpi = services.kpi_create(unit=world.company_a, name="Sales", code="SAL", baseline=Decimal(0))
        services.target_set_year(kpi=kpi, fiscal_year=2026, mode="same", value=Decimal(10), by=world.admin_a)
        services.measurement_record(kpi=kpi, period=date(2026, 10, 1), value=Decimal(8), by=world.admin_a)

        def stored():
            return LinkEvidence.objects.filter(link__in=[strong, empty]).count() == 2

        wait_for(stored, message="the evidence of both links")
        assert LinkEvidence.objects.get(link=strong).best_lag is not None
