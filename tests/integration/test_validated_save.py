"""The one validated save (bsc/validation.py) looks a foreign key's row up only when it is not in memory as loaded,
and still refuses a key naming no row with a message."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bsc.tenancy import organization_scope
from bsc.validation import validated_save
from kpis import services
from kpis.models import Measurement

MARCH = date(2026, 3, 1)
pytestmark = pytest.mark.django_db


def existence_checks(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT 1 AS "a" FROM "')]


def test_recording_a_value_looks_up_neither_its_organization_nor_its_kpi_nor_its_author(world):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
        with CaptureQueriesContext(connection) as first:
            services.measurement_record(kpi=kpi, period=MARCH, value=Decimal(150), by=world.admin_a, schedule=False)
        with CaptureQueriesContext(connection) as change:
            services.measurement_record(
                kpi=kpi, period=MARCH, value=Decimal(160), by=world.admin_a, expected_version=1, schedule=False
            )
    # What is left is the unique (KPI, period) check of the new row and of the changed one.
    assert [sql.split(" WHERE ")[0] for sql in existence_checks(first) + existence_checks(change)] == [
        'SELECT 1 AS "a" FROM "kpis_measurement"',
        'SELECT 1 AS "a" FROM "kpis_measurement"',
    ]
    assert Measurement.objects.for_organization(world.org_a).get().value == Decimal(160)


def test_a_key_naming_no_row_is_still_refused_with_a_message(world):
    with organization_scope(world.org_a):
        kpi = services.kpi_create(unit=world.company_a, name="Orders", code="ORD", baseline=Decimal(100))
        measurement = Measurement(
            organization=world.org_a, kpi=kpi, period=MARCH, value=Decimal(1), version=1, entered_at=timezone.now()
        )
        measurement.entered_by_id = 10**9  # an id, not a row in memory: looked up
        with pytest.raises(ValidationError) as refused:
            validated_save(measurement)
    assert refused.value.message_dict == {"entered_by": [f"user instance with id {10**9} is not a valid choice."]}
    assert not Measurement.objects.for_organization(world.org_a).exists()
