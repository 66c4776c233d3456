"""Importing 10,000 measurement rows from a CSV file through the import path (read the cells, check the rows staged
in a temporary table in SQL, keep the preview; then COPY into a staging table, one guarded upsert per chunk and the
audit events in one INSERT ... SELECT), against a bare COPY of the same rows into a scratch table in the same run."""

from __future__ import annotations

import statistics
import time
from datetime import date
from decimal import Decimal
from unittest import mock

from django.db import connection

from bsc import services
from bsc.models import Membership, OrgUnit, User
from bsc.tenancy import organization_scope
from kpis import imports
from kpis.models import ImportBatch, ImportStatus, Kpi, Measurement

NAME = "measurement_import"
TARGET = 5  # DESIGN.md section 9 (issue 20): validated and audited, at most 5 COPYs of the same rows
KPIS = 400
MONTHS = 25  # 400 KPIs x 25 months = 10,000 rows
ROUNDS = 5
SLUG = "bench-import"


def _setup():
    admin = User.objects.create_user("bench-import@example.com", "bench-pass-phrase-1", full_name="Bench Importer")
    organization = services.organization_create(slug=SLUG, name="Bench Import Inc.", admin=admin)
    unit = OrgUnit.objects.for_organization(organization).get(parent__isnull=True)
    with organization_scope(organization):
        kpis = Kpi.objects.bulk_create(
            [
                Kpi(organization=organization, unit=unit, name=f"Measure {i}", code=f"M{i:04d}", baseline=Decimal(0))
                for i in range(KPIS)
            ]
        )
    months = [date(2024 + m // 12, m % 12 + 1, 1) for m in range(MONTHS)]
    rows = [(kpi, month, f"{i % 997}.{j % 10}5") for i, kpi in enumerate(kpis) for j, month in enumerate(months)]
    membership = Membership.objects.for_organization(organization).get(user=admin)
    return organization, membership, rows


def _csv(rows, bump: int = 0) -> bytes:
    lines = ["kpi code,period,value,comment"]
    lines += [f"{kpi.code},{month:%Y-%m},{Decimal(value) + bump},Imported" for kpi, month, value in rows]
    return "\n".join(lines).encode()


def _copy_baseline(rows) -> float:
    """COPY the same rows (as the file holds them) into a fresh scratch table."""
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS import_scratch "
            "(kpi_code text, period date, value numeric(20, 6), comment text)"
        )
        cursor.execute("TRUNCATE import_scratch")
        with cursor.cursor.copy("COPY import_scratch (kpi_code, period, value, comment) FROM STDIN") as copy:
            for kpi, month, value in rows:
                copy.write_row((kpi.code, month, value, "Imported"))
    return time.perf_counter() - start


def _import(organization, membership, data: bytes) -> tuple[float, float, ImportBatch]:
    start = time.perf_counter()
    batch = imports.import_batch_preview(
        organization=organization, membership=membership, data=data, filename="bench.csv"
    )
    checked = time.perf_counter()
    ImportBatch.objects.for_organization(organization).filter(pk=batch.pk).update(status=ImportStatus.QUEUED)
    batch = imports.import_batch_run(batch_id=batch.pk, organization=organization)
    end = time.perf_counter()
    assert batch.status == ImportStatus.DONE, batch.error
    return checked - start, end - start, batch


def run() -> dict:
    organization, membership, rows = _setup()
    data = _csv(rows)
    recomputes = []
    with (
        organization_scope(organization),
        mock.patch("kpis.tasks.scores_recompute.delay", side_effect=lambda **kw: recomputes.append(kw)),
    ):
        baseline_times, measured_times, check_times = [], [], []
        for _ in range(ROUNDS):
            Measurement.objects.all().delete()  # each round inserts the 10,000 rows afresh
            baseline_times.append(_copy_baseline(rows))
            check_s, total_s, batch = _import(organization, membership, data)
            check_times.append(check_s)
            measured_times.append(total_s)
            assert batch.written_rows == len(rows) == Measurement.objects.count()
        update_check_s, update_s, updated = _import(organization, membership, _csv(rows, bump=1))
        assert updated.written_rows == len(rows) and updated.changed_rows == len(rows)
        events = Measurement.pgh_event_model.objects.filter(organization=organization).count()
    return {
        "baseline_s": statistics.median(baseline_times),
        "measured_s": statistics.median(measured_times),
        "figures": {
            "rows": len(rows),
            "file_kb": round(len(data) / 1024),
            "check_ms": round(statistics.median(check_times) * 1000),
            "write_ms": round((statistics.median(measured_times) - statistics.median(check_times)) * 1000),
            "update_all_ms": round(update_s * 1000),
            "recompute_tasks_per_import": len(recomputes) // (ROUNDS + 1),
            "audit_events": events,
        },
    }
